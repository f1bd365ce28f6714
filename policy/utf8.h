// Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF. TOML files must be UTF-8, and toml11 3.7.1 crashes on some invalid sequences
// inside strings (it rewinds a location with an iterator into another buffer), so the
// config loader checks the whole file here before the parser sees it.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace floodgate::policy {

// Where the first invalid byte is: its offset, 1-based line and 1-based byte column.
struct Utf8Position {
  std::size_t offset = 0;
  int line = 1;
  int column = 1;
};

// The position of the first byte that does not start or continue a valid UTF-8 sequence,
// or nullopt when the whole text is valid.
std::optional<Utf8Position> FindInvalidUtf8(std::string_view text);

}  // namespace floodgate::policy
