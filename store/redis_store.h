// RedisStore: the CounterStore shared by every floodgate host, kept in Redis.
//
// Check() is one EVALSHA of store/check.lua (compiled in), which applies the whole
// contract of counter_store.h atomically with Redis' own clock; if Redis answers NOSCRIPT
// (restart, SCRIPT FLUSH, failover) the script is loaded and the call retried once.
// Append() is one EVALSHA of a small list script, sent again as EVAL on NOSCRIPT. Every
// call has a deadline of timeout_ms in total; the connection is opened lazily, so a store
// can be opened while Redis is down (calls then fail with kUnavailable / kTimeout).
//
// Layout, per LimitCheck (all keys of a subject share its {hash tag}):
//   <key>                 hash: t<period_us> TAT, r<period_us> reported until,
//                         n<period_us> refused units since; PEXPIREs when all is past
//   <lock_key>            string: the lock reason, with a TTL ("SET k admin PX ms" locks)
//   <lock_key>:networks   sorted set: client network -> last seen (us)
//   Append()'s lists      LPUSH + LTRIM + PEXPIRE in one small script
// and one key of its own, outside every subject's slot:
//   <key_prefix>locks     sorted set, the lock index: lock key -> when it expires (Redis
//                         ms; +inf for a lock without TTL)
//
// The lock index makes CountActiveLocks() cheap: no SCAN of the key space. check.lua may
// touch one subject's keys only (one Cluster hash slot), so the index is not written
// there: when a Check reports newly_locked, Check() submits the ZADD right after the
// reply, without waiting for it (the SMTP path never does), and floodgatectl lock/unlock
// call IndexLock()/UnindexLock(). Every write also drops expired members, so the index
// holds about the live locks even when nobody scrapes. CountActiveLocks() drops expired
// members and counts the rest (one small script), then checks with one pipelined EXISTS
// per member (at most kLocksVerified) that each lock key is still there, so a lock
// deleted behind floodgate's back (redis-cli DEL, eviction) is not counted even when it
// had no TTL. Its cost is one round trip for the script plus one for the EXISTS batch,
// both under timeout_ms. Known gaps, all undercounts: a lock whose background ZADD failed
// (Redis failing right after the check) and locks made by a floodgate that predates the
// index, until they expire or are made again.
// Thread-safety: all methods may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "floodgate/counter_store.h"
#include "floodgate/store_layout.h"
#include "store/redis_connection.h"
#include "store/redis_url.h"

namespace floodgate::store {

class RedisStore final : public CounterStore {
 public:
  // Parses `url` (see redis_url.h); does not connect yet. With a redis+sentinel:// URL
  // the master is discovered through the sentinels and followed across failovers (see
  // redis_connection.h). `key_prefix` (store.key_prefix) names the lock index. With
  // `warn` (the daemon's log; it runs on the connection's io thread) it connects at once
  // and says there when Redis' maxmemory-policy may evict floodgate's keys, at start and
  // whenever a reconnect finds it changed (see maxmemory_policy.h).
  using Warn = std::function<void(const std::string&)>;
  static Result<std::unique_ptr<RedisStore>> Open(const std::string& url, int timeout_ms,
                                                  const std::string& key_prefix = "fg:",
                                                  Warn warn = {});

  // Lock key members of the index verified per CountActiveLocks() (the soonest to
  // expire); members beyond are counted as the index says.
  static constexpr std::size_t kLocksVerified = 1000;

  Result<CheckOutcome> Check(const std::vector<LimitCheck>& checks) override;
  Status Reset(const std::string& key) override;
  Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                Micros ttl_us) override;
  // Pipelined with everything else, without a waiting thread; `done` runs on the io thread.
  void AppendInBackground(const std::string& key, const std::string& value, std::size_t max_len,
                          Micros ttl_us, std::function<void(Status)> done) override;
  Result<std::int64_t> CountActiveLocks() override;
  const char* name() const override { return "redis"; }

  // The lock index (see above), for floodgatectl: `lock_key` was locked for `ttl_us`
  // (<= 0: until unlocked), and was unlocked.
  Status IndexLock(const std::string& lock_key, Micros ttl_us);
  Status UnindexLock(const std::string& lock_key);
  const std::string& lock_index_key() const { return lock_index_key_; }

  // Health check: "PONG", or why not.
  Result<std::string> Ping();
  // Any command, for the admin tool (HGETALL, SCAN, ...). Error replies are returned as
  // replies (type kError); only transport failures are Errors.
  Result<RedisReply> Command(std::vector<std::string> argv);
  Result<RedisReply> Command(std::vector<std::string> argv, std::chrono::milliseconds timeout);

  // The items of a list written by Append(), newest first (admin tool, tests).
  Result<std::vector<std::string>> List(const std::string& key);

  // The key holding `lock_key`'s distinct-network set.
  static std::string NetworksKey(const std::string& lock_key) {
    return lock_key + std::string(layout::kNetworksSuffix);
  }
  // The key holding `lock_key`'s distinct-recipient-domain set.
  static std::string DomainsKey(const std::string& lock_key) {
    return lock_key + std::string(layout::kDomainsSuffix);
  }

 private:
  // A Lua script and its SHA1, which is how EVALSHA names it (Redis hashes the same text).
  struct LuaScript {
    const char* text;
    std::string sha;
  };

  RedisStore(RedisUrl url, std::chrono::milliseconds timeout, std::string lock_index_key,
             Warn warn);
  // Runs `command` (an encoded EVALSHA of script.sha); on NOSCRIPT loads the script and
  // retries once.
  Result<RedisReply> RunScript(const LuaScript& script, const std::string& command,
                               Deadline deadline);

  // The append script's EVALSHA (by_sha) or EVAL command.
  std::string AppendCommand(bool by_sha, const std::string& key, const std::string& value,
                            std::size_t max_len, Micros ttl_us) const;
  // The EVAL that adds (lock key, ttl_us) pairs to the lock index.
  std::string IndexLocksCommand(const std::vector<std::pair<std::string, Micros>>& locks) const;
  // How many of `keys` do not exist: one pipelined EXISTS each, all within `deadline`.
  Result<std::int64_t> CountMissing(const std::vector<RedisReply>& keys, Deadline deadline);

  std::chrono::milliseconds timeout_;
  const std::string lock_index_key_;
  const LuaScript check_;
  const LuaScript append_;
  // Last: destroyed first, so callbacks it completes on the way out still see the scripts.
  RedisConnection conn_;
};

}  // namespace floodgate::store
