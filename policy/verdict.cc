#include "policy/verdict.h"

#include <fmt/format.h>

#include <algorithm>

#include "policy/escape.h"

namespace floodgate::policy {

std::string FormatAlert(const Alert& alert) {
  std::string line = "event=" + LogValue(alert.event);
  for (const auto& [key, value] : alert.fields) {
    line += ' ';
    line += key;
    line += '=';
    line += LogValue(value);
  }
  return line;
}

std::string PeriodText(std::int64_t period_s) {
  if (period_s % 86400 == 0) return fmt::format("{}d", period_s / 86400);
  if (period_s % 3600 == 0) return fmt::format("{}h", period_s / 3600);
  if (period_s % 60 == 0) return fmt::format("{}m", period_s / 60);
  return fmt::format("{}s", period_s);
}

Verdict Interpret(const Plan& plan, const CheckOutcome& outcome,
                  const std::optional<Address>& client) {
  Verdict v;
  const auto add_client = [&](Alert& a) {
    if (client) a.fields.emplace_back("client", Network::Of(*client, client->bits()).ToString());
  };
  // What the recipient gets, strongest first: a lock's 550; the first refusal by a
  // tempfail or reject limit (a full hold queue counts as a tempfail); a hold; nothing.
  enum Rank { kNone, kHeld, kRefused, kLocked };
  Rank rank = kNone;
  const auto decide = [&](Rank r, Disposition d, Reply reply) {
    if (r <= rank) return;
    rank = r;
    v.disposition = d;
    v.reply = std::move(reply);
  };
  const auto hold = [&](const LimitCheck& c, std::string why) {
    if (v.hold_reason.empty()) v.hold_reason = std::move(why);
    if (std::find(v.held_keys.begin(), v.held_keys.end(), c.held_key) == v.held_keys.end()) {
      v.held_keys.push_back(c.held_key);
    }
    decide(kHeld, Disposition::kHold, {});
  };
  const auto tempfail = [&](const PlannedLimit& p) {
    decide(kRefused, Disposition::kTempfail, RefusalReply(*p.limit, Action::kTempfail));
  };
  const std::size_t n = std::min({plan.limits.size(), plan.checks.size(), outcome.limits.size()});
  for (std::size_t i = 0; i < n; ++i) {
    const PlannedLimit& p = plan.limits[i];
    const LimitOutcome& lo = outcome.limits[i];
    const LimitCheck& c = plan.checks[i];
    if (lo.locked) {
      if (p.limit->locked_action == LockedAction::kReject) {
        decide(kLocked, Disposition::kReject, LockedReply(p.limit->subject));
      } else if (lo.hold_full) {
        tempfail(p);
      } else {
        hold(c, fmt::format("floodgate: {} locked ({})", LogValue(p.subject),
                            LogValue(lo.lock_reason)));
      }
      if (!lo.newly_locked) continue;
      Alert a;
      a.event = "locked";
      a.fields = {{"subject", p.subject},
                  {"reason", lo.lock_reason},
                  {"limit", p.limit->name},
                  {"traffic", ToString(plan.traffic)}};
      if (lo.refused_units > 0) a.fields.emplace_back("refused", std::to_string(lo.refused_units));
      a.fields.emplace_back("ttl", PeriodText(p.limit->lock_ttl_s));
      add_client(a);
      v.alerts.push_back(std::move(a));
      continue;
    }
    if (lo.allowed) continue;
    std::string window;
    for (std::size_t j = 0; j < lo.windows.size() && j < p.rates.size(); ++j) {
      if (lo.windows[j].refused && window.empty()) window = PeriodText(p.rates[j].period_s);
    }
    switch (p.action) {
      case Action::kMonitor:
        break;
      case Action::kTempfail:
      case Action::kReject:
        decide(kRefused,
               p.action == Action::kReject ? Disposition::kReject : Disposition::kTempfail,
               RefusalReply(*p.limit, p.action));
        break;
      case Action::kHold:
        if (lo.hold_full) {
          tempfail(p);
        } else {
          hold(c, fmt::format("floodgate: {} over limit {} ({})", LogValue(p.subject),
                              p.limit->name, window));
        }
        break;
    }
    for (std::size_t j = 0; j < lo.windows.size() && j < p.rates.size(); ++j) {
      if (!lo.windows[j].first_refusal) continue;
      Alert a;
      a.event = "limit_exceeded";
      a.fields = {{"subject", p.subject},
                  {"limit", p.limit->name},
                  {"window", PeriodText(p.rates[j].period_s)},
                  {"count", std::to_string(p.rates[j].amount)},
                  {"action", ToString(p.action)},
                  {"traffic", ToString(plan.traffic)}};
      // The subject's learned normal allowed less than the limit's own count.
      if (lo.windows[j].adapted)
        a.fields.emplace_back("adaptive", std::to_string(lo.windows[j].amount));
      add_client(a);
      v.alerts.push_back(std::move(a));
    }
  }
  if (v.disposition != Disposition::kHold) {
    v.hold_reason.clear();
    v.held_keys.clear();
  }
  if (v.disposition == Disposition::kContinue && outcome.allowed) {
    for (std::size_t i = 0; i < plan.limits.size() && i < outcome.limits.size(); ++i) {
      const PlannedLimit& p = plan.limits[i];
      if (p.limit->count == CountKind::kMessages && !p.lock_only && outcome.limits[i].allowed) {
        v.messages_charged.push_back(p.index);
      }
    }
  }
  return v;
}

}  // namespace floodgate::policy
