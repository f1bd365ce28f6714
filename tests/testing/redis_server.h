// RedisServer: a real, throw-away redis-server for integration tests.
//
// Start() launches `redis-server` (the REDIS_SERVER environment variable, else the one in
// PATH) in a fresh temporary directory, listening on a Unix socket there and, if asked, on
// a free 127.0.0.1 TCP port; no persistence. It returns once the server answers PING, or an
// Error naming what went wrong (tests ASSERT on it: a missing redis-server fails, never
// skips). Kill() simulates a crash (SIGKILL), Restart() brings the same server back on the
// same socket and port (empty). The destructor kills it and removes the directory.
// Options::extra_args make a replica (`--replicaof 127.0.0.1 PORT`); sentinel_config makes
// a Redis Sentinel (`redis-server sentinel.conf --sentinel`, the file written in its
// directory, where the sentinel may rewrite it).
// Thread-safety: one thread drives a RedisServer; RedisCli may be called from any thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "floodgate/result.h"

namespace floodgate::testing {

class RedisServer {
 public:
  struct Options {
    bool tcp = true;                        // also listen on a free TCP port
    std::string password{};                 // --requirepass when not empty
    std::vector<std::string> extra_args{};  // appended to the command line
    std::string sentinel_config{};          // not empty: run as a sentinel with this config
  };

  static Result<std::unique_ptr<RedisServer>> Start(Options options);
  static Result<std::unique_ptr<RedisServer>> Start() { return Start(Options{}); }
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // "unix:///tmp/.../redis.sock?db=N" / "redis://127.0.0.1:port/N", with the password.
  std::string unix_url(int db = 0) const;
  std::string tcp_url(int db = 0) const;
  int port() const { return port_; }
  const std::string& socket_path() const { return socket_path_; }

  void Kill();       // SIGKILL and reap; a no-op when not running
  void Pause();      // SIGSTOP: connections stay open, nothing answers (a hung server)
  void Resume();     // SIGCONT
  Status Restart();  // Kill() if running, then start again and wait for PING

  // Runs `redis-cli -s <socket> [-a password] -n db args...` and returns its stdout with
  // the trailing newline removed.
  Result<std::string> RedisCli(const std::vector<std::string>& args, int db = 0) const;

 private:
  explicit RedisServer(Options options) : options_(std::move(options)) {}
  Status Launch();
  Status WaitReady();

  Options options_;
  std::string dir_;
  std::string socket_path_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace floodgate::testing
