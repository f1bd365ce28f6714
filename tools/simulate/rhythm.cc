#include "tools/simulate/rhythm.h"

namespace floodgate::simulate {

SimTime Rhythm::TimeInDay(std::int64_t day, Rng& rng) const {
  const std::array<double, 24>& hours = IsWeekend(day) ? weekend_hours : weekday_hours;
  double total = 0;
  for (double w : hours) total += w;
  double u = rng.Uniform() * total;
  int hour = 23;
  while (hour > 0 && hours[hour] <= 0) --hour;  // where rounding at the very end lands
  for (int h = 0; h < 24; ++h) {
    if (u < hours[h]) {
      hour = h;
      break;
    }
    u -= hours[h];
  }
  const Micros within = static_cast<Micros>(rng.Uniform() * static_cast<double>(kHourUs));
  return day * kDayUs + hour * kHourUs + within;
}

}  // namespace floodgate::simulate
