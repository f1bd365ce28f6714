// Verdict: what a store outcome means for the SMTP session — the reply to give and the
// alerts to log. The one place that turns refusals into SMTP replies and decides which
// refusals are worth an alert (one per subject and window, per period).
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "floodgate/counter_store.h"
#include "policy/network.h"
#include "policy/planner.h"
#include "policy/reply.h"

namespace floodgate::policy {

// kHold: the recipient is accepted and the message goes to Postfix's hold queue at end of
// message (a message with any held recipient is held as a whole).
enum class Disposition { kContinue, kTempfail, kReject, kHold };

// One syslog event: `event=NAME` followed by the fields in order.
struct Alert {
  std::string event;
  std::vector<std::pair<std::string, std::string>> fields;
};

struct Verdict {
  Disposition disposition = Disposition::kContinue;
  Reply reply;
  std::vector<Alert> alerts;
  // Message-counted limits (Config::limits indices) this event charged: the transaction
  // must not charge them again (ChargedLimits).
  std::vector<std::size_t> messages_charged;
  // kHold: why (for the hold queue and Postfix's log; safe for both), and the subjects'
  // held-id lists the message's queue id is recorded in at end of message.
  std::string hold_reason;
  std::vector<std::string> held_keys;
};

// `client` is the client address for alert lines (none when unknown); it is formatted
// only when an alert is made, which is rare, not on every decision.
Verdict Interpret(const Plan& plan, const CheckOutcome& outcome,
                  const std::optional<Address>& client);

// "event=limit_exceeded subject=account:alice@example.org limit=submission ...": one
// syslog line; values escaped with LogValue so they cannot forge a field or a line.
std::string FormatAlert(const Alert& alert);

// "1h", "30m", "1d", "90s": the shortest exact way to write a period.
std::string PeriodText(std::int64_t period_s);

}  // namespace floodgate::policy
