// Classify: the one place that decides which traffic class a transaction is (traffic.h)
// and whether a recipient is one of the site's own.
// Thread-safety: pure functions.
#pragma once

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

}  // namespace floodgate::policy
