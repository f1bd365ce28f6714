// ReadOwnership: who reads the socket of one pipelined Redis connection at any moment,
// and how that passes between the io thread and a caller doing its own round trip. It
// owns no socket, thread or clock: the transport (RedisConnection) reports what happened
// and carries out the Steps it gets back; every transition is unit-tested without a
// server.
//
// At most one party reads. The io thread reads (kIo) from the moment a connection is up
// until nothing is in flight; then nobody does (kNobody) and the descriptor is out of the
// io thread's reactor, so that a caller that finds the connection idle can claim the read
// side (kCaller), write its command and read its reply itself, with its own deadline. A
// command added meanwhile by anyone else needs no hand-over: the caller keeps reading
// until its own reply is in (or its deadline passes, or the read fails) and then gives
// the read side back, to the io thread if anything is still due, else to nobody. A lost
// connection takes the read side from whoever holds it (kDown): a reading caller is woken
// (the transport shuts the descriptor down) and closes the descriptor itself when it
// returns, since it alone still uses it; its claim is stale from then on, whatever
// connection comes next. The rest of a partial write is written by the io thread, which
// must own the read side to do so (its async write and read share one socket object): it
// waits while a caller reads, until the caller gives the read side back.
//
// Thread-safety: none; the transport calls it under its lock.
#pragma once

#include <cstdint>
#include <optional>

namespace floodgate::store {

class ReadOwnership {
 public:
  enum class Reader {
    kDown,     // no connection (connecting, or failed): nobody reads
    kIo,       // the io thread: the descriptor is in its reactor, a read is pending
    kCaller,   // a caller that claimed the idle connection reads its own reply
    kNobody,   // connected, nothing in flight: nobody reads, nobody watches
    kFailing,  // a failure was found and the connection is being failed: nobody reads
  };

  // A caller's hold on the read side of one connection.
  struct Claim {
    std::uint64_t connection = 0;
  };

  // What the transport must do after an event, in this order.
  struct Steps {
    bool start_io_read = false;  // hand the descriptor to the io thread and start a read
    bool read_again = false;     // the io thread starts its next read
    bool park = false;           // take the descriptor out of the io thread's reactor
    bool write_rest = false;     // the io thread writes the rest of the partial write now
    bool fail = false;           // have the io thread fail the connection
    bool wake_caller = false;    // shutdown(2) the descriptor: the reading caller returns
    bool close = false;          // the caller closes its descriptor (its connection is gone)
    friend bool operator==(const Steps&, const Steps&) = default;
  };

  Reader reader() const { return reader_; }

  // A connection is up; its handshake is in flight, so the io thread reads.
  void Connected();

  // A caller that found the connection idle (nobody reading, nothing in flight, waiting
  // or being written) and then wrote its command whole asks for the read side; it gets
  // it only from kNobody.
  std::optional<Claim> TryClaim();
  // Whether `claim` still holds the read side: false once the connection it was made for
  // is gone (the bytes it read then belong to nobody).
  bool Holds(const Claim& claim) const;
  // The caller stops reading: its reply is in, its deadline passed, or it never read (its
  // write was partial, or the idle socket already had something to read). `busy`:
  // anything is still in flight, waiting or being written. A stale claim gets `close`.
  Steps Release(const Claim& claim, bool busy);
  // The caller's read or write failed (`fail`), or a stale claim (`close`).
  Steps Failed(const Claim& claim);

  // Something must be read that no caller will read: a command was added whose caller
  // does not read, or the idle socket has bytes nobody asked for.
  Steps NeedReader();
  // The io thread finished a read that failed nothing; `busy` as for Release().
  Steps IoReadDone(bool busy);
  // The io thread has the rest of a partial write to send.
  Steps RestToWrite();
  // The io thread's hold on the read side failed (the transport could not register or
  // release the descriptor), or the idle socket was found closed: the connection must go.
  // A caller's claim is never broken from outside: it ends with Release() or Failed().
  Steps Broken();
  // The connection is gone (failed, closed, or replaced). Claims made before are stale.
  Steps Lost();

 private:
  Reader reader_ = Reader::kDown;
  std::uint64_t connection_ = 0;  // counts Lost(): a claim names the connection it holds
  bool rest_waits_ = false;       // RestToWrite() came while a caller read
};

}  // namespace floodgate::store
