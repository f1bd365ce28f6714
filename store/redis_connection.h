// RedisConnection: one pipelined connection to Redis, built for the store's job.
//
// One Boost.Asio io_context thread connects and, while commands are in flight, reads
// the socket (TCP or Unix). Callers on any thread Execute() a command with a deadline.
// A command that finds the connection idle is written at once from the caller's thread,
// and Execute() then reads its reply itself, waiting no longer than its deadline: one
// wake-up of the caller per round trip, none of the io thread. Commands that arrive
// behind others queue up and go out together in one write (auto-pipelining): behind
// unanswered commands, by whoever reads their replies, right after it has read them (the
// io thread, or a caller reading its own), so nobody is woken just to write; otherwise by
// the io thread, woken once for all of them. Their callers wait on a OneShot
// (one_shot.h), and whoever reads completes them. When nothing is in flight the io thread
// stops watching the socket, so the next caller can read its own reply; a server that
// closed the idle connection is noticed before that caller's command is sent. What is
// written, which reply answers which command and what a lost connection fails is decided
// by RedisMultiplexer, which owns no socket; this class moves the bytes, connects and
// reconnects. hiredis is used only to parse RESP.
//
// It connects lazily, on the first command, and after a failure reconnects on the next
// command at most once per backoff period; while it may not reconnect, commands fail at
// once. On connect it sends AUTH (when the URL has a password) and SELECT, and with
// Options::warn reads maxmemory-policy (MaxmemoryPolicyWatch). A lost
// connection fails every pending command with kUnavailable; a caller whose deadline passes
// gets kTimeout and its late reply is dropped (the pending entry owns its completion). A
// server that stops answering without closing is dropped after Options::stall_timeout.
//
// With a redis+sentinel:// URL every connect first asks the sentinels for the master's
// address (SentinelResolver; each sentinel within Options::sentinel_timeout), then
// connects there and pipelines ROLE after AUTH/SELECT: a server that is not a master fails
// the connection. So do a lost connection and a READONLY or NOREPLICAS reply (the master
// was demoted, or lost its replicas to a new one), and the next command — subject to the
// same backoff — rediscovers the master: that is how a failover is followed. Callers still
// wait no longer than their deadline. (No +switch-master subscription: an old master that
// stays up and writable keeps our writes until sentinels demote it; see README.)
// Thread-safety: Execute() may be called from any number of threads at once; the
// destructor must not race with Execute().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "floodgate/result.h"
#include "store/redis_reply.h"
#include "store/redis_url.h"

namespace floodgate::store {

using Deadline = std::chrono::steady_clock::time_point;

// When the io thread may try to connect: on demand, at most once per backoff. A pure
// value type so the reconnect rule is tested without a server.
class ReconnectGate {
 public:
  explicit ReconnectGate(std::chrono::milliseconds backoff) : backoff_(backoff) {}
  // True when a connect may start at `now`; remembers the attempt. A connection that
  // lived longer than the backoff may thus be replaced at once when it fails.
  bool TryAttempt(Deadline now);

 private:
  std::chrono::milliseconds backoff_;
  std::optional<Deadline> last_attempt_;
};

class RedisConnection {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds reconnect_backoff{100};
    // A connected server whose oldest unanswered command is this far past its deadline
    // is considered hung: the next command drops the connection and reconnects.
    std::chrono::milliseconds stall_timeout{2000};
    // Sentinel URLs: how long one sentinel may take to name the master.
    std::chrono::milliseconds sentinel_timeout{250};
    // Where operational warnings go (runs on the io thread, must not block). When set,
    // every connect also reads maxmemory-policy and says here, once per change, when it
    // may evict floodgate's keys or cannot be read (MaxmemoryPolicyWatch).
    std::function<void(const std::string&)> warn;
  };

  // Starts the io thread; does not connect yet.
  RedisConnection(RedisUrl url, Options options);
  explicit RedisConnection(RedisUrl url) : RedisConnection(std::move(url), Options{}) {}
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends `argv` and waits for its reply until `deadline`. A Redis error reply is a
  // successful RedisReply with type kError; transport failures are Errors (kUnavailable,
  // kTimeout).
  Result<RedisReply> Execute(const std::vector<std::string>& argv, Deadline deadline);
  // The same for a command already encoded (CommandWriter): the hot path builds its
  // command straight into RESP.
  Result<RedisReply> ExecuteEncoded(std::string wire, Deadline deadline);
  // Sends an encoded command without waiting: `done` runs with what Execute would have
  // returned, on the io thread or on a thread inside Execute() that read this reply with
  // its own. It must not block; it may Submit() again. Pending callbacks run (with an
  // error) before the destructor returns.
  using Callback = std::function<void(Result<RedisReply>)>;
  void Submit(std::string wire, Deadline deadline, Callback done);
  // Starts connecting now rather than on the first command (when not connected and the
  // backoff allows); returns at once.
  void Connect();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floodgate::store
