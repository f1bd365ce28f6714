// RedisMultiplexer: the part of a pipelined Redis connection that owns no socket, no
// thread and no clock — which commands wait to be written, which bytes are written and
// which are not, which reply answers which command, and what a lost connection does to
// the commands in flight. The transport (RedisConnection) moves bytes and calls it; every
// rule is unit-tested here byte by byte, without a server.
//
// A command is Add()ed to the waiting queue. PrepareWrite() moves every waiting command
// into one write buffer (auto-pipelining; commands whose deadline has passed are dropped
// unsent with kTimeout) and returns the bytes still to write; CommitWrite(n) records that
// the transport wrote n of them. The buffer is not touched again until all of it is
// written, so a transport may write from it while others Add(). Bytes read are Feed()
// to hiredis' parser; each complete reply answers the oldest command written (FIFO).
//
// Replies that fail the connection (the transport must then call LoseConnection()):
// an error reply to a handshake command (AUTH, SELECT), a ROLE reply that is not
// "master", a reply nobody asked for, bad RESP, and — with `follow_failover` — a READONLY
// or NOREPLICAS error reply (the master was demoted), which still goes to its command.
// LoseConnection() fails every command written or waiting with kUnavailable, and
// forgets any half-read reply.
//
// Completions are returned, never run: the transport runs them outside its lock (they may
// Add() again).
// Thread-safety: none. The transport serializes every call under its lock, except that
// Feed() and NextReply() touch only the parser, so the one thread that reads may call
// them without the lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "floodgate/result.h"
#include "store/redis_reply.h"

namespace floodgate::store {

class RedisMultiplexer {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  using Callback = std::function<void(Result<RedisReply>)>;

  // What a reply to the command means beyond being its answer.
  enum class Check {
    kNone,       // an ordinary command: every reply goes to its callback
    kHandshake,  // AUTH, SELECT: an error reply fails the connection
    kRole,       // ROLE: a server that is not a master fails the connection
  };

  struct Command {
    std::string wire;  // one encoded command (CommandWriter, EncodeCommand)
    Deadline deadline;
    Callback done;  // may be empty (the reply is only checked)
    Check check = Check::kNone;
    const char* name = "";  // for the failure message of a checked command ("AUTH")
  };

  // A callback to run with its outcome.
  struct Completion {
    Callback done;
    Result<RedisReply> result;
    void Run() {
      if (done) done(std::move(result));
    }
  };

  // What one reply did: the command it completed, and whether the connection must go.
  struct ReplyOutcome {
    std::optional<Completion> completion;
    std::optional<std::string> fail;  // why, when the connection must be dropped
  };

  // `follow_failover`: a sentinel-discovered master; READONLY/NOREPLICAS fail the
  // connection so the transport rediscovers the master.
  explicit RedisMultiplexer(bool follow_failover = false) : follow_failover_(follow_failover) {}

  // A new connection to `where` ("host:port", for messages) is up: `handshake` goes out
  // before every command waiting for it.
  void Connected(std::string where, std::vector<Command> handshake);

  void Add(Command command);

  // The bytes to write next (empty when there are none). When the last buffer is all
  // written, the waiting commands are moved into a new one; those whose deadline passed
  // by `now` go to `expired` (kTimeout) instead, unsent.
  std::string_view PrepareWrite(Deadline now, std::vector<Completion>& expired);
  // The bytes of the current buffer not yet written (PrepareWrite() without refilling).
  std::string_view Unwritten() const {
    return std::string_view(write_buffer_).substr(write_offset_);
  }
  // The transport wrote the first `n` bytes PrepareWrite() returned.
  void CommitWrite(std::size_t n);

  // Parser only: bytes as they arrive, then whole replies out (nullopt: need more bytes;
  // an Error: bad RESP, the connection must go).
  Status Feed(const char* data, std::size_t n);
  Result<std::optional<RedisReply>> NextReply();
  // Matches one reply to the oldest command written.
  ReplyOutcome OnReply(RedisReply reply);
  // Feed() + NextReply() + OnReply() for every complete reply in `data`: completions are
  // appended to `done`; stops at the first reply that fails the connection and returns why.
  std::optional<std::string> Consume(const char* data, std::size_t n,
                                     std::vector<Completion>& done);

  // The connection is gone: every command written or waiting fails with kUnavailable
  // ("redis: <why>"), in the order they were added; the parser forgets half a reply.
  std::vector<Completion> LoseConnection(const std::string& why);

  // The oldest unanswered command written was due more than `grace` before `now`: the
  // server is hung.
  bool Stalled(Deadline now, std::chrono::milliseconds grace) const;

  std::size_t in_flight() const { return in_flight_.size(); }  // written (or being written)
  std::size_t waiting() const { return waiting_.size(); }      // not yet in a write buffer
  bool writing() const { return write_offset_ < write_buffer_.size(); }

 private:
  struct Pending {
    Deadline deadline;
    Callback done;
    Check check;
    const char* name;
  };

  const bool follow_failover_;
  std::string where_ = "redis";
  std::deque<Command> waiting_;
  std::deque<Pending> in_flight_;
  std::string write_buffer_;
  std::size_t write_offset_ = 0;  // bytes of write_buffer_ written
  ReplyReader reader_;
};

}  // namespace floodgate::store
