// Transaction: one SMTP submission as floodgate's milter decides it, replayed against a
// store - the same Facts, Events, plans, checks and verdicts as milter/callbacks.cc and
// milter/decider.cc make, without libmilter:
//   connect      Facts.client = the client address (not loopback: no local submission)
//   MAIL FROM    account = Lower(login), sender = NormaliseAddress("<login>"),
//                traffic = Classify (a login makes it submission)
//   each RCPT    ReadRecipient, Event{kRecipient, charged, local, its domain token as
//                domains and external_domains}, MakePlan; no checks:
//                continue; else CounterStore::Check, Interpret, each alert appended to
//                the events list, charged message limits remembered
//   end of msg   a message with an accepted recipient records its queue id (and its
//                held keys when held), as the daemon does
// Store errors are returned (the memory store has none); the decider's breaker and
// fallback are not modelled.
// Thread-safety: one Transaction per thread; the store must be safe to share.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "floodgate/counter_store.h"
#include "floodgate/result.h"
#include "policy/classify.h"
#include "policy/config.h"
#include "policy/network.h"
#include "policy/verdict.h"

namespace floodgate::simulate {

struct LockSeen {
  std::string subject;  // "account:user7@example.org"
  std::string reason;   // "burst", "too_many_networks", ...
  bool newly = false;   // this message's check locked it
};

struct TransactionOutcome {
  std::vector<policy::Disposition> recipients;  // parallel to the message's recipients
  std::optional<LockSeen> lock;                 // the first locked outcome, if any
  std::int64_t checks = 0;                      // CounterStore::Check calls made
};

// The Event of one RCPT, as the milter makes it; it refers to `charged` and `rcpt`.
policy::Event RecipientEvent(const policy::ChargedLimits& charged,
                             const policy::RecipientFacts& rcpt);

Result<TransactionOutcome> SubmitMessage(const policy::Config& config, CounterStore& store,
                                         const policy::Address& client, const std::string& login,
                                         const std::vector<std::string>& recipients,
                                         const std::string& queue_id);

}  // namespace floodgate::simulate
