#include "tools/ctl/admin.h"

#include <fmt/chrono.h>
#include <syslog.h>

#include <algorithm>
#include <ctime>

#include "milter/alert_command.h"
#include "policy/planner.h"
#include "tools/ctl/window_view.h"

namespace floodgate::ctl {
namespace {

using store::RedisReply;

std::map<std::string, std::string> AsMap(const RedisReply& r) {
  std::map<std::string, std::string> m;
  for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2)
    m[r.elements[i].str] = r.elements[i + 1].str;
  return m;
}

Json WindowJson(const WindowView& v) {
  return {{"rate", v.rate},
          {"used", v.used},
          {"capacity", v.capacity},
          {"over", v.over},
          {"frees_in_s", v.frees_in_us / 1'000'000.0},
          {"idle_in_s", v.idle_in_us / 1'000'000.0},
          {"refused", v.refused}};
}

}  // namespace

std::string EventsKey(const policy::Config& config) { return config.store.key_prefix + "events"; }

Result<RedisReply> Admin::Run(std::vector<std::string> argv) {
  const std::string name = argv.empty() ? "" : argv[0];
  auto r = redis_.Command(std::move(argv), std::chrono::milliseconds(5000));
  if (!r.ok()) return r.error();
  if (r->is_error()) return Error(ErrorKind::kUnavailable, "redis " + name + ": " + r->str);
  return r;
}

Result<Micros> Admin::Now() {
  auto r = Run({"TIME"});
  if (!r.ok()) return r.error();
  if (r->elements.size() != 2) return Error(ErrorKind::kInternal, "unexpected TIME reply");
  return std::stoll(r->elements[0].str) * 1'000'000 + std::stoll(r->elements[1].str);
}

