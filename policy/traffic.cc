#include "policy/traffic.h"

namespace floodgate::policy {

const char* ToString(Traffic t) {
  switch (t) {
    case Traffic::kSubmission:
      return "submission";
    case Traffic::kLocal:
      return "local";
    case Traffic::kRelay:
      return "relay";
    case Traffic::kInbound:
      return "inbound";
  }
  return "?";
}

std::optional<Traffic> ParseTraffic(std::string_view name) {
  for (Traffic t : kAllTraffic) {
    if (name == ToString(t)) return t;
  }
  return std::nullopt;
}

std::string TrafficSet::ToString() const {
  std::string out;
  for (Traffic t : kAllTraffic) {
    if (!Has(t)) continue;
    if (!out.empty()) out += ", ";
    out += policy::ToString(t);
  }
  return out;
}

std::vector<Network> TrafficConfig::DefaultTrustedNetworks() {
  return {*Network::Parse("127.0.0.0/8"), *Network::Parse("::1/128")};
}

}  // namespace floodgate::policy
