// Rhythm: when in the week legitimate mail is written. A day's volume is the account's
// usual day times DayFactor (1 on weekdays, weekend_factor on Saturday and Sunday), and
// each message falls in an hour drawn from that day's 24 hourly weights.
// Thread-safety: plain value; the draws use the caller's Rng.
#pragma once

#include <array>
#include <cstdint>

#include "tools/simulate/random.h"
#include "tools/simulate/sim_time.h"

namespace floodgate::simulate {

struct Rhythm {
  // Relative weights per hour, 00-01 first; not all zero. Working hours by default.
  std::array<double, 24> weekday_hours{0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.6, 1.5, 4,   6, 7,   7,
                                       5,   6,   7,   6,   5,   3.5, 2,   1.5, 1.2, 1, 0.6, 0.4};
  std::array<double, 24> weekend_hours = weekday_hours;
  double weekend_factor = 0.2;

  // The share of an account's usual day it writes on `day` (0 = a Monday).
  double DayFactor(std::int64_t day) const { return IsWeekend(day) ? weekend_factor : 1.0; }
  // A moment of `day` drawn from its hourly weights (uniform within the hour).
  SimTime TimeInDay(std::int64_t day, Rng& rng) const;
};

}  // namespace floodgate::simulate
