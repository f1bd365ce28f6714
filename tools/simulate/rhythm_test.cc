#include "tools/simulate/rhythm.h"

#include <gtest/gtest.h>

#include <vector>

namespace floodgate::simulate {
namespace {

TEST(RhythmTest, WeekendsAreQuieterByTheirFactor) {
  Rhythm r;
  r.weekend_factor = 0.25;
  for (std::int64_t day = 0; day < 14; ++day) {
    EXPECT_EQ(r.DayFactor(day), day % 7 >= 5 ? 0.25 : 1.0) << day;
  }
  EXPECT_FALSE(IsWeekend(4));  // day 0 is a Monday: day 4 a Friday
  EXPECT_TRUE(IsWeekend(5));
  EXPECT_TRUE(IsWeekend(13));
}

TEST(RhythmTest, TimesFallInTheirDayAndFollowTheHourlyWeights) {
  Rhythm r;
  r.weekday_hours.fill(0);
  r.weekday_hours[9] = 3;   // 09-10: three quarters
  r.weekday_hours[14] = 1;  // 14-15: one quarter
  r.weekend_hours.fill(0);
  r.weekend_hours[20] = 1;
  Rng rng(4);
  std::vector<int> hours(24);
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    const SimTime t = r.TimeInDay(2, rng);
    ASSERT_GE(t, 2 * kDayUs);
    ASSERT_LT(t, 3 * kDayUs);
    ++hours[(t % kDayUs) / kHourUs];
  }
  EXPECT_EQ(hours[9] + hours[14], n);
  EXPECT_NEAR(hours[9] / static_cast<double>(n), 0.75, 0.01);
  for (int i = 0; i < 100; ++i) {
    const SimTime t = r.TimeInDay(6, rng);  // a Sunday
    EXPECT_EQ((t - 6 * kDayUs) / kHourUs, 20);
  }
}

TEST(RhythmTest, DefaultWeekdayIsBusiestInOfficeHours) {
  const Rhythm r;
  Rng rng(1);
  int office = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const Micros hour = (r.TimeInDay(0, rng) % kDayUs) / kHourUs;
    office += hour >= 8 && hour < 18;
  }
  EXPECT_GT(office, n * 0.7);
}

TEST(SimTimeTest, Formats) {
  EXPECT_EQ(FormatSimTime(29 * kDayUs + 10 * kHourUs + 3 * kSecondUs), "day 29 (Tue) 10:00:03");
  EXPECT_EQ(FormatSpan(45 * kSecondUs), "45s");
  EXPECT_EQ(FormatSpan(26 * kMinuteUs + 9 * kSecondUs), "26m9s");
  EXPECT_EQ(FormatSpan(2 * kHourUs), "2h0m0s");
  EXPECT_EQ(FormatSpan(kDayUs + 3 * kHourUs), "1d3h0m");
}

}  // namespace
}  // namespace floodgate::simulate
