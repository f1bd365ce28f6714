// Planner: decides which limits apply to one SMTP event and builds the store request.
//
// This is the one place that knows the rules of SPEC section 3-4 about *what* is
// counted: which subjects an event has (account, ip, sender, sender_domain), exemptions,
// overrides (exact > domain > the limit itself), and the cost of the event (recipients
// count each recipient; messages count once per transaction, at its first accepted
// recipient). It does no I/O: the caller sends Plan::checks to a CounterStore and gives
// the outcome to Interpret (verdict.h).
// Thread-safety: pure functions over an immutable Config.
#pragma once

#include <string>
#include <vector>

#include "floodgate/counter_store.h"
#include "policy/config.h"
#include "policy/facts.h"

namespace floodgate::policy {

enum class Stage {
  kRecipient,     // one RCPT TO of an SMTP transaction
  kEndOfMessage,  // end of a locally submitted (sendmail) message
};

struct Event {
  Stage stage = Stage::kRecipient;
  bool message_charged = false;  // a recipient of this transaction was already accepted
  std::int64_t recipients = 1;   // kEndOfMessage: how many recipients the message has
};

// One limit applied to one subject, with the values an override may have replaced.
struct PlannedLimit {
  const Limit* limit = nullptr;  // points into the Config the plan was made from
  std::string subject;           // "account:alice@example.org" (raw value, for logs)
  std::vector<Rate> rates;       // effective rates (override or limit)
  Action action = Action::kTempfail;
};

struct Plan {
  std::vector<PlannedLimit> limits;
  std::vector<LimitCheck> checks;  // parallel to limits
};

Plan MakePlan(const Config& config, const Facts& facts, const Event& event);

// Store keys of one subject: prefix + "{kind:value}" + a suffix. The braces are a Redis
// Cluster hash tag, so every key of a subject shares a slot. The value is percent-encoded
// (escape.h KeyComponent), so no login can reach another subject's keys.
std::string SubjectKey(const std::string& prefix, SubjectKind kind, std::string_view value);
//   ...":" + limit name      the windows of one limit (limit names are [A-Za-z0-9_.-])
std::string StoreKey(const std::string& prefix, SubjectKind kind, std::string_view value,
                     std::string_view limit_name);
//   ..."!lock"               the subject's lock ('!' is never in a limit name)
std::string LockKey(const std::string& prefix, SubjectKind kind, std::string_view value);
//   ..."!queue"              queue ids of the subject's accepted messages
std::string QueueKey(const std::string& prefix, SubjectKind kind, std::string_view value);

WindowSpec ToWindow(const Rate& rate);

// True when the facts match an [exempt] entry.
bool IsExempt(const Exemptions& exempt, const Facts& facts);

}  // namespace floodgate::policy
