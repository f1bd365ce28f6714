#include "policy/addr_spec.h"

#include <cstring>

namespace floodgate::policy {
namespace {

bool Atext(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr);
}

bool LetDig(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Dot-separated non-empty parts, each accepted by `part`.
template <class Part>
bool DotSeparated(std::string_view s, Part part) {
  if (s.empty()) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = s.find('.', start);
    if (!part(s.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

bool IsPlainAddrSpec(std::string_view address) {
  if (address.size() > 254) return false;
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  const std::string_view local = address.substr(0, at), domain = address.substr(at + 1);
  if (local.size() > 64 || domain.size() > 253) return false;
  const bool local_ok = DotSeparated(local, [](std::string_view atom) {
    if (atom.empty()) return false;
    for (unsigned char c : atom) {
      if (!Atext(c)) return false;
    }
    return true;
  });
  const bool domain_ok = DotSeparated(domain, [](std::string_view label) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (unsigned char c : label) {
      if (!LetDig(c) && c != '-') return false;
    }
    return true;
  });
  return local_ok && domain_ok;
}

}  // namespace floodgate::policy
