// FindInvalidUtf8: a single pass over bytes using the well-formed byte sequence table of
// the Unicode standard (Table 3-7), so overlong forms and surrogates are refused.
#include "policy/utf8.h"

namespace floodgate::policy {
namespace {

// The length of the well-formed sequence starting at text[i], or 0 when there is none.
std::size_t SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const auto in = [](unsigned char b, unsigned char lo, unsigned char hi) {
    return b >= lo && b <= hi;
  };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  const std::size_t left = text.size() - i;
  if (in(b0, 0xC2, 0xDF)) return left >= 2 && in(byte(1), 0x80, 0xBF) ? 2 : 0;
  if (in(b0, 0xE0, 0xEF)) {
    if (left < 3) return 0;
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;  // no surrogates
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    if (left < 4) return 0;
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;  // no overlong forms
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;  // a continuation byte, C0/C1 or F5..FF
}

}  // namespace

std::optional<Utf8Position> FindInvalidUtf8(std::string_view text) {
  Utf8Position at;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = SequenceLength(text, i);
    if (length == 0) {
      at.offset = i;
      at.column = static_cast<int>(i - line_start) + 1;
      return at;
    }
    if (text[i] == '\n') {
      ++at.line;
      line_start = i + 1;
    }
    i += length;
  }
  return std::nullopt;
}

}  // namespace floodgate::policy
