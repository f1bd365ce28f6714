// Network: IPv4/IPv6 address and prefix parsing and arithmetic (see network.h).
// Parsing goes through inet_pton only, so what floodgate accepts is exactly what the C
// library accepts (no zone ids, no shorthand like "10.1"); IPv4-mapped IPv6 addresses are
// folded to IPv4 so a client seen over a dual-stack socket is one subject.
#include "policy/network.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace floodgate::policy {
namespace {

// ::ffff:0:0/96 (RFC 4291 section 2.5.5.2).
bool IsV4Mapped(const std::array<std::uint8_t, 16>& b) {
  return std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) &&
         b[10] == 0xff && b[11] == 0xff;
}

// Clears every bit of `bytes` from bit `prefix` on.
void ClearHostBits(std::array<std::uint8_t, 16>& bytes, int prefix) {
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(prefix - 8 * i, 0, 8);
    bytes[i] &= static_cast<std::uint8_t>(0xff00u >> keep);
  }
}

}  // namespace

std::optional<Address> Address::Parse(std::string_view text) {
  // inet_pton wants a C string: an embedded NUL would silently cut the text short.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string c(text);
  Address a;
  if (inet_pton(AF_INET, c.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, c.c_str(), a.bytes.data()) != 1) return std::nullopt;
  if (IsV4Mapped(a.bytes)) {
    std::array<std::uint8_t, 16> v4{};
    std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.begin());
    a.bytes = v4;
    return a;
  }
  a.v6 = true;
  return a;
}

std::optional<Network> Network::Parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    const auto a = Address::Parse(text);
    if (!a) return std::nullopt;
    return Of(*a, a->bits());
  }
  const std::string_view addr_text = text.substr(0, slash);
  const std::string_view prefix_text = text.substr(slash + 1);
  // Digits only: from_chars would otherwise let "+8", " 8" or "8x" through partially.
  if (prefix_text.empty() || prefix_text.size() > 3 ||
      !std::all_of(prefix_text.begin(), prefix_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int prefix = 0;
  std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
  const auto a = Address::Parse(addr_text);
  if (!a) return std::nullopt;
  // "::ffff:192.0.2.0/120" was written against the mapped IPv6 form; Parse folded the
  // address to IPv4, so the prefix follows (a mapped prefix shorter than /96 would cover
  // more than IPv4 and has no IPv4 equivalent).
  const bool mapped = !a->v6 && addr_text.find(':') != std::string_view::npos;
  if (mapped) {
    if (prefix < 96) return std::nullopt;
    prefix -= 96;
  }
  if (prefix > a->bits()) return std::nullopt;
  return Of(*a, prefix);
}

Network Network::Of(const Address& a, int prefix) {
  Network n;
  n.prefix = std::clamp(prefix, 0, a.bits());
  n.base = a;
  if (!a.v6) std::fill(n.base.bytes.begin() + 4, n.base.bytes.end(), 0);
  ClearHostBits(n.base.bytes, n.prefix);
  return n;
}

bool Network::Contains(const Address& a) const {
  if (a.v6 != base.v6) return false;
  return Of(a, prefix).base.bytes == base.bytes;
}

std::string Network::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(base.v6 ? AF_INET6 : AF_INET, base.bytes.data(), text, sizeof text) == nullptr) {
    return {};
  }
  std::string s(text);
  if (prefix != base.bits()) s += '/' + std::to_string(prefix);
  return s;
}

}  // namespace floodgate::policy
