// RedisConnection: one pipelined connection to Redis, built for the store's job.
//
// One Boost.Asio io_context thread owns the socket (TCP or Unix). Callers on any thread
// Execute() a command with a deadline and block on a future; commands that arrive while a
// write is in flight go out together in the next write (auto-pipelining), and replies are
// matched to them in FIFO order. hiredis is used only to encode commands and parse RESP.
//
// It connects lazily, on the first command, and after a failure reconnects on the next
// command at most once per backoff period; while it may not reconnect, commands fail at
// once. On connect it sends AUTH (when the URL has a password) and SELECT. A lost
// connection fails every pending command with kUnavailable; a caller whose deadline passes
// gets kTimeout and its late reply is dropped (the pending entry owns its promise). A
// server that stops answering without closing is dropped after Options::stall_timeout.
// Thread-safety: Execute() may be called from any number of threads at once; the
// destructor must not race with Execute().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "floodgate/result.h"
#include "store/redis_url.h"

namespace floodgate::store {

// An owned copy of one RESP reply.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
};

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
  };

  // Starts the io thread; does not connect yet. `url` must be kTcp or kUnix.
  RedisConnection(RedisUrl url, Options options);
  explicit RedisConnection(RedisUrl url) : RedisConnection(std::move(url), Options{}) {}
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends `argv` and waits for its reply until `deadline`. A Redis error reply is a
  // successful RedisReply with type kError; transport failures are Errors (kUnavailable,
  // kTimeout).
  Result<RedisReply> Execute(const std::vector<std::string>& argv, Deadline deadline);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Encodes argv as one RESP command (hiredis redisFormatCommandArgv).
std::string EncodeCommand(const std::vector<std::string>& argv);

}  // namespace floodgate::store
