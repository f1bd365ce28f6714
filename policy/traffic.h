// Traffic classes: what kind of mail one SMTP transaction is, so that every limit counts
// only the traffic it is for.
//
// One Postfix often serves the world's mail for the site (port 25), the users' own
// authenticated submissions and the local sendmail(1) of web scripts at once. Limits
// exist to stop outgoing abuse; inbound mail is forgeable (anyone may write
// MAIL FROM:<alice@example.org>), so it must never spend or lock what outgoing mail of the
// same account, sender or address is allowed. Every transaction is therefore put in
// exactly one class, once, from what Postfix told the milter:
//   submission  a SASL login ({auth_authen}) is set
//   local       sendmail(1)/pickup through non_smtpd_milters (loopback, port 0, no login)
//   relay       unauthenticated SMTP from [traffic] trusted_networks (webmail, app servers)
//   inbound     everything else: mail from the world for the site's domains
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/network.h"

namespace floodgate::policy {

enum class Traffic : std::uint8_t { kSubmission, kLocal, kRelay, kInbound };
inline constexpr std::size_t kTrafficClasses = 4;
inline constexpr Traffic kAllTraffic[kTrafficClasses] = {Traffic::kSubmission, Traffic::kLocal,
                                                         Traffic::kRelay, Traffic::kInbound};

// "submission", "local", "relay", "inbound": the spelling of floodgate.toml and of logs.
const char* ToString(Traffic t);
std::optional<Traffic> ParseTraffic(std::string_view name);

// A set of classes (the `traffic` of a limit).
class TrafficSet {
 public:
  constexpr TrafficSet() = default;
  constexpr TrafficSet(std::initializer_list<Traffic> classes) {
    for (Traffic t : classes) Add(t);
  }
  constexpr void Add(Traffic t) { bits_ |= Bit(t); }
  constexpr bool Has(Traffic t) const { return (bits_ & Bit(t)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const TrafficSet&) const = default;
  // "submission, relay" in the order of kAllTraffic.
  std::string ToString() const;

 private:
  static constexpr std::uint8_t Bit(Traffic t) {
    return static_cast<std::uint8_t>(1u << static_cast<unsigned>(t));
  }
  std::uint8_t bits_ = 0;
};

// Where a transaction's mail comes from and goes to, as the admin declared it.
struct TrafficConfig {
  // Unauthenticated SMTP from these networks is `relay`, like Postfix's mynetworks.
  std::vector<Network> trusted_networks = DefaultTrustedNetworks();
  // The site's own mail domains (lower-cased): recipients there are local.
  std::vector<std::string> local_domains;

  static std::vector<Network> DefaultTrustedNetworks();  // 127.0.0.0/8 and ::1/128
};

}  // namespace floodgate::policy
