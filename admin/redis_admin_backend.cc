#include "admin/redis_admin_backend.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>

#include "floodgate/store_layout.h"

namespace floodgate::admin {

using store::RedisReply;

Result<RedisReply> RedisAdminBackend::Run(std::vector<std::string> argv) {
  const std::string name = argv.empty() ? "" : argv[0];
  auto r = redis_.Command(std::move(argv), std::chrono::milliseconds(5000));
  if (!r.ok()) return r.error();
  if (r->is_error()) return Error(ErrorKind::kUnavailable, "redis " + name + ": " + r->str);
  return r;
}

Result<Micros> RedisAdminBackend::Now() {
  auto r = Run({"TIME"});
  if (!r.ok()) return r.error();
  if (r->elements.size() != 2) return Error(ErrorKind::kInternal, "unexpected TIME reply");
  return std::stoll(r->elements[0].str) * 1'000'000 + std::stoll(r->elements[1].str);
}

Result<std::vector<std::string>> RedisAdminBackend::Keys(const std::string& prefix) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    auto r = Run({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
    if (!r.ok()) return r.error();
    if (r->elements.size() != 2) return Error(ErrorKind::kInternal, "unexpected SCAN reply");
    cursor = r->elements[0].str;
    for (const RedisReply& k : r->elements[1].elements) keys.push_back(k.str);
  } while (cursor != "0");
  return keys;
}

// The limit hash as check.lua writes it: one field per window and kind (store_layout.h).
// Fields of any other shape are ignored.
Result<policy::StoredWindows> RedisAdminBackend::Windows(const std::string& key) {
  auto r = Run({"HGETALL", key});
  if (!r.ok()) return r.error();
  policy::StoredWindows windows;
  for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    const std::string& field = r->elements[i].str;
    if (field.size() < 2) continue;
    Micros period = 0;
    std::int64_t value = 0;
    const char* end = field.data() + field.size();
    if (std::from_chars(field.data() + 1, end, period).ptr != end || period <= 0) continue;
    if (field[0] == layout::kLearnedField) {
      // "<period end / period>:<accepted>:<usual>"
      const std::string& v = r->elements[i + 1].str;
      std::int64_t index = 0, accepted = 0, usual = 0;
      const char* p = v.data();
      const char* e = v.data() + v.size();
      auto number = [&](std::int64_t& out) {
        const auto res = std::from_chars(p, e, out);
        p = res.ptr;
        return res.ec == std::errc();
      };
      if (number(index) && p < e && *p++ == ':' && number(accepted) && p < e && *p++ == ':' &&
          number(usual) && p == e) {
        policy::WindowState& w = windows[period];
        w.period_end = index * period;
        w.accepted = accepted;
        w.usual = usual;
      }
      continue;
    }
    try {
      // Lua writes whole numbers, in %.0f form.
      value = static_cast<std::int64_t>(std::stod(r->elements[i + 1].str));
    } catch (...) {
      continue;
    }
    policy::WindowState& w = windows[period];
    switch (field[0]) {
      case layout::kTatField:
        w.tat = value;
        break;
      case layout::kReportedField:
        w.reported_until = value;
        break;
      case layout::kRefusedField:
        w.refused = value;
        break;
      default:
        break;
    }
  }
  return windows;
}

Result<std::int64_t> RedisAdminBackend::Distinct(const std::string& set_key, Micros since) {
  // "(" makes the bound exclusive. Built with fmt: GCC 12 at -O3 warns falsely
  // (-Wrestrict) on "(" + std::string.
  auto r = Run({"ZCOUNT", set_key, fmt::format("({}", since), "+inf"});
  if (!r.ok()) return r.error();
  return static_cast<std::int64_t>(r->integer);
}

Result<std::optional<LockInfo>> RedisAdminBackend::GetLock(const std::string& lock_key) {
  auto reason = Run({"GET", lock_key});
  if (!reason.ok()) return reason.error();
  if (reason->type == RedisReply::Type::kNil) return std::optional<LockInfo>();
  auto ttl = Run({"PTTL", lock_key});
  if (!ttl.ok()) return ttl.error();
  LockInfo info{reason->str, std::nullopt};
  if (ttl->integer >= 0) info.expires_in_us = ttl->integer * 1000;
  return std::optional<LockInfo>(std::move(info));
}

Result<std::string> RedisAdminBackend::SetLock(const std::string& lock_key,
                                               const std::string& reason, Micros ttl_us) {
  std::vector<std::string> argv = {"SET", lock_key, reason};
  if (ttl_us > 0) {
    argv.push_back("PX");
    argv.push_back(std::to_string((ttl_us + 999) / 1000));
  }
  auto r = Run(std::move(argv));
  if (!r.ok()) return r.error();
  // Counted by floodgate_locks_active from here on (a separate key: another hash slot).
  const Status indexed = redis_.IndexLock(lock_key, ttl_us);
  if (!indexed.ok()) {
    return "locked, but floodgate_locks_active will not count it (lock it again): " +
           indexed.error().message();
  }
  return std::string();
}

Result<bool> RedisAdminBackend::Unlock(const std::string& lock_key,
                                       const std::vector<std::string>& limit_keys) {
  // The refused-unit counters are the limit hashes' refused fields (store_layout.h), named
  // by ARGV[1]. One script: every key shares the subject's hash slot.
  static constexpr const char* kUnlockLua =
      "local n = redis.call('DEL', KEYS[1]) "
      "redis.call('DEL', KEYS[2], KEYS[3]) "
      "for i = 4, #KEYS do "
      "  for _, f in ipairs(redis.call('HKEYS', KEYS[i])) do "
      "    if string.sub(f, 1, 1) == ARGV[1] then redis.call('HDEL', KEYS[i], f) end "
      "  end "
      "end "
      "return n";
  std::vector<std::string> argv = {"EVAL",
                                   kUnlockLua,
                                   std::to_string(limit_keys.size() + 3),
                                   lock_key,
                                   store::RedisStore::NetworksKey(lock_key),
                                   store::RedisStore::DomainsKey(lock_key)};
  argv.insert(argv.end(), limit_keys.begin(), limit_keys.end());
  argv.push_back(std::string(1, layout::kRefusedField));
  auto r = Run(std::move(argv));
  if (!r.ok()) return r.error();
  // Best effort: a member whose lock key is gone is never counted anyway (redis_store.h).
  (void)redis_.UnindexLock(lock_key);
  return r->integer > 0;  // the lock key was there
}

Result<std::int64_t> RedisAdminBackend::Delete(const std::vector<std::string>& keys) {
  if (keys.empty()) return std::int64_t{0};
  std::vector<std::string> argv = {"DEL"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  auto r = Run(std::move(argv));
  if (!r.ok()) return r.error();
  return static_cast<std::int64_t>(r->integer);
}

Result<std::vector<std::string>> RedisAdminBackend::List(const std::string& key, int count) {
  auto r = Run({"LRANGE", key, "0", std::to_string(count > 0 ? count - 1 : -1)});
  if (!r.ok()) return r.error();
  std::vector<std::string> items;
  for (const RedisReply& e : r->elements) items.push_back(e.str);
  return items;
}

Status RedisAdminBackend::Append(const std::string& key, const std::string& value,
                                 std::size_t max_len, Micros ttl_us) {
  return redis_.Append(key, value, max_len, ttl_us);
}

}  // namespace floodgate::admin
