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

namespace {

bool IsLocalDomain(const TrafficConfig& config, const std::optional<std::string>& domain) {
  return domain && std::find(config.local_domains.begin(), config.local_domains.end(), *domain) !=
                       config.local_domains.end();
}

}  // namespace

bool IsLocalRecipient(const TrafficConfig& config, std::string_view rcpt) {
  if (config.local_domains.empty()) return false;
  return IsLocalDomain(config, RecipientDomain(rcpt));
}

RecipientFacts ReadRecipient(const TrafficConfig& config, std::string_view rcpt) {
  const std::optional<std::string> domain = RecipientDomain(rcpt);
  RecipientFacts r;
  r.local = IsLocalDomain(config, domain);
  r.domain_token = DomainToken(domain ? *domain : Lower(rcpt.substr(0, kMaxRecipientLength)));
  return r;
}

std::string DomainToken(std::string_view domain) {
  std::uint32_t h = 2166136261u;
  for (const char c : domain) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token(8, '0');
  for (int i = 7; i >= 0; --i, h >>= 4) token[static_cast<std::size_t>(i)] = kHex[h & 0xf];
  return token;
}

}  // namespace floodgate::policy
