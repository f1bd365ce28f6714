#include "store/redis_store.h"

#include <algorithm>
#include <boost/uuid/detail/sha1.hpp>
#include <cstdio>
#include <future>
#include <mutex>
#include <optional>

#include "check_lua.h"

namespace floodgate::store {
namespace {

// SHA1 of the script as EVALSHA names it. (If this ever disagreed with Redis, the first
// NOSCRIPT reply's SCRIPT LOAD would hand us Redis' own.)
std::string ScriptSha1(const char* script) {
  boost::uuids::detail::sha1 sha;
  sha.process_bytes(script, std::char_traits<char>::length(script));
  unsigned int digest[5];
  sha.get_digest(digest);
  char hex[41];
  for (int i = 0; i < 5; ++i) std::snprintf(hex + 8 * i, 9, "%08x", digest[i]);
  return std::string(hex, 40);
}

// A check that names the subject's domain set in KEYS (check.lua reads it then).
bool HasDomains(const LimitCheck& c) { return !c.lock_key.empty() && c.max_domains > 0; }

// The EVALSHA of check.lua for `checks`, written straight into RESP (see check.lua for
// the layout of KEYS and ARGV).
std::string EvalshaCommand(const std::string& sha, const std::vector<LimitCheck>& checks) {
  constexpr std::size_t kArgsPerCheck = 14, kArgsPerWindow = 7;
  std::size_t keys = 0, args = 1;
  for (const LimitCheck& c : checks) {
    keys += (c.lock_key.empty() ? 1 : HasDomains(c) ? 4 : 3) + (c.hold_max > 0 ? 1 : 0);
    args += kArgsPerCheck + kArgsPerWindow * c.windows.size() + c.domains.size();
  }
  CommandWriter w(3 + keys + args, 64 * (keys + args));
  w.Arg("EVALSHA").Arg(sha).Arg(static_cast<std::int64_t>(keys));
  for (const LimitCheck& c : checks) {
    w.Arg(c.key);
    if (!c.lock_key.empty()) {
      w.Arg(c.lock_key).Arg(RedisStore::NetworksKey(c.lock_key));
      if (HasDomains(c)) w.Arg(RedisStore::DomainsKey(c.lock_key));
    }
    if (c.hold_max > 0) w.Arg(c.held_key);
  }
  w.Arg(static_cast<std::int64_t>(checks.size()));
  for (const LimitCheck& c : checks) {
    w.Arg(c.cost)
        .Arg(std::int64_t{c.strict})
        .Arg(std::int64_t{c.advisory})
        .Arg(std::int64_t{!c.lock_key.empty()})
        .Arg(static_cast<std::int64_t>(c.windows.size()))
        .Arg(c.lock_ttl_us)
        .Arg(c.max_networks)
        .Arg(c.networks_window_us)
        .Arg(c.network)
        .Arg(c.hold_max)
        .Arg(c.adaptive_factor_milli)
        .Arg(c.max_domains)
        .Arg(c.domains_window_us)
        .Arg(static_cast<std::int64_t>(c.domains.size()));
    for (const WindowSpec& win : c.windows) {
      w.Arg(win.period_us).Arg(win.emission_us).Arg(win.tolerance_us).Arg(win.lock_threshold);
      w.Arg(win.amount).Arg(win.floor_amount).Arg(win.rise_ppm);
    }
    for (const std::string& d : c.domains) w.Arg(d);
  }
  return w.Take();
}

// Reads the script's flat reply (see check.lua) back into a CheckOutcome.
Result<CheckOutcome> Decode(const RedisReply& reply, const std::vector<LimitCheck>& checks) {
  const Error bad(ErrorKind::kInternal, "redis: unexpected reply from check.lua");
  if (reply.type != RedisReply::Type::kArray) return bad;
  const auto& e = reply.elements;
  std::size_t at = 0;
  auto next_int = [&](std::int64_t& out) {
    if (at >= e.size() || e[at].type != RedisReply::Type::kInteger) return false;
    out = e[at++].integer;
    return true;
  };
  auto next_bool = [&](bool& out) {
    std::int64_t v = 0;
    if (!next_int(v)) return false;
    out = v != 0;
    return true;
  };
  CheckOutcome out;
  if (!next_bool(out.allowed)) return bad;
  out.limits.resize(checks.size());
  for (std::size_t i = 0; i < checks.size(); ++i) {
    LimitOutcome& lo = out.limits[i];
    if (!next_bool(lo.allowed) || !next_bool(lo.locked) || !next_bool(lo.newly_locked)) {
      return bad;
    }
    if (at >= e.size() || e[at].type != RedisReply::Type::kString) return bad;
    lo.lock_reason = e[at++].str;
    if (!next_int(lo.refused_units) || !next_bool(lo.hold_full)) return bad;
    lo.windows.resize(checks[i].windows.size());
    for (WindowOutcome& wo : lo.windows) {
      if (!next_bool(wo.refused) || !next_bool(wo.first_refusal) || !next_int(wo.retry_after_us) ||
          !next_int(wo.amount) || !next_bool(wo.adapted)) {
        return bad;
      }
    }
  }
  if (at != e.size()) return bad;
  return out;
}

// Append(): push, trim and refresh the TTL of a capped list.
constexpr const char* kAppendLua =
    "redis.call('LPUSH', KEYS[1], ARGV[1]) "
    "redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[3]) return 1";

// The lock index (see redis_store.h). Both scripts touch KEYS[1] alone and read Redis'
// clock, like check.lua, so every host agrees on what has expired. They are rare (a lock,
// a scrape) and short, so they go as EVAL: Redis caches them, and no NOSCRIPT path is needed.
// Add: ARGV holds pairs (lock key, ttl in ms, 0 for none). A score is never earlier than the
// lock's own expiry: the lock was set before, with the same TTL.
constexpr const char* kIndexLocksLua =
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) "
    "for i = 1, #ARGV, 2 do "
    "  local ttl = tonumber(ARGV[i + 1]) "
    "  local at = ttl > 0 and string.format('%.0f', now + ttl) or '+inf' "
    "  redis.call('ZADD', KEYS[1], at, ARGV[i]) "
    "end "
    "return 1";
// Count: drops expired members; returns {members left, the first ARGV[1] of them}.
constexpr const char* kCountLocksLua =
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) "
    "return {redis.call('ZCARD', KEYS[1]), "
    "        redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)}";

