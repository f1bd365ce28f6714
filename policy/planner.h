// Planner: decides which limits apply to one SMTP event and builds the store request.
//
// This is the one place that knows *what* is counted: which limits a transaction's traffic
// class and recipient concern, which subjects an event has (account, ip, sender,
// sender_domain), exemptions, overrides (exact > domain > the limit itself), and the cost
// of the event (recipients count each recipient; messages count once per transaction, at
// the first accepted recipient the limit counts). Inbound limits never consult or make a
// lock, and have keys of their own, so inbound mail cannot touch what outgoing mail of the
// same subject is allowed. A limit that does not count an event only because its
// recipients are local (destinations = "external") still asks for its subject's lock: a
// locked subject is locked for every message. It does no I/O: the caller sends Plan::checks to a
// CounterStore and gives the outcome to Interpret (verdict.h). Thread-safety: pure functions over
// an immutable Config.
#pragma once

#include <span>
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

// Which message-counted limits a transaction has been charged for, by index into
// Config::limits (the transaction keeps one Config snapshot, so indices stay valid).
class ChargedLimits {
 public:
  bool Has(std::size_t limit) const { return limit < bits_.size() && bits_[limit]; }
  void Add(std::size_t limit) {
    if (limit >= bits_.size()) bits_.resize(limit + 1);
    bits_[limit] = true;
  }
  void Clear() { bits_.clear(); }

 private:
  std::vector<bool> bits_;
};

struct Event {
  Stage stage = Stage::kRecipient;
  const ChargedLimits* charged = nullptr;  // this transaction's; null: none charged yet
  bool recipient_local = false;            // kRecipient: the recipient is in local_domains
  std::int64_t recipients = 1;             // kEndOfMessage: how many recipients the message has
  std::int64_t external_recipients = 1;    // kEndOfMessage: those outside local_domains
  // Domain tokens (classify.h RecipientFacts) of the recipients: kRecipient, the one
  // recipient's; kEndOfMessage, every distinct one of the message's, and those outside
  // local_domains.
  std::span<const std::string> domains;
  std::span<const std::string> external_domains;
};

// One limit applied to one subject, with the values an override may have replaced.
struct PlannedLimit {
  const Limit* limit = nullptr;  // points into the Config the plan was made from
  std::size_t index = 0;         // of *limit in Config::limits
  std::string subject;           // "account:alice@example.org" (raw value, for logs)
  std::vector<Rate> rates;       // effective rates (override or limit)
  Action action = Action::kTempfail;
  // The limit does not charge this event and only asks whether its subject is locked (its
  // check has no windows and cost 0): a local recipient under destinations = "external",
  // or a further recipient of a message-counted limit charged already, whose domain still
  // counts towards max_recipient_domains.
  bool lock_only = false;
};

struct Plan {
  Traffic traffic = Traffic::kInbound;  // the transaction's class
  std::vector<PlannedLimit> limits;
  std::vector<LimitCheck> checks;  // parallel to limits
};

Plan MakePlan(const Config& config, const Facts& facts, const Event& event);

// Store keys of one subject: prefix + "{kind:value}" + a suffix. The braces are a Redis
// Cluster hash tag, so every key of a subject shares a slot. The value is percent-encoded
// (escape.h KeyComponent), so no login can reach another subject's keys.
std::string SubjectKey(const std::string& prefix, SubjectKind kind, std::string_view value);
//   ...":" + limit name      the windows of one limit (limit names are [A-Za-z0-9_.-])
//   ...":" + name + "/inbound"   the same for a limit on inbound traffic, so that inbound
//                            mail never shares a bucket with outgoing mail, even when a
//                            limit's traffic is changed
std::string StoreKey(const std::string& prefix, SubjectKind kind, std::string_view value,
                     const Limit& limit);
// What StoreKey appends to SubjectKey for `limit` (":name" or ":name/inbound").
std::string LimitKeySuffix(const Limit& limit);
//   ..."!lock"               the subject's lock ('!' is never in a limit name)
std::string LockKey(const std::string& prefix, SubjectKind kind, std::string_view value);
//   ..."!queue"              queue ids of the subject's accepted messages
std::string QueueKey(const std::string& prefix, SubjectKind kind, std::string_view value);
//   ..."!held"               queue ids of the subject's messages floodgate put on hold
std::string HeldKey(const std::string& prefix, SubjectKind kind, std::string_view value);

WindowSpec ToWindow(const Rate& rate);
// ToWindow for one window of `limit` (its own rate or an override's): with the limit's
// lock threshold and, when it is adaptive, the window's floor and rise.
// `o` (may be null) is the override that applies: adaptive = false there turns the floor off.
WindowSpec LimitWindow(const Limit& limit, const Rate& rate, const Override* o = nullptr);

// The limit's adaptive factor (x 1000) and distinct-domain setting for a subject that `o`
// (may be null) overrides.
std::int64_t AdaptiveFactor(const Limit& limit, const Override* o);
const Limit::MaxDomains& MaxRecipientDomains(const Limit& limit, const Override* o);

// The override that applies to `limit` for the subject value `value`, most specific first
// (exact value, then its domain), or null. The milter and floodgatectl both use it, so an
// admin sees the rates the milter enforces.
const Override* FindOverride(const Config& config, const Limit& limit, const std::string& value);

// True when the facts match an [exempt] entry.
bool IsExempt(const Exemptions& exempt, const Facts& facts);

}  // namespace floodgate::policy
