#include "admin/admin.h"

#include <fmt/chrono.h>

#include <algorithm>
#include <ctime>
#include <optional>

#include "admin/report.h"
#include "admin/window_view.h"
#include "floodgate/store_layout.h"
#include "policy/planner.h"

namespace floodgate::admin {
namespace {

Json WindowJson(const WindowView& v) {
  return {{"rate", v.rate},
          {"used", v.used},
          {"capacity", v.capacity},
          {"over", v.over},
          {"frees_in_s", v.frees_in_us / 1'000'000.0},
          {"idle_in_s", v.idle_in_us / 1'000'000.0},
          {"refused", v.refused},
          {"adaptive", v.adaptive},
          {"usual_peak", v.usual},
          {"amount", v.amount}};
}

// What follows the subject's closing brace in a lock key and a held list's key.
const std::string kLockTail = "}" + std::string(layout::kLockSuffix);
const std::string kHeldTail = "}" + std::string(layout::kHeldSuffix);

}  // namespace

std::string EventsKey(const policy::Config& config) {
  return config.store.key_prefix + std::string(layout::kEventsKey);
}

std::vector<std::string> Admin::LimitKeys(const policy::Subject& subject) const {
  std::vector<std::string> keys;
  for (const policy::Limit& limit : config_.limits) {
    if (limit.subject != subject.kind) continue;
    keys.push_back(policy::StoreKey(config_.store.key_prefix, subject.kind,
                                    policy::SubjectValueFor(subject, limit), limit));
  }
  return keys;
}

void Admin::RecordEvent(const policy::Alert& alert) {
  // Stamped like the daemon's entries, so `events` lines all read alike.
  (void)backend_.Append(EventsKey(config_),
                        fmt::format("{:%Y-%m-%dT%H:%M:%SZ} {}", fmt::gmtime(std::time(nullptr)),
                                    policy::FormatAlert(alert)),
                        layout::kEvents.max_len, layout::kEvents.ttl_us);
  if (notify_) notify_(alert);
}

Result<Json> Admin::Status() {
  const std::string& prefix = config_.store.key_prefix;
  Json j = {{"store", backend_.name()},
            {"url", backend_.where()},
            {"key_prefix", prefix},
            {"limits", config_.limits.size()}};
  auto keys = backend_.Keys(prefix + "{");
  if (!keys.ok())
    return Error(ErrorKind::kUnavailable, "store unreachable: " + keys.error().message());
  j["ping"] = "PONG";
  j["keys"] = keys->size();
  j["locks_active"] = std::count_if(keys->begin(), keys->end(), [](const std::string& k) {
    return k.ends_with(layout::kLockSuffix);
  });
  return j;
}

Result<Json> Admin::LockState(const policy::Subject& subject) {
  auto lock =
      backend_.GetLock(policy::LockKey(config_.store.key_prefix, subject.kind, subject.value));
  if (!lock.ok()) return lock.error();
  if (!lock->has_value()) return Json{{"locked", false}};
  Json j = {{"locked", true}, {"reason", (*lock)->reason}};
  j["expires_in_s"] =
      (*lock)->expires_in_us ? Json(*(*lock)->expires_in_us / 1'000'000.0) : Json(nullptr);
  return j;
}

Result<Json> Admin::Show(const policy::Subject& subject) {
  auto now = backend_.Now();
  if (!now.ok()) return now.error();
  Json j = {{"subject", subject.ToString()}, {"limits", Json::array()}};
  for (const policy::Limit& limit : config_.limits) {
    if (limit.subject != subject.kind) continue;
    const std::string value = policy::SubjectValueFor(subject, limit);
    auto windows =
        backend_.Windows(policy::StoreKey(config_.store.key_prefix, subject.kind, value, limit));
    if (!windows.ok()) return windows.error();
    Json l = {{"limit", limit.name},
              {"action", policy::ToString(limit.action)},
              {"count", policy::ToString(limit.count)},
              {"traffic", limit.traffic.ToString()},
              {"destinations", policy::ToString(limit.destinations)},
              {"windows", Json::array()}};
    std::vector<policy::Rate> rates = limit.rates;
    const policy::Override* o = policy::FindOverride(config_, limit, value);
    if (o != nullptr) {
      rates = o->rates;
      l["override"] = o->exact.empty() ? "*@" + o->domain : o->exact;
      if (o->action) l["action"] = policy::ToString(*o->action);
    }
    for (const policy::Rate& r : rates)
      l["windows"].push_back(WindowJson(ViewWindow(limit, r, *windows, *now, o)));
    const policy::Limit::MaxDomains& max_domains = policy::MaxRecipientDomains(limit, o);
    if (max_domains.count > 0) {
      const std::string set = policy::LockKey(config_.store.key_prefix, subject.kind, value) +
                              std::string(layout::kDomainsSuffix);
      auto seen = backend_.Distinct(set, *now - max_domains.window_s * 1'000'000);
      if (!seen.ok()) return seen.error();
      l["recipient_domains"] = {{"seen", *seen},
                                {"max", max_domains.count},
                                {"window", policy::PeriodText(max_domains.window_s)}};
    }
    j["limits"].push_back(l);
  }
  auto lock = LockState(subject);
  if (!lock.ok()) return lock.error();
  j["lock"] = *lock;
  return j;
}

Result<Json> Admin::Top(int count) {
  auto now = backend_.Now();
  if (!now.ok()) return now.error();
  struct Row {
    Json json;
    double fill;
  };
  std::vector<Row> rows;
  const std::string& prefix = config_.store.key_prefix;
  auto keys = backend_.Keys(prefix + "{");
  if (!keys.ok()) return keys.error();
  for (const std::string& key : *keys) {
    const auto close = key.find('}');
    if (close == std::string::npos) continue;
    const std::string subject =
        DecodeKeyComponent(key.substr(prefix.size() + 1, close - prefix.size() - 1));
    if (key.compare(close, std::string::npos, kLockTail) == 0) {
      rows.push_back(
          {{{"subject", subject}, {"limit", "(lock)"}, {"fill", 1.0}, {"locked", true}}, 2.0});
      continue;
    }
    if (key.size() <= close + 2 || key[close + 1] != ':') continue;
    const std::string suffix = key.substr(close + 1);
    auto limit =
        std::find_if(config_.limits.begin(), config_.limits.end(),
                     [&](const policy::Limit& l) { return policy::LimitKeySuffix(l) == suffix; });
    if (limit == config_.limits.end()) continue;
    auto windows = backend_.Windows(key);
    if (!windows.ok()) return windows.error();
    Row row{{{"subject", subject}, {"limit", limit->name}, {"traffic", limit->traffic.ToString()}},
            0.0};
    // The rates the milter enforces for this subject: an override's, if one applies.
    const auto colon = subject.find(':');
    const policy::Override* o =
        colon == std::string::npos
            ? nullptr
            : policy::FindOverride(config_, *limit, subject.substr(colon + 1));
    for (const policy::Rate& rate : o ? o->rates : limit->rates) {
      const WindowView v = ViewWindow(*limit, rate, *windows, *now, o);
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
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.fill > b.fill; });
  Json out = Json::array();
  for (int i = 0; i < count && i < static_cast<int>(rows.size()); ++i) out.push_back(rows[i].json);
  return out;
}

Result<Json> Admin::Lock(const policy::Subject& subject, std::int64_t ttl_s,
                         const std::string& reason) {
  const std::string key = policy::LockKey(config_.store.key_prefix, subject.kind, subject.value);
  const std::string why = reason.empty() ? "admin" : reason;
  const Result<std::string> warning = backend_.SetLock(key, why, ttl_s * 1'000'000);
  if (!warning.ok()) return warning.error();
  RecordEvent({"locked",
               {{"subject", subject.ToString()},
                {"reason", why},
                {"by", "floodgatectl"},
                {"ttl", ttl_s > 0 ? policy::PeriodText(ttl_s) : "none"}}});
  if (!warning->empty()) return Error(ErrorKind::kUnavailable, *warning);
  auto state = LockState(subject);
  if (state.ok()) (*state)["subject"] = subject.ToString();
  return state;
}

Result<Json> Admin::Unlock(const policy::Subject& subject) {
  // The network set goes too, and so do the refused-unit counters: otherwise the networks
  // or the refusals that caused the lock would lock the account again at its next
  // message, or at its first refusal. The buckets stay (reset frees them).
  auto was_locked = backend_.Unlock(
      policy::LockKey(config_.store.key_prefix, subject.kind, subject.value), LimitKeys(subject));
  if (!was_locked.ok()) return was_locked.error();
  RecordEvent({"unlocked", {{"subject", subject.ToString()}, {"by", "floodgatectl"}}});
  return Json{{"subject", subject.ToString()}, {"was_locked", *was_locked}};
}

Result<Json> Admin::Reset(const policy::Subject& subject) {
  auto deleted = backend_.Delete(LimitKeys(subject));
  if (!deleted.ok()) return deleted.error();
  return Json{{"subject", subject.ToString()}, {"deleted", *deleted}};
}

Result<Json> Admin::Events(int count) {
  auto items = backend_.List(EventsKey(config_), std::max(1, count));
  if (!items.ok()) return items.error();
  Json out = Json::array();
  for (auto it = items->rbegin(); it != items->rend(); ++it) out.push_back(*it);
  return out;
}

Result<Json> Admin::Report(std::int64_t since_s) {
  auto items = backend_.List(EventsKey(config_), 0);
  if (!items.ok()) return items.error();
  Json report = BuildReport(std::vector<std::string>(items->rbegin(), items->rend()),
                            std::time(nullptr), since_s);
  const std::string& prefix = config_.store.key_prefix;
  auto keys = backend_.Keys(prefix + "{");
  if (!keys.ok()) return keys.error();
  Json locked = Json::array();
  for (const std::string& key : *keys) {
    const auto close = key.find('}');
    if (close == std::string::npos || key.compare(close, std::string::npos, kLockTail) != 0) {
      continue;
    }
    auto lock = backend_.GetLock(key);
    if (!lock.ok()) return lock.error();
    if (!lock->has_value()) continue;  // expired since Keys
    Json l = {
        {"subject",
         ReportValue(DecodeKeyComponent(key.substr(prefix.size() + 1, close - prefix.size() - 1)))},
        {"reason", ReportValue((*lock)->reason)}};
    l["expires_in_s"] =
        (*lock)->expires_in_us ? Json(*(*lock)->expires_in_us / 1'000'000.0) : Json(nullptr);
    locked.push_back(l);
  }
  report["locked_now"] = locked;
  // The queue ids floodgate put on hold; whether each is still held only the Postfix host
  // knows (floodgatectl asks postqueue).
  auto held = Held();
  if (!held.ok()) return held.error();
  report["held"] = Json::array();
  for (const auto& [subject, ids] : held->items()) {
    if (ids.empty()) continue;
    report["held"].push_back(
        {{"subject", ReportValue(subject)}, {"recorded", ids.size()}, {"queue_ids", ids}});
  }
  return report;
}

Result<std::vector<std::string>> Admin::QueueIds(const policy::Subject& subject) {
  const std::string& prefix = config_.store.key_prefix;
  std::vector<std::string> ids;
  for (const std::string& key : {policy::QueueKey(prefix, subject.kind, subject.value),
                                 policy::HeldKey(prefix, subject.kind, subject.value)}) {
    auto items = backend_.List(key, 0);
    if (!items.ok()) return items.error();
    for (auto it = items->rbegin(); it != items->rend(); ++it) {
      if (std::find(ids.begin(), ids.end(), *it) == ids.end()) ids.push_back(*it);
    }
  }
  return ids;
}

Result<Json> Admin::ForgetHeld(const policy::Subject& subject) {
  auto deleted =
      backend_.Delete({policy::HeldKey(config_.store.key_prefix, subject.kind, subject.value)});
  if (!deleted.ok()) return deleted.error();
  return Json{{"subject", subject.ToString()}, {"forgotten", *deleted > 0}};
}

Result<Json> Admin::Held() {
  const std::string& prefix = config_.store.key_prefix;
  auto keys = backend_.Keys(prefix + "{");
  if (!keys.ok()) return keys.error();
  Json out = Json::object();
  for (const std::string& key : *keys) {
    const auto close = key.find('}');
    if (close == std::string::npos || key.compare(close, std::string::npos, kHeldTail) != 0)
      continue;
    auto items = backend_.List(key, 0);
    if (!items.ok()) return items.error();
    const std::string subject =
        DecodeKeyComponent(key.substr(prefix.size() + 1, close - prefix.size() - 1));
    out[subject] = std::vector<std::string>(items->rbegin(), items->rend());
  }
  return out;
}

}  // namespace floodgate::admin
