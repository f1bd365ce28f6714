// ParseAlertLine: reads back one line of the events list ("2026-12-01T19:41:03Z
// event=locked subject=account:alice@example.org reason=burst ..."), the inverse of
// FormatAlert with the time stamp the daemon puts in front. floodgatectl's report is
// built from these lines, written by any floodgate version that shares the store, so an
// unknown field is kept and a line that does not parse is skipped, never an error.
// Thread-safety: pure functions.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "policy/verdict.h"

namespace floodgate::policy {

struct AlertLine {
  std::time_t time = 0;  // seconds since the epoch, UTC
  Alert alert;

  // The value of field `key`, or "" when the line has none.
  std::string Field(std::string_view key) const;
};

// nullopt when `line` is not "YYYY-MM-DDTHH:MM:SSZ event=NAME key=value...". Quoted values
// ("..." with \" \\ \xNN) are unescaped; a value LogValue cut keeps its "...".
std::optional<AlertLine> ParseAlertLine(std::string_view line);

// "2026-12-01T19:41:03Z" <-> seconds since the epoch; nullopt when malformed.
std::optional<std::time_t> ParseUtcStamp(std::string_view text);
std::string UtcStamp(std::time_t t);

}  // namespace floodgate::policy
