// Durations and rates as written in floodgate.toml: "30m", "1h", "1d" and "300/1h", "10/m".
//
// Kept apart from the loader so the grammar is small, testable on its own and shared with
// floodgatectl (`lock --ttl 2h`). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "floodgate/result.h"
#include "policy/config.h"

namespace floodgate::policy {

// Upper bounds for a rate: a larger amount is a typo, a longer window outlives any history.
inline constexpr std::int64_t kMaxRateAmount = 1'000'000'000;
inline constexpr std::int64_t kMaxPeriodS = 366 * 86400;

// "<n><unit>" with n an integer >= 1 and unit s|m|h|d, at most 366 days; seconds, or nullopt.
std::optional<std::int64_t> ParseDuration(std::string_view text);

// "N/T" or "N/<n>T" ("300/1h", "5/30s", "10/m"): N in 1..1e9, period 1 s..366 d. The burst
// is set to N. On failure the error message says what is wrong, without a location (the
// caller adds it).
Result<Rate> ParseRate(std::string_view text);

// 3600 -> "1h", 90 -> "90s", 86400 * 2 -> "2d": the largest unit that divides exactly.
std::string FormatDuration(std::int64_t seconds);

}  // namespace floodgate::policy
