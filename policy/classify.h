// Classify: the one place that decides which traffic class a transaction is (traffic.h)
// and whether a recipient is one of the site's own.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "policy/facts.h"
#include "policy/traffic.h"

namespace floodgate::policy {

// The class of the transaction `facts` describe. The login, the local-submission
// signature and the client address must be known: call it at MAIL FROM. A login wins over
// everything (an authenticated client on a trusted network is still submission); an
// unknown client address is never trusted.
Traffic Classify(const TrafficConfig& config, const Facts& facts);

// True when `rcpt` (as the milter gets it) is a plain mailbox in one of
// config.local_domains; anything floodgate cannot tell for sure is external.
bool IsLocalRecipient(const TrafficConfig& config, std::string_view rcpt);

// What the planner needs of one envelope recipient.
struct RecipientFacts {
  bool local = false;  // IsLocalRecipient
  // Names where the recipient's mail goes, for counting distinct recipient domains: the
  // DomainToken of its domain, or of the whole lower-cased address when it is not a plain
  // mailbox (each odd address then counts as a destination of its own).
  std::string domain_token;
};
RecipientFacts ReadRecipient(const TrafficConfig& config, std::string_view rcpt);

// Eight hex digits naming `domain` in a distinct-domain set (32-bit FNV-1a): short, because
// the set is stored per subject; a collision among the few dozen domains one set holds is
// a chance of about one in ten million.
std::string DomainToken(std::string_view domain);

}  // namespace floodgate::policy
