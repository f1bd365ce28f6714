// RedisStore: the CounterStore shared by every floodgate host, kept in Redis.
//
// Check() is one EVALSHA of store/check.lua (compiled in), which applies the whole
// contract of counter_store.h atomically with Redis' own clock; Append() is one EVALSHA
// of a small list script. If Redis answers NOSCRIPT (restart, SCRIPT FLUSH, failover) the
// script is loaded and the call retried once. Every
// call has a deadline of timeout_ms in total; the connection is opened lazily, so a store
// can be opened while Redis is down (calls then fail with kUnavailable / kTimeout).
//
// Layout, per LimitCheck (all keys of a subject share its {hash tag}):
//   <key>                 hash: t<period_us> TAT, r<period_us> reported until,
//                         n<period_us> refused units since; PEXPIREs when all is past
//   <lock_key>            string: the lock reason, with a TTL ("SET k admin PX ms" locks)
//   <lock_key>:networks   sorted set: client network -> last seen (us)
//   Append()'s lists      LPUSH + LTRIM + PEXPIRE in one small script
// Thread-safety: all methods may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "floodgate/counter_store.h"
#include "store/redis_connection.h"
#include "store/redis_url.h"

namespace floodgate::store {

class RedisStore final : public CounterStore {
 public:
  // Parses `url` (see redis_url.h); does not connect yet. With a redis+sentinel:// URL
  // the master is discovered through the sentinels and followed across failovers (see
  // redis_connection.h).
  static Result<std::unique_ptr<RedisStore>> Open(const std::string& url, int timeout_ms);

  Result<CheckOutcome> Check(const std::vector<LimitCheck>& checks) override;
  Status Reset(const std::string& key) override;
  Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                Micros ttl_us) override;
  // Pipelined with everything else, without a waiting thread; `done` runs on the io thread.
  void AppendInBackground(const std::string& key, const std::string& value, std::size_t max_len,
                          Micros ttl_us, std::function<void(Status)> done) override;
  const char* name() const override { return "redis"; }

  // Health check: "PONG", or why not.
  Result<std::string> Ping();
  // Any command, for the admin tool (HGETALL, SCAN, ...). Error replies are returned as
  // replies (type kError); only transport failures are Errors.
  Result<RedisReply> Command(std::vector<std::string> argv);
  Result<RedisReply> Command(std::vector<std::string> argv, std::chrono::milliseconds timeout);

  // The items of a list written by Append(), newest first (admin tool, tests).
  Result<std::vector<std::string>> List(const std::string& key);

  // The key holding `lock_key`'s distinct-network set.
  static std::string NetworksKey(const std::string& lock_key) { return lock_key + ":networks"; }

 private:
  // A Lua script and its SHA1, which is how EVALSHA names it (Redis hashes the same text).
  struct LuaScript {
    const char* text;
    std::string sha;
  };

  RedisStore(RedisUrl url, std::chrono::milliseconds timeout);
  // Runs `command` (an encoded EVALSHA of script.sha); on NOSCRIPT loads the script and
  // retries once.
  Result<RedisReply> RunScript(const LuaScript& script, const std::string& command,
                               Deadline deadline);

  // The append script's EVALSHA (by_sha) or EVAL command.
  std::string AppendCommand(bool by_sha, const std::string& key, const std::string& value,
                            std::size_t max_len, Micros ttl_us) const;

  std::chrono::milliseconds timeout_;
  const LuaScript check_;
  const LuaScript append_;
  // Last: destroyed first, so callbacks it completes on the way out still see the scripts.
  RedisConnection conn_;
};

}  // namespace floodgate::store
