// Network: an IPv4 or IPv6 prefix (CIDR), and the address arithmetic floodgate needs:
// parsing, containment, and truncating a client address to the prefix that names it
// as an `ip` subject (/32 and /64 by default) or as a network for max_networks.
// Thread-safety: plain values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace floodgate::policy {

struct Address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  static std::optional<Address> Parse(std::string_view text);
  int bits() const { return v6 ? 128 : 32; }
};

struct Network {
  Address base;  // host bits cleared
  int prefix = 0;

  // "192.0.2.0/24", "2001:db8::/32", or a bare address (a host prefix).
  static std::optional<Network> Parse(std::string_view text);
  static Network Of(const Address& a, int prefix);
  bool Contains(const Address& a) const;
  // "203.0.113.9" for a host prefix, else "203.0.113.0/24" / "2001:db8:1:2::/64".
  std::string ToString() const;
};

}  // namespace floodgate::policy
