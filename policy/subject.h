// Subject: a subject written the way admins and logs write it, "account:alice@example.org",
// "ip:203.0.113.9", "sender:bob@example.org", "sender_domain:example.org" — parsed and
// normalised exactly as the milter derives it (lower-cased; an ip truncated to the
// prefix of the limit it is looked up under).
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "floodgate/result.h"
#include "policy/config.h"

namespace floodgate::policy {

struct Subject {
  SubjectKind kind = SubjectKind::kAccount;
  std::string value;  // normalised

  std::string ToString() const;  // "account:alice@example.org"
};

std::optional<SubjectKind> ParseSubjectKind(std::string_view name);

// "account:Alice@Example.org" -> {kAccount, "alice@example.org"}. An ip value must be an
// address or a CIDR network; it is kept as written (canonical) and truncated per limit by
// SubjectValueFor.
Result<Subject> ParseSubject(std::string_view text);

// The value `subject` has under `limit` (the ip prefix applied), as the planner keys it.
std::string SubjectValueFor(const Subject& subject, const Limit& limit);

}  // namespace floodgate::policy
