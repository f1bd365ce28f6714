#include "policy/classify.h"

#include <algorithm>

#include "policy/recipient.h"

namespace floodgate::policy {

Traffic Classify(const TrafficConfig& config, const Facts& facts) {
  if (!facts.account.empty()) return Traffic::kSubmission;
  if (facts.local_submission) return Traffic::kLocal;
  if (facts.client) {
    for (const Network& n : config.trusted_networks) {
      if (n.Contains(*facts.client)) return Traffic::kRelay;
    }
  }
  return Traffic::kInbound;
}

bool IsLocalRecipient(const TrafficConfig& config, std::string_view rcpt) {
  if (config.local_domains.empty()) return false;
  const std::optional<std::string> domain = RecipientDomain(rcpt);
  if (!domain) return false;
  return std::find(config.local_domains.begin(), config.local_domains.end(), *domain) !=
         config.local_domains.end();
}

}  // namespace floodgate::policy
