#include "policy/recipient.h"

#include "policy/facts.h"

namespace floodgate::policy {
namespace {

// RFC 5322 atext, less the characters Postfix may route by ('%' and '!').
bool AtomChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  if (c >= 0x80) return true;  // SMTPUTF8 local parts, as sent
  switch (c) {
    case '#':
    case '$':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

bool DomainChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c >= 0x80;
}

// The local part at the start of `s` (dot-atom or quoted string); returns its length, or
// 0 when it is not a plain one.
std::size_t LocalPartLength(std::string_view s) {
  if (!s.empty() && s.front() == '"') {
    for (std::size_t i = 1; i < s.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"') return i + 1;
      if (c == '\\') {
        if (++i == s.size()) return 0;
        const unsigned char e = static_cast<unsigned char>(s[i]);
        if (e == '@' || e == '%' || e == '!' || e < 0x20 || e == 0x7f) return 0;
        continue;
      }
      if (c == '@' || c == '%' || c == '!' || c < 0x20 || c == 0x7f) return 0;
    }
    return 0;  // unterminated
  }
  std::size_t i = 0;
  bool label = false;  // the current dot-separated atom is non-empty
  for (; i < s.size() && s[i] != '@'; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '.') {
      if (!label) return 0;
      label = false;
    } else if (AtomChar(c)) {
      label = true;
    } else {
      return 0;
    }
  }
  return label ? i : 0;
}

bool PlainDomain(std::string_view d) {
  if (d.empty()) return false;
  bool label = false;
  for (unsigned char c : d) {
    if (c == '.') {
      if (!label) return false;
      label = false;
    } else if (DomainChar(c)) {
      label = true;
    } else {
      return false;
    }
  }
  return label;  // no trailing dot
}

}  // namespace

std::optional<std::string> RecipientDomain(std::string_view rcpt) {
  if (rcpt.size() > kMaxRecipientLength) return std::nullopt;
  std::string_view v = rcpt;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (!v.empty() && v.front() == '<') {
    if (v.size() < 2 || v.back() != '>') return std::nullopt;
    v = v.substr(1, v.size() - 2);
  }
  const std::size_t local = LocalPartLength(v);
  if (local == 0 || local >= v.size() || v[local] != '@') return std::nullopt;
  const std::string_view domain = v.substr(local + 1);
  if (!PlainDomain(domain)) return std::nullopt;
  return Lower(domain);
}

}  // namespace floodgate::policy
