// Parsing of durations and rates (see duration.h for the grammar).
#include "policy/duration.h"

#include <fmt/format.h>

namespace floodgate::policy {
namespace {

// A run of decimal digits with a value in 1..limit; leading zeros are fine, overflow is not.
std::optional<std::int64_t> ParsePositive(std::string_view digits, std::int64_t limit) {
  if (digits.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
    if (v > limit) return std::nullopt;
  }
  if (v < 1) return std::nullopt;
  return v;
}

std::optional<std::int64_t> UnitSeconds(char unit) {
  switch (unit) {
    case 's':
      return 1;
    case 'm':
      return 60;
    case 'h':
      return 3600;
    case 'd':
      return 86400;
    default:
      return std::nullopt;
  }
}

// "<n><unit>" or, when `bare_unit_ok`, a lone unit meaning one of it.
std::optional<std::int64_t> ParsePeriod(std::string_view text, bool bare_unit_ok) {
  if (text.empty()) return std::nullopt;
  auto unit = UnitSeconds(text.back());
  if (!unit) return std::nullopt;
  std::string_view digits = text.substr(0, text.size() - 1);
  if (digits.empty()) return bare_unit_ok ? unit : std::nullopt;
  auto n = ParsePositive(digits, kMaxPeriodS);
  if (!n || *n > kMaxPeriodS / *unit) return std::nullopt;
  return *n * *unit;
}

}  // namespace

std::optional<std::int64_t> ParseDuration(std::string_view text) {
  return ParsePeriod(text, /*bare_unit_ok=*/false);
}

Result<Rate> ParseRate(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Error(ErrorKind::kInvalid, fmt::format("invalid rate '{}': {}", text, why));
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return bad("expected N/T, e.g. \"300/1h\"");
  const std::string_view amount_text = text.substr(0, slash);
  const std::string_view period_text = text.substr(slash + 1);
  auto amount = ParsePositive(amount_text, kMaxRateAmount);
  if (!amount) {
    return bad(fmt::format("the amount must be an integer from 1 to {}", kMaxRateAmount));
  }
  const bool unit_ok = !period_text.empty() && UnitSeconds(period_text.back()).has_value();
  if (!unit_ok) return bad("the period needs a unit s, m, h or d, e.g. \"1h\" or \"30s\"");
  const std::string_view multiplier = period_text.substr(0, period_text.size() - 1);
  if (multiplier.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad("the period must be a whole number and a unit s, m, h or d, e.g. \"1h\"");
  }
  auto period = ParsePeriod(period_text, /*bare_unit_ok=*/true);
  if (!period) return bad("the period must be from 1s to 366d");
  Rate r;
  r.amount = *amount;
  r.period_s = *period;
  r.burst = *amount;
  r.text = std::string(text);
  return r;
}

std::string FormatDuration(std::int64_t seconds) {
  if (seconds > 0 && seconds % 86400 == 0) return fmt::format("{}d", seconds / 86400);
  if (seconds > 0 && seconds % 3600 == 0) return fmt::format("{}h", seconds / 3600);
  if (seconds > 0 && seconds % 60 == 0) return fmt::format("{}m", seconds / 60);
  return fmt::format("{}s", seconds);
}

}  // namespace floodgate::policy