Status ToStatus(const Result<RedisReply>& reply) {
  if (!reply.ok()) return reply.error();
  if (reply->is_error()) return Error(ErrorKind::kUnavailable, "redis: " + reply->str);
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<RedisStore>> RedisStore::Open(const std::string& url, int timeout_ms,
                                                     const std::string& key_prefix, Warn warn) {
  if (timeout_ms <= 0) return Error(ErrorKind::kInvalid, "redis: timeout_ms must be positive");
  auto parsed = ParseRedisUrl(url);
  if (!parsed.ok()) return parsed.error();
  const bool connect_now = static_cast<bool>(warn);
  std::unique_ptr<RedisStore> store(
      new RedisStore(std::move(parsed).value(), std::chrono::milliseconds(timeout_ms),
                     key_prefix + std::string(layout::kLockIndexKey), std::move(warn)));
  // With someone to warn, the maxmemory-policy check happens at start, not at the first mail.
  if (connect_now) store->conn_.Connect();
  return store;
}

namespace {

RedisConnection::Options ConnectionOptions(RedisStore::Warn warn) {
  RedisConnection::Options options;
  options.warn = std::move(warn);
  return options;
}

}  // namespace

RedisStore::RedisStore(RedisUrl url, std::chrono::milliseconds timeout, std::string lock_index_key,
                       Warn warn)
    : timeout_(timeout),
      lock_index_key_(std::move(lock_index_key)),
      check_{kCheckLua, ScriptSha1(kCheckLua)},
      append_{kAppendLua, ScriptSha1(kAppendLua)},
      conn_(std::move(url), ConnectionOptions(std::move(warn))) {}

Result<RedisReply> RedisStore::RunScript(const LuaScript& script, const std::string& command,
                                         Deadline deadline) {
  Result<RedisReply> reply = conn_.ExecuteEncoded(command, deadline);
  if (reply.ok() && reply->is_error() && reply->str.starts_with("NOSCRIPT")) {
    // The script cache is empty (restart, SCRIPT FLUSH, failover): load it, retry once.
    Result<RedisReply> load = conn_.Execute({"SCRIPT", "LOAD", script.text}, deadline);
    if (!load.ok()) return load.error();
    if (load->type != RedisReply::Type::kString || load->str != script.sha) {
      return Error(ErrorKind::kUnavailable, "redis: SCRIPT LOAD failed: " + load->str);
    }
    reply = conn_.ExecuteEncoded(command, deadline);
  }
  return reply;
}

Result<CheckOutcome> RedisStore::Check(const std::vector<LimitCheck>& checks) {
  if (checks.empty()) return CheckOutcome{};
  const Deadline deadline = std::chrono::steady_clock::now() + timeout_;
  Result<RedisReply> reply = RunScript(check_, EvalshaCommand(check_.sha, checks), deadline);
  if (!reply.ok()) return reply.error();
  if (reply->is_error()) return Error(ErrorKind::kUnavailable, "redis: " + reply->str);
  Result<CheckOutcome> outcome = Decode(*reply, checks);
  if (!outcome.ok()) return outcome;
  // New locks go into the lock index in the background: nobody waits, and a failure only
  // leaves the gauge one short until the lock expires (see redis_store.h).
  std::vector<std::pair<std::string, Micros>> locked;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const LimitCheck& c = checks[i];
    if (outcome->limits[i].newly_locked && !c.lock_key.empty() && c.lock_ttl_us > 0) {
      locked.emplace_back(c.lock_key, c.lock_ttl_us);  // check.lua set it with this TTL
    }
  }
  if (!locked.empty()) {
    conn_.Submit(IndexLocksCommand(locked), std::chrono::steady_clock::now() + timeout_,
                 [](const Result<RedisReply>&) {});
  }
  return outcome;
}

