// Escaping of untrusted values for store keys, syslog lines and SMTP replies (see
// escape.h). Each encoder is a single pass over bytes: no locale, no UTF-8 decoding, so
// invalid UTF-8 is just bytes to escape.
#include "policy/escape.h"

#include <cstddef>
#include <cstdint>

namespace floodgate::policy {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

constexpr std::size_t kMaxKeyComponent = 200;
constexpr std::size_t kMaxLogValue = 256;
constexpr std::size_t kMaxReplyText = 400;

bool KeySafe(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '@' || c == '+' || c == '-';
}

bool LogPlain(unsigned char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '='; }

void AppendHex(std::string& out, unsigned char c) {
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

std::uint64_t Fnv1a64(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

// Injective: '%' itself is encoded, and hex is always upper-case, so each output decodes
// to exactly one input. A cut value ends in "~" + 16 hex digits; '~' is never emitted
// unencoded otherwise, so a cut key cannot equal an uncut one. The whole result, suffix
// included, is at most kMaxKeyComponent bytes.
std::string KeyComponent(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (KeySafe(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      AppendHex(out, c);
    }
  }
  if (out.size() <= kMaxKeyComponent) return out;

  constexpr std::size_t kSuffix = 1 + 16;
  std::size_t cut = kMaxKeyComponent - kSuffix;
  // Do not split a %XX triple.
  if (out[cut - 1] == '%') {
    cut -= 1;
  } else if (cut >= 2 && out[cut - 2] == '%') {
    cut -= 2;
  }
  out.resize(cut);
  out += '~';
  const std::uint64_t h = Fnv1a64(value);
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(h >> shift) & 0xf];
  return out;
}

// The empty value is quoted too, so a field never reads as "key=" followed by the next one.
std::string LogValue(std::string_view value) {
  bool plain = !value.empty() && value.size() <= kMaxLogValue;
  for (unsigned char c : value) plain = plain && LogPlain(c);
  if (plain) return std::string(value);

  const bool cut = value.size() > kMaxLogValue;
  if (cut) value = value.substr(0, kMaxLogValue);
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      AppendHex(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (cut) out += "...";
  out += '"';
  return out;
}

std::string ReplyText(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '%') {
      if (out.size() + 2 > kMaxReplyText) break;  // never leave half of a "%%"
      out += "%%";
      continue;
    }
    if (out.size() + 1 > kMaxReplyText) break;
    if (c < 0x20) {
      out += ' ';
    } else if (c >= 0x7f) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace floodgate::policy
