#include "tools/simulate/sim_time.h"

#include <fmt/format.h>

namespace floodgate::simulate {

std::string FormatSimTime(SimTime t) {
  static constexpr const char* kNames[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  const std::int64_t day = t / kDayUs;
  const std::int64_t s = (t % kDayUs) / kSecondUs;
  return fmt::format("day {} ({}) {:02}:{:02}:{:02}", day, kNames[Weekday(day)], s / 3600,
                     s / 60 % 60, s % 60);
}

std::string FormatSpan(Micros us) {
  std::int64_t s = us / kSecondUs;
  if (s < 60) return fmt::format("{}s", s);
  const std::int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
  s %= 60;
  if (d > 0) return fmt::format("{}d{}h{}m", d, h, m);
  if (h > 0) return fmt::format("{}h{}m{}s", h, m, s);
  return fmt::format("{}m{}s", m, s);
}

}  // namespace floodgate::simulate
