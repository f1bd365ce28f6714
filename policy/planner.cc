#include "policy/planner.h"

#include <algorithm>

#include "floodgate/store_layout.h"
#include "policy/adaptive.h"
#include "policy/escape.h"

namespace floodgate::policy {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;

// The subject value an event has for `limit`, or nullopt when the subject does not apply
// (no login, no client address, null sender, local submission for SMTP-only subjects).
std::optional<std::string> SubjectValue(const Limit& limit, const Facts& facts) {
  switch (limit.subject) {
    case SubjectKind::kAccount:
      if (facts.local_submission || facts.account.empty()) return std::nullopt;
      return facts.account;
    case SubjectKind::kIp:
      if (facts.local_submission || !facts.client) return std::nullopt;
      return Network::Of(*facts.client, facts.client->v6 ? limit.ipv6_prefix : limit.ipv4_prefix)
          .ToString();
    case SubjectKind::kSender:
      if (facts.sender.empty()) return std::nullopt;
      return facts.sender;
    case SubjectKind::kSenderDomain: {
      const std::string_view d = DomainOf(facts.sender);
      if (d.empty()) return std::nullopt;
      return std::string(d);
    }
  }
  return std::nullopt;
}

bool Contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

const Override* FindOverride(const Config& config, const Limit& limit, const std::string& value) {
  const Override* domain_match = nullptr;
  const std::string_view domain = DomainOf(value);
  for (const Override& o : config.overrides) {
    if (o.limit != limit.name || o.subject != limit.subject) continue;
    if (!o.exact.empty() && o.exact == value) return &o;
    if (!o.domain.empty() && o.domain == domain && !domain_match) domain_match = &o;
  }
  return domain_match;
}

bool IsExempt(const Exemptions& exempt, const Facts& facts) {
  if (facts.client) {
    for (const Network& n : exempt.networks) {
      if (n.Contains(*facts.client)) return true;
    }
  }
  if (facts.local_submission && Contains(exempt.local_senders, facts.sender)) return true;
  // Senders are forgeable by any client, so only authenticated accounts (and their
  // domains) can be exempted by name.
  if (!facts.account.empty()) {
    if (Contains(exempt.accounts, facts.account)) return true;
    const std::string_view d = DomainOf(facts.account);
    if (!d.empty() && Contains(exempt.domains, d)) return true;
  }
  return false;
}

WindowSpec ToWindow(const Rate& rate) {
  WindowSpec w;
  w.amount = rate.amount;
  w.period_us = rate.period_s * kMicrosPerSecond;
  w.emission_us = std::max<std::int64_t>(1, w.period_us / rate.amount);
  w.tolerance_us = (rate.burst > 0 ? rate.burst : rate.amount) * w.emission_us;
  return w;
}

std::int64_t AdaptiveFactor(const Limit& limit, const Override* o) {
  return o != nullptr && !o->adaptive ? 0 : limit.adaptive.factor_milli;
}

const Limit::MaxDomains& MaxRecipientDomains(const Limit& limit, const Override* o) {
  return o != nullptr && o->max_recipient_domains ? *o->max_recipient_domains
                                                  : limit.max_recipient_domains;
}

WindowSpec LimitWindow(const Limit& limit, const Rate& rate, const Override* o) {
  WindowSpec w = ToWindow(rate);
  w.lock_threshold = std::int64_t{limit.lock_after} * rate.amount;
  if (AdaptiveFactor(limit, o) > 0) {
    // The floor never exceeds the ceiling (an override's amount may be lower).
    w.floor_amount = std::min(limit.adaptive.FloorFor(rate.period_s), rate.amount);
    w.rise_ppm = RisePpm(w.period_us);
  }
  return w;
}

std::string SubjectKey(const std::string& prefix, SubjectKind kind, std::string_view value) {
  std::string key = prefix;
  key += '{';
  key += ToString(kind);
  key += ':';
  key += KeyComponent(value);
  key += '}';
  return key;
}

std::string LimitKeySuffix(const Limit& limit) {
  std::string suffix = std::string(layout::kLimitSeparator) + limit.name;
  if (limit.traffic.Has(Traffic::kInbound)) suffix += layout::kInboundSuffix;
  return suffix;
}

std::string StoreKey(const std::string& prefix, SubjectKind kind, std::string_view value,
                     const Limit& limit) {
  return SubjectKey(prefix, kind, value) + LimitKeySuffix(limit);
}

std::string LockKey(const std::string& prefix, SubjectKind kind, std::string_view value) {
  return SubjectKey(prefix, kind, value) + std::string(layout::kLockSuffix);
}

std::string QueueKey(const std::string& prefix, SubjectKind kind, std::string_view value) {
  return SubjectKey(prefix, kind, value) + std::string(layout::kQueueSuffix);
}

std::string HeldKey(const std::string& prefix, SubjectKind kind, std::string_view value) {
  return SubjectKey(prefix, kind, value) + std::string(layout::kHeldSuffix);
}

namespace {

// The units `limit` charges for `event`, or 0 when it does not count it.
std::int64_t Cost(const Limit& limit, std::size_t index, const Event& event) {
  const bool external_only = limit.destinations == Destinations::kExternal;
  if (event.stage == Stage::kRecipient) {
    if (external_only && event.recipient_local) return 0;
    if (limit.count == CountKind::kMessages && event.charged && event.charged->Has(index)) {
      return 0;
    }
    return 1;
  }
  const std::int64_t counted = external_only ? event.external_recipients : event.recipients;
  if (external_only && counted <= 0) return 0;
  return limit.count == CountKind::kMessages ? 1 : std::max<std::int64_t>(1, counted);
}

// True when `limit` counts nothing of `event` because its recipients are all local and it
// counts external destinations only.
bool FreeDestination(const Limit& limit, const Event& event) {
  if (limit.destinations != Destinations::kExternal) return false;
  return event.stage == Stage::kRecipient ? event.recipient_local : event.external_recipients <= 0;
}

}  // namespace

Plan MakePlan(const Config& config, const Facts& facts, const Event& event) {
  Plan plan;
  plan.traffic = facts.traffic;
  if (IsExempt(config.exempt, facts)) return plan;
  for (std::size_t index = 0; index < config.limits.size(); ++index) {
    const Limit& limit = config.limits[index];
    if (!limit.traffic.Has(facts.traffic)) continue;
    // Inbound mail is forgeable: it neither obeys nor makes a lock (the loader refuses
    // lock settings on inbound limits; an empty lock key keeps the store away from locks).
    const bool inbound = limit.traffic.Has(Traffic::kInbound);
    const std::int64_t cost = Cost(limit, index, event);
    // Mail to the site's own users is free under destinations = "external", but a locked
    // subject is locked for every message: such mail still asks for the lock, and only that.
    const bool lock_only = cost == 0 && !inbound && FreeDestination(limit, event);
    // A message-counted limit charged earlier in the transaction charges nothing more, but
    // each further recipient's domain still counts (else one message to a hundred domains
    // would pass unseen).
    const bool domains_only =
        cost == 0 && !inbound && !lock_only &&
        (limit.max_recipient_domains.count > 0 || limit.counts_recipient_domains);
    if (cost == 0 && !lock_only && !domains_only) continue;
    const std::optional<std::string> value = SubjectValue(limit, facts);
    if (!value) continue;
    const Override* o = FindOverride(config, limit, *value);
    const Limit::MaxDomains& max_domains = MaxRecipientDomains(limit, o);
    if (domains_only && (max_domains.count == 0 || event.domains.empty())) continue;

    PlannedLimit p;
    p.limit = &limit;
    p.index = index;
    p.subject = std::string(ToString(limit.subject)) + ":" + *value;
    p.rates = limit.rates;
    p.action = limit.action;
    p.lock_only = lock_only || domains_only;
    if (o != nullptr) {
      p.rates = o->rates;
      if (o->action) p.action = *o->action;
    }

    LimitCheck check;
    // The subject part (with its percent-encoding) is built once per limit, on the RCPT
    // hot path, and shared by the limit key and the lock key.
    const std::string subject_key = SubjectKey(config.store.key_prefix, limit.subject, *value);
    check.key = subject_key + LimitKeySuffix(limit);
    // A lock-only check has no windows: it charges, refuses and counts nothing itself.
    if (!p.lock_only) {
      for (const Rate& r : p.rates) check.windows.push_back(LimitWindow(limit, r, o));
      check.adaptive_factor_milli = AdaptiveFactor(limit, o);
    }
    check.cost = cost;
    check.strict = limit.mode == Mode::kStrict;
    check.advisory = p.action == Action::kMonitor;
    if (!inbound) check.lock_key = subject_key + std::string(layout::kLockSuffix);
    check.lock_ttl_us = limit.lock_ttl_s * kMicrosPerSecond;
    if (!inbound && !lock_only && limit.max_networks.count > 0 && facts.client) {
      check.network = Network::Of(*facts.client, facts.client->v6 ? 48 : 24).ToString();
      check.max_networks = limit.max_networks.count;
      check.networks_window_us = limit.max_networks.window_s * kMicrosPerSecond;
    }

    if (!inbound && !lock_only && max_domains.count > 0) {
      const bool external_only = limit.destinations == Destinations::kExternal;
      const std::span<const std::string> domains =
          event.stage == Stage::kRecipient || !external_only ? event.domains
                                                             : event.external_domains;
      check.domains.assign(domains.begin(), domains.end());
      check.max_domains = max_domains.count;
      check.domains_window_us = max_domains.window_s * kMicrosPerSecond;
    }

    if (p.action == Action::kHold || limit.locked_action == LockedAction::kHold) {
      check.held_key = subject_key + std::string(layout::kHeldSuffix);
      check.hold_max = limit.hold_max;
    }

    plan.limits.push_back(std::move(p));
    plan.checks.push_back(std::move(check));
  }
  return plan;
}

}  // namespace floodgate::policy