void Admin::RecordEvent(const policy::Alert& alert) {
  const std::string line = policy::FormatAlert(alert);
  openlog("floodgate", LOG_PID, LOG_MAIL);
  syslog(LOG_WARNING, "%s", line.c_str());
  closelog();
  // Stamped like the daemon's entries (milter/decider.cc), so `events` lines all read alike.
  (void)redis_.Append(
      EventsKey(config_),
      fmt::format("{:%Y-%m-%dT%H:%M:%SZ} {}", fmt::gmtime(std::time(nullptr)), line), 1000,
      7 * 86'400'000'000LL);
  if (!config_.alerts.alert_command.empty()) {
    milter::AlertCommand runner;
    runner.Submit(config_.alerts.alert_command, alert);
    runner.Drain();  // a short-lived tool: let the notification finish before exiting
  }
}

Result<Json> Admin::Status() {
  auto ping = redis_.Ping();
  Json j = {{"store", "redis"},
            {"url", config_.store.url},
            {"key_prefix", config_.store.key_prefix},
            {"limits", config_.limits.size()}};
  if (!ping.ok())
    return Error(ErrorKind::kUnavailable, "store unreachable: " + ping.error().message());
  j["ping"] = *ping;
  long long keys = 0, locks = 0;
  std::string cursor = "0";
  do {
    auto r = Run({"SCAN", cursor, "MATCH", config_.store.key_prefix + "{*", "COUNT", "1000"});
    if (!r.ok()) return r.error();
    cursor = r->elements.at(0).str;
    for (const RedisReply& k : r->elements.at(1).elements) {
      ++keys;
      if (k.str.ends_with("!lock")) ++locks;
    }
  } while (cursor != "0");
  j["keys"] = keys;
  j["locks_active"] = locks;
  return j;
}

Result<Json> Admin::LockState(const policy::Subject& subject) {
  const std::string key = policy::LockKey(config_.store.key_prefix, subject.kind, subject.value);
  auto reason = Run({"GET", key});
  if (!reason.ok()) return reason.error();
  if (reason->type == RedisReply::Type::kNil) return Json{{"locked", false}};
  auto ttl = Run({"PTTL", key});
  if (!ttl.ok()) return ttl.error();
  Json j = {{"locked", true}, {"reason", reason->str}};
  j["expires_in_s"] = ttl->integer >= 0 ? Json(ttl->integer / 1000.0) : Json(nullptr);
  return j;
}

Result<Json> Admin::Show(const policy::Subject& subject) {
  auto now = Now();
  if (!now.ok()) return now.error();
  Json j = {{"subject", subject.ToString()}, {"limits", Json::array()}};
  for (const policy::Limit& limit : config_.limits) {
    if (limit.subject != subject.kind) continue;
    const std::string value = policy::SubjectValueFor(subject, limit);
    auto hash = Run(
        {"HGETALL", policy::StoreKey(config_.store.key_prefix, subject.kind, value, limit.name)});
    if (!hash.ok()) return hash.error();
    const auto fields = AsMap(*hash);
    Json l = {{"limit", limit.name},
              {"action", policy::ToString(limit.action)},
              {"count", policy::ToString(limit.count)},
              {"windows", Json::array()}};
    std::vector<policy::Rate> rates = limit.rates;
    for (const policy::Override& o : config_.overrides) {
      if (o.limit == limit.name &&
          (o.exact == value || (!o.domain.empty() && value.ends_with("@" + o.domain)))) {
        rates = o.rates;
        l["override"] = o.exact.empty() ? "*@" + o.domain : o.exact;
        if (!o.exact.empty()) break;
      }
    }
    for (const policy::Rate& r : rates)
      l["windows"].push_back(WindowJson(ViewWindow(r, fields, *now)));
    j["limits"].push_back(l);
  }
  auto lock = LockState(subject);
  if (!lock.ok()) return lock.error();
  j["lock"] = *lock;
  return j;
}

Result<Json> Admin::Top(int count) {
  auto now = Now();
  if (!now.ok()) return now.error();
  struct Row {
    Json json;
    double fill;
  };
  std::vector<Row> rows;
  const std::string& prefix = config_.store.key_prefix;
  std::string cursor = "0";
  do {
    auto r = Run({"SCAN", cursor, "MATCH", prefix + "{*", "COUNT", "1000"});
    if (!r.ok()) return r.error();
    cursor = r->elements.at(0).str;
    for (const RedisReply& k : r->elements.at(1).elements) {
      const std::string& key = k.str;
      const auto close = key.find('}');
      if (close == std::string::npos) continue;
      const std::string subject =
          DecodeKeyComponent(key.substr(prefix.size() + 1, close - prefix.size() - 1));
      if (key.compare(close, 6, "}!lock") == 0 && key.size() == close + 6) {
        rows.push_back(
            {{{"subject", subject}, {"limit", "(lock)"}, {"fill", 1.0}, {"locked", true}}, 2.0});
        continue;
      }
      if (key.size() <= close + 2 || key[close + 1] != ':') continue;
      const std::string limit_name = key.substr(close + 2);
      auto limit = std::find_if(config_.limits.begin(), config_.limits.end(),
                                [&](const policy::Limit& l) { return l.name == limit_name; });
      if (limit == config_.limits.end()) continue;
      auto hash = Run({"HGETALL", key});
      if (!hash.ok()) return hash.error();
      const auto fields = AsMap(*hash);
      Row row{{{"subject", subject}, {"limit", limit_name}}, 0.0};
      for (const policy::Rate& rate : limit->rates) {
        const WindowView v = ViewWindow(rate, fields, *now);
        if (v.fill() >= row.fill) {
          row.fill = v.fill();
          row.json["window"] = v.rate;
          row.json["used"] = v.used;
          row.json["capacity"] = v.capacity;
          row.json["over"] = v.over;
          row.json["refused"] = v.refused;
        }
      }
      row.json["fill"] = row.fill;
      if (row.fill > 0) rows.push_back(std::move(row));
    }
  } while (cursor != "0");
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.fill > b.fill; });
  Json out = Json::array();
  for (int i = 0; i < count && i < static_cast<int>(rows.size()); ++i) out.push_back(rows[i].json);
  return out;
}

