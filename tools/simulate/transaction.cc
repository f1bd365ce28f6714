#include "tools/simulate/transaction.h"

#include <algorithm>
#include <span>

#include "floodgate/store_layout.h"
#include "policy/classify.h"
#include "policy/facts.h"
#include "policy/planner.h"

namespace floodgate::simulate {
namespace {

// The events list gets "<ISO time> <alert>"; the simulator writes a fixed time of the
// same length, so the store holds as many bytes as the daemon's would.
constexpr std::string_view kEventTime = "2000-01-01T00:00:00Z ";

}  // namespace

policy::Event RecipientEvent(const policy::ChargedLimits& charged,
                             const policy::RecipientFacts& rcpt) {
  policy::Event event;
  event.stage = policy::Stage::kRecipient;
  event.charged = &charged;
  event.recipient_local = rcpt.local;
  event.domains = std::span(&rcpt.domain_token, 1);
  event.external_domains = event.domains;
  return event;
}

Result<TransactionOutcome> SubmitMessage(const policy::Config& config, CounterStore& store,
                                         const policy::Address& client, const std::string& login,
                                         const std::vector<std::string>& recipients,
                                         const std::string& queue_id) {
  policy::Facts facts;
  facts.client = client;
  facts.account = policy::Lower(login);
  facts.sender = policy::NormaliseAddress("<" + login + ">");
  facts.traffic = policy::Classify(config.traffic, facts);

  TransactionOutcome out;
  policy::ChargedLimits charged;
  bool accepted = false;
  std::vector<std::string> held_keys;
  for (const std::string& rcpt : recipients) {
    const policy::RecipientFacts facts_of_rcpt =
        policy::ReadRecipient(config.traffic, "<" + rcpt + ">");
    const policy::Event event = RecipientEvent(charged, facts_of_rcpt);
    const policy::Plan plan = policy::MakePlan(config, facts, event);
    if (plan.checks.empty()) {
      out.recipients.push_back(policy::Disposition::kContinue);
      accepted = true;
      continue;
    }
    Result<CheckOutcome> outcome = store.Check(plan.checks);
    ++out.checks;
    if (!outcome.ok()) return outcome.error();
    const policy::Verdict v = policy::Interpret(plan, *outcome, facts.client);
    for (const policy::Alert& a : v.alerts) {
      const std::string line = std::string(kEventTime) + policy::FormatAlert(a);
      const Status s = store.Append(config.store.key_prefix + std::string(layout::kEventsKey), line,
                                    layout::kEvents.max_len, layout::kEvents.ttl_us);
      if (!s.ok()) return s.error();
    }
    if (!out.lock) {
      for (std::size_t i = 0; i < outcome->limits.size() && i < plan.limits.size(); ++i) {
        const LimitOutcome& lo = outcome->limits[i];
        if (!lo.locked) continue;
        out.lock = LockSeen{plan.limits[i].subject, lo.lock_reason, lo.newly_locked};
        break;
      }
    }
    for (std::size_t limit : v.messages_charged) charged.Add(limit);
    if (v.disposition == policy::Disposition::kHold) {
      for (const std::string& key : v.held_keys) {
        if (std::find(held_keys.begin(), held_keys.end(), key) == held_keys.end()) {
          held_keys.push_back(key);
        }
      }
    }
    if (v.disposition == policy::Disposition::kContinue ||
        v.disposition == policy::Disposition::kHold) {
      accepted = true;
    }
    out.recipients.push_back(v.disposition);
  }
  if (accepted) {
    for (const std::string& key : held_keys) {
      const Status s =
          store.Append(key, queue_id, layout::kQueueIds.max_len, layout::kQueueIds.ttl_us);
      if (!s.ok()) return s.error();
    }
    if (!facts.account.empty()) {
      const std::string key =
          policy::QueueKey(config.store.key_prefix, policy::SubjectKind::kAccount, facts.account);
      const Status s =
          store.Append(key, queue_id, layout::kQueueIds.max_len, layout::kQueueIds.ttl_us);
      if (!s.ok()) return s.error();
    }
  }
  return out;
}

}  // namespace floodgate::simulate