std::string RedisStore::IndexLocksCommand(
    const std::vector<std::pair<std::string, Micros>>& locks) const {
  CommandWriter w(4 + 2 * locks.size());
  w.Arg("EVAL").Arg(kIndexLocksLua).Arg("1").Arg(lock_index_key_);
  for (const auto& [lock_key, ttl_us] : locks) {
    // Milliseconds rounded up, as check.lua and SET ... PX set them.
    w.Arg(lock_key).Arg(ttl_us > 0 ? std::max<Micros>(1, (ttl_us + 999) / 1000) : 0);
  }
  return w.Take();
}

Status RedisStore::IndexLock(const std::string& lock_key, Micros ttl_us) {
  return ToStatus(conn_.ExecuteEncoded(IndexLocksCommand({{lock_key, ttl_us}}),
                                       std::chrono::steady_clock::now() + timeout_));
}

Status RedisStore::UnindexLock(const std::string& lock_key) {
  return ToStatus(Command({"ZREM", lock_index_key_, lock_key}));
}

Result<std::int64_t> RedisStore::CountActiveLocks() {
  const Deadline deadline = std::chrono::steady_clock::now() + timeout_;
  Result<RedisReply> reply = conn_.Execute(
      {"EVAL", kCountLocksLua, "1", lock_index_key_, std::to_string(kLocksVerified)}, deadline);
  if (!reply.ok()) return reply.error();
  if (reply->is_error()) return Error(ErrorKind::kUnavailable, "redis: " + reply->str);
  const auto& e = reply->elements;
  if (reply->type != RedisReply::Type::kArray || e.size() != 2 ||
      e[0].type != RedisReply::Type::kInteger || e[1].type != RedisReply::Type::kArray) {
    return Error(ErrorKind::kInternal, "redis: unexpected reply from the lock count");
  }
  Result<std::int64_t> missing = CountMissing(e[1].elements, deadline);
  if (!missing.ok()) return missing.error();
  return e[0].integer - *missing;
}

Result<std::int64_t> RedisStore::CountMissing(const std::vector<RedisReply>& keys,
                                              Deadline deadline) {
  if (keys.empty()) return std::int64_t{0};
  // Filled on the io thread by the replies; shared, since a late reply may outlive us.
  struct Tally {
    std::mutex mu;
    std::size_t left = 0;
    std::int64_t missing = 0;
    std::optional<Error> error;
    std::promise<void> done;
  };
  auto tally = std::make_shared<Tally>();
  tally->left = keys.size();
  std::future<void> done = tally->done.get_future();
  for (const RedisReply& key : keys) {
    conn_.Submit(CommandWriter(2).Arg("EXISTS").Arg(key.str).Take(), deadline,
                 [tally](const Result<RedisReply>& r) {
                   std::lock_guard lock(tally->mu);
                   if (!r.ok()) {
                     if (!tally->error) tally->error = r.error();
                   } else if (r->type != RedisReply::Type::kInteger) {
                     if (!tally->error)
                       tally->error = Error(ErrorKind::kUnavailable, "redis: " + r->str);
                   } else if (r->integer == 0) {
                     ++tally->missing;
                   }
                   if (--tally->left == 0) tally->done.set_value();
                 });
  }
  if (done.wait_until(deadline) != std::future_status::ready) {
    return Error(ErrorKind::kTimeout, "redis: no reply within the deadline");
  }
  std::lock_guard lock(tally->mu);
  if (tally->error) return *tally->error;
  return tally->missing;
}