Result<Json> Admin::Lock(const policy::Subject& subject, std::int64_t ttl_s,
                         const std::string& reason) {
  const std::string key = policy::LockKey(config_.store.key_prefix, subject.kind, subject.value);
  std::vector<std::string> argv = {"SET", key, reason.empty() ? "admin" : reason};
  if (ttl_s > 0) {
    argv.push_back("EX");
    argv.push_back(std::to_string(ttl_s));
  }
  auto r = Run(argv);
  if (!r.ok()) return r.error();
  // Counted by floodgate_locks_active from here on (a separate key: another hash slot).
  const floodgate::Status indexed = redis_.IndexLock(key, ttl_s * 1'000'000);
  RecordEvent({"locked",
               {{"subject", subject.ToString()},
                {"reason", argv[2]},
                {"by", "floodgatectl"},
                {"ttl", ttl_s > 0 ? policy::PeriodText(ttl_s) : "none"}}});
  if (!indexed.ok()) {
    return Error(indexed.error().kind(),
                 "locked, but floodgate_locks_active will not count it (lock it again): " +
                     indexed.error().message());
  }
  return LockState(subject);
}

Result<Json> Admin::Unlock(const policy::Subject& subject) {
  const std::string lock = policy::LockKey(config_.store.key_prefix, subject.kind, subject.value);
  // The network set goes too, and so do the refused-unit counters (the n<period> fields of
  // check.lua): otherwise the networks or the refusals that caused the lock would lock the
  // account again at its next message, or at its first refusal. The buckets stay (reset
  // frees them). One script: every key shares the subject's hash slot.
  static constexpr const char* kUnlockLua =
      "local n = redis.call('DEL', KEYS[1], KEYS[2]) "
      "for i = 3, #KEYS do "
      "  for _, f in ipairs(redis.call('HKEYS', KEYS[i])) do "
      "    if string.sub(f, 1, 1) == 'n' then redis.call('HDEL', KEYS[i], f) end "
      "  end "
      "end "
      "return n";
  std::vector<std::string> argv = {"EVAL", kUnlockLua, "", lock,
                                   store::RedisStore::NetworksKey(lock)};
  for (const policy::Limit& limit : config_.limits) {
    if (limit.subject != subject.kind) continue;
    argv.push_back(policy::StoreKey(config_.store.key_prefix, subject.kind,
                                    policy::SubjectValueFor(subject, limit), limit.name));
  }
  argv[2] = std::to_string(argv.size() - 3);
  auto r = Run(std::move(argv));
  if (!r.ok()) return r.error();
  // Best effort: a member whose lock key is gone is never counted anyway (redis_store.h).
  (void)redis_.UnindexLock(lock);
  RecordEvent({"unlocked", {{"subject", subject.ToString()}, {"by", "floodgatectl"}}});
  return Json{{"subject", subject.ToString()}, {"was_locked", r->integer > 0}};
}

Result<Json> Admin::Reset(const policy::Subject& subject) {
  std::vector<std::string> argv = {"DEL"};
  for (const policy::Limit& limit : config_.limits) {
    if (limit.subject != subject.kind) continue;
    argv.push_back(policy::StoreKey(config_.store.key_prefix, subject.kind,
                                    policy::SubjectValueFor(subject, limit), limit.name));
  }
  if (argv.size() == 1) return Json{{"subject", subject.ToString()}, {"deleted", 0}};
  auto r = Run(argv);
  if (!r.ok()) return r.error();
  return Json{{"subject", subject.ToString()}, {"deleted", r->integer}};
}

Result<Json> Admin::Events(int count) {
  auto r = Run({"LRANGE", EventsKey(config_), "0", std::to_string(std::max(1, count) - 1)});
  if (!r.ok()) return r.error();
  Json out = Json::array();
  for (auto it = r->elements.rbegin(); it != r->elements.rend(); ++it) out.push_back(it->str);
  return out;
}

Result<std::vector<std::string>> Admin::QueueIds(const policy::Subject& subject) {
  auto r = Run({"LRANGE", policy::QueueKey(config_.store.key_prefix, subject.kind, subject.value),
                "0", "-1"});
  if (!r.ok()) return r.error();
  std::vector<std::string> ids;
  for (auto it = r->elements.rbegin(); it != r->elements.rend(); ++it) ids.push_back(it->str);
  return ids;
}

}  // namespace floodgate::ctl
