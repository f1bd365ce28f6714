#include "tools/bench/pacing.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

namespace floodgate::bench {
namespace {

using std::chrono::nanoseconds;

TEST(PacingTest, MessagesAreDueEveryOneOverRateSeconds) {
  EXPECT_EQ(ScheduleOffset(0, 1000), nanoseconds(0));
  EXPECT_EQ(ScheduleOffset(1, 1000), nanoseconds(1'000'000));
  EXPECT_EQ(ScheduleOffset(2500, 1000), nanoseconds(2'500'000'000));
  EXPECT_EQ(ScheduleOffset(1, 4), nanoseconds(250'000'000));
}

TEST(PacingTest, FractionalRatesRoundToTheNearestNanosecond) {
  EXPECT_EQ(ScheduleOffset(1, 3), nanoseconds(333'333'333));
  EXPECT_EQ(ScheduleOffset(2, 3), nanoseconds(666'666'667));
  EXPECT_EQ(ScheduleOffset(3, 3), nanoseconds(1'000'000'000));
  EXPECT_EQ(ScheduleOffset(1, 0.5), nanoseconds(2'000'000'000));
}

TEST(PacingTest, TheScheduleDoesNotDriftOverALongRun) {
  // 1/7000 s is not a whole number of nanoseconds; message n is still due at n/7000 s,
  // not n times a rounded interval.
  EXPECT_EQ(ScheduleOffset(7'000'000, 7000), nanoseconds(1'000'000'000'000));
  nanoseconds previous{-1};
  for (std::uint64_t n = 0; n < 100'000; ++n) {
    const nanoseconds at = ScheduleOffset(n, 7000);
    ASSERT_GT(at, previous) << n;
    ASSERT_LE((at - previous).count(), 142'858) << n;
    previous = at;
  }
}

TEST(PacingTest, NoRateMeansEverythingIsDueAtOnce) {
  EXPECT_EQ(ScheduleOffset(12345, 0), nanoseconds(0));
  Pacing p;
  p.start = Pacing::Clock::time_point(std::chrono::seconds(100));
  EXPECT_FALSE(p.paced());
  EXPECT_EQ(p.Due(12345), p.start);
}

TEST(PacingTest, DueIsTheStartPlusTheOffset) {
  Pacing p;
  p.rate = 2000;
  p.start = Pacing::Clock::time_point(std::chrono::seconds(100));
  EXPECT_TRUE(p.paced());
  EXPECT_EQ(p.Due(0), p.start);
  EXPECT_EQ(p.Due(3), p.start + std::chrono::microseconds(1500));
}

TEST(PacingTest, AnAbsurdScheduleSaturatesInsteadOfOverflowing) {
  EXPECT_EQ(ScheduleOffset(std::numeric_limits<std::uint64_t>::max(), 1e-3), nanoseconds::max());
  Pacing p;
  p.rate = 1e-3;
  p.start = Pacing::Clock::time_point(std::chrono::seconds(100));
  EXPECT_EQ(p.Due(std::numeric_limits<std::uint64_t>::max()), Pacing::Clock::time_point::max());
}

TEST(PacingTest, MessagesDueWithinADuration) {
  EXPECT_EQ(MessagesDueWithin(1, 1000), 1000);  // offsets 0 .. 0.999 s
  EXPECT_EQ(MessagesDueWithin(0.3, 10), 3);     // 0, 0.1, 0.2 (0.3 * 10 is 3.0000000000000004)
  EXPECT_EQ(MessagesDueWithin(0.25, 10), 3);    // 0, 0.1, 0.2
  EXPECT_EQ(MessagesDueWithin(0.0001, 10), 1);  // message 0 is due at once
  EXPECT_EQ(MessagesDueWithin(2.5, 0.5), 2);    // 0 and 2 s
  EXPECT_EQ(MessagesDueWithin(0, 1000), 0);
  EXPECT_EQ(MessagesDueWithin(10, 0), 0);
}

TEST(PacingTest, AchievedRateCountsTheIntervalsBetweenFirstAndLastStart) {
  // 1001 messages on a 1000/s schedule: the last starts at 1 s.
  EXPECT_DOUBLE_EQ(AchievedRate(1001, ScheduleOffset(1000, 1000)), 1000.0);
  // The same messages, the last starting 0.25 s behind schedule.
  EXPECT_DOUBLE_EQ(AchievedRate(1001, nanoseconds(1'250'000'000)), 800.0);
  EXPECT_EQ(AchievedRate(1, nanoseconds(0)), 0.0);
  EXPECT_EQ(AchievedRate(0, nanoseconds(5)), 0.0);
  EXPECT_EQ(AchievedRate(10, nanoseconds(0)), 0.0);
}

}  // namespace
}  // namespace floodgate::bench