Status RedisStore::Reset(const std::string& key) {
  Result<RedisReply> reply = Command({"DEL", key});
  if (!reply.ok()) return reply.error();
  if (reply->is_error()) return Error(ErrorKind::kUnavailable, "redis: " + reply->str);
  return OkStatus();
}

std::string RedisStore::AppendCommand(bool by_sha, const std::string& key, const std::string& value,
                                      std::size_t max_len, Micros ttl_us) const {
  return CommandWriter(7)
      .Arg(by_sha ? "EVALSHA" : "EVAL")
      .Arg(by_sha ? std::string_view(append_.sha) : std::string_view(append_.text))
      .Arg("1")
      .Arg(key)
      .Arg(value)
      .Arg(static_cast<std::int64_t>(max_len))
      .Arg((ttl_us + 999) / 1000)
      .Take();
}

Status RedisStore::Append(const std::string& key, const std::string& value, std::size_t max_len,
                          Micros ttl_us) {
  // AppendInBackground and a wait: one code path (and one NOSCRIPT fallback) for both. The
  // promise is shared with the callback, which may outlive a caller that timed out.
  const Deadline deadline = std::chrono::steady_clock::now() + timeout_;
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> status = done->get_future();
  AppendInBackground(key, value, max_len, ttl_us, [done](Status s) { done->set_value(s); });
  if (status.wait_until(deadline) != std::future_status::ready) {
    return Error(ErrorKind::kTimeout, "redis: no reply within the deadline");
  }
  return status.get();
}

void RedisStore::AppendInBackground(const std::string& key, const std::string& value,
                                    std::size_t max_len, Micros ttl_us,
                                    std::function<void(Status)> done) {
  const Deadline deadline = std::chrono::steady_clock::now() + timeout_;
  if (max_len == 0 || ttl_us <= 0) {
    conn_.Submit(CommandWriter(2).Arg("DEL").Arg(key).Take(), deadline,
                 [done = std::move(done)](Result<RedisReply> r) { done(ToStatus(r)); });
    return;
  }
  // On NOSCRIPT, send the script itself once (EVAL also caches it for the next EVALSHA).
  // The retry is built on the io thread; `this` outlives it (conn_ is destroyed first and
  // completes every pending callback).
  conn_.Submit(AppendCommand(true, key, value, max_len, ttl_us), deadline,
               [this, key, value, max_len, ttl_us, deadline,
                done = std::move(done)](Result<RedisReply> r) mutable {
                 if (r.ok() && r->is_error() && r->str.starts_with("NOSCRIPT")) {
                   conn_.Submit(AppendCommand(false, key, value, max_len, ttl_us), deadline,
                                [done = std::move(done)](Result<RedisReply> again) {
                                  done(ToStatus(again));
                                });
                   return;
                 }
                 done(ToStatus(r));
               });
}

Result<std::vector<std::string>> RedisStore::List(const std::string& key) {
  Result<RedisReply> reply = Command({"LRANGE", key, "0", "-1"});
  if (!reply.ok()) return reply.error();
  if (reply->type != RedisReply::Type::kArray) {
    return Error(ErrorKind::kUnavailable, "redis: LRANGE failed: " + reply->str);
  }
  std::vector<std::string> items;
  for (const RedisReply& e : reply->elements) items.push_back(e.str);
  return items;
}

Result<std::string> RedisStore::Ping() {
  Result<RedisReply> reply = Command({"PING"});
  if (!reply.ok()) return reply.error();
  if (reply->is_error()) return Error(ErrorKind::kUnavailable, "redis: " + reply->str);
  return reply->str;
}

Result<RedisReply> RedisStore::Command(std::vector<std::string> argv) {
  return Command(std::move(argv), timeout_);
}

Result<RedisReply> RedisStore::Command(std::vector<std::string> argv,
                                       std::chrono::milliseconds timeout) {
  if (argv.empty()) return Error(ErrorKind::kInvalid, "redis: empty command");
  return conn_.Execute(argv, std::chrono::steady_clock::now() + timeout);
}

}  // namespace floodgate::store
