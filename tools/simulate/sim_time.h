// Simulated time: microseconds since the start of the simulation, which is a Monday at
// 00:00 (day 0). The store's FakeClock reads kClockEpoch + this.
// Thread-safety: constants and pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "floodgate/clock.h"

namespace floodgate::simulate {

using SimTime = Micros;

inline constexpr Micros kSecondUs = 1'000'000;
inline constexpr Micros kMinuteUs = 60 * kSecondUs;
inline constexpr Micros kHourUs = 60 * kMinuteUs;
inline constexpr Micros kDayUs = 24 * kHourUs;
inline constexpr Micros kWeekUs = 7 * kDayUs;
// Where the FakeClock starts: far from 0, as a steady clock would be.
inline constexpr Micros kClockEpoch = 1'000'000'000'000;

// 0 = Monday ... 6 = Sunday.
inline int Weekday(std::int64_t day) { return static_cast<int>(day % 7); }
inline bool IsWeekend(std::int64_t day) { return Weekday(day) >= 5; }

// "day 30 (Wed) 10:02:03".
std::string FormatSimTime(SimTime t);
// A span, shortest exact-to-the-second form: "45s", "7m12s", "2h0m5s", "1d3h".
std::string FormatSpan(Micros us);

}  // namespace floodgate::simulate
