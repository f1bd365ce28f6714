#include "policy/adaptive.h"

#include <gtest/gtest.h>

#include <vector>

#include "policy/planner.h"

namespace floodgate::policy {
namespace {

constexpr Micros kMinute = 60'000'000;
constexpr Micros kHour = 60 * kMinute;
constexpr Micros kDay = 24 * kHour;
constexpr std::int64_t kFactor10 = 10'000;

WindowSpec Adaptive(std::int64_t amount, Micros period, std::int64_t floor) {
  WindowSpec w;
  w.period_us = period;
  w.amount = amount;
  w.emission_us = period / amount;
  w.tolerance_us = amount * w.emission_us;
  w.lock_threshold = 10 * amount;
  w.floor_amount = floor;
  w.rise_ppm = RisePpm(period);
  return w;
}

TEST(AdaptiveTest, TheRisePerPeriodIsLn2OfADay) {
  EXPECT_EQ(RisePpm(kDay), 693147);
  EXPECT_EQ(RisePpm(kHour), 28881);
  EXPECT_EQ(RisePpm(kMinute), 481);
}

TEST(AdaptiveTest, ANewSubjectStartsAtTheFloor) {
  const WindowSpec w = Adaptive(300, kHour, 50);
  WindowState s;
  Roll(w, kFactor10, s, 5 * kDay + 10);
  EXPECT_EQ(s.usual, 0);
  EXPECT_EQ(s.period_end, 5 * kDay + kHour);  // periods are aligned to the clock
  EXPECT_EQ(EffectiveAmount(w, kFactor10, s.usual), 50);
}

TEST(AdaptiveTest, TheAmountIsFactorTimesTheUsualPeakBetweenFloorAndRate) {
  const WindowSpec w = Adaptive(300, kHour, 50);
  EXPECT_EQ(EffectiveAmount(w, kFactor10, 4'900'000), 50);    // 49 < floor
  EXPECT_EQ(EffectiveAmount(w, kFactor10, 12'345'678), 123);  // 10 x 12.345678, rounded down
  EXPECT_EQ(EffectiveAmount(w, kFactor10, 40'000'000), 300);  // 400 > the rate
  EXPECT_EQ(EffectiveAmount(w, 2'500, 40'000'000), 100);      // factor 2.5
}

TEST(AdaptiveTest, AQuieterPeriodPullsTheUsualPeakAnEighthOfTheWayDown) {
  const WindowSpec w = Adaptive(300, kHour, 50);
  WindowState s{.period_end = kHour, .accepted = 2, .usual = 10'000'000};
  Roll(w, kFactor10, s, kHour);
  EXPECT_EQ(s.usual, 10'000'000 - 1'000'000);  // (10 - 2) / 8 = 1 unit
  EXPECT_EQ(s.accepted, 0);
  EXPECT_EQ(s.period_end, 2 * kHour);
}

TEST(AdaptiveTest, ABusierPeriodRaisesItByAtMostTheRiseOfItsBase) {
  const WindowSpec w = Adaptive(300, kHour, 50);
  // From nothing, the base is floor / factor = 5 units; the rise is 2.8881% of it.
  WindowState s{.period_end = kHour, .accepted = 200, .usual = 0};
  Roll(w, kFactor10, s, kHour);
  EXPECT_EQ(s.usual, std::int64_t{5'000'000} * 28881 / 1'000'000);
  // Below the cap the usual peak goes straight to the period's total.
  WindowState t{.period_end = kHour, .accepted = 20, .usual = 19'900'000};
  Roll(w, kFactor10, t, kHour);
  EXPECT_EQ(t.usual, 20'000'000);
}

TEST(AdaptiveTest, IdlePeriodsCostNothingAndChangeNothing) {
  const WindowSpec w = Adaptive(300, kHour, 50);
  WindowState s{.period_end = kHour, .accepted = 7, .usual = 7'000'000};
  Roll(w, kFactor10, s, 30 * kDay);  // a month later: only the last counted period folds
  EXPECT_EQ(s.usual, 7'000'000);
  EXPECT_EQ(s.period_end, 30 * kDay + kHour);
}

// The attacker's best: every period, accept as much as the window lets through from idle
// (its burst plus a period's refill, twice the amount). For a day, whatever the window.
std::int64_t AmountAfterADayOfPushing(const WindowSpec& w, std::int64_t usual) {
  WindowState s{.period_end = w.period_us, .accepted = 0, .usual = usual};
  for (Micros t = w.period_us; t <= kDay + w.period_us; t += w.period_us) {
    Roll(w, kFactor10, s, t);
    s.accepted = 2 * EffectiveAmount(w, kFactor10, s.usual);
  }
  return EffectiveAmount(w, kFactor10, s.usual);
}

TEST(AdaptiveTest, PushingItEveryPeriodAtMostDoublesTheAmountPerDay) {
  for (const WindowSpec& w : {Adaptive(100'000, kMinute, 10), Adaptive(100'000, kHour, 50),
                              Adaptive(100'000, kDay, 200)}) {
    SCOPED_TRACE(w.period_us);
    EXPECT_LE(AmountAfterADayOfPushing(w, 0), 2 * w.floor_amount);
    const std::int64_t learned = std::int64_t{8'000} * 1'000'000 / 10;  // allows 8,000
    EXPECT_LE(AmountAfterADayOfPushing(w, learned), 2 * 8'000);
    EXPECT_GT(AmountAfterADayOfPushing(w, learned), 8'000);  // but it does learn
  }
}

TEST(AdaptiveTest, TighteningScalesEmissionAndLockThresholdAndKeepsTheTolerance) {
  const WindowSpec w = Adaptive(30, kMinute, 10);
  const WindowSpec t = Tightened(w, 10);
  EXPECT_EQ(t.amount, 10);
  EXPECT_EQ(t.emission_us, kMinute / 10);
  EXPECT_EQ(t.tolerance_us, w.tolerance_us);  // so the burst is 10 units, a third of 30
  EXPECT_EQ(t.tolerance_us / t.emission_us, 10);
  EXPECT_EQ(t.lock_threshold, 100);  // lock_after 10 x 10
  EXPECT_EQ(Tightened(w, 30).emission_us, w.emission_us);
}

TEST(AdaptiveTest, ATightenedBucketHoldsAtLeastOneUnit) {
  WindowSpec w = Adaptive(30, kMinute, 10);
  w.tolerance_us = w.emission_us;  // burst = 1
  const WindowSpec t = Tightened(w, 10);
  EXPECT_EQ(t.tolerance_us, t.emission_us);
}

TEST(AdaptiveTest, ApplyChecksLearnsFromAcceptedUnitsOnly) {
  LimitCheck c;
  c.key = "k";
  c.adaptive_factor_milli = kFactor10;
  c.windows = {Adaptive(300, kHour, 5)};
  std::vector<std::vector<WindowState>> states = {{WindowState{}}};
  const std::vector<SubjectState> subjects(1);
  int allowed = 0;
  for (int i = 0; i < 20; ++i) {
    const CheckOutcome o = ApplyChecks({c}, states, subjects, 10 * kHour + i);
    allowed += o.allowed ? 1 : 0;
    EXPECT_EQ(o.limits[0].windows[0].amount, 5);
    EXPECT_TRUE(o.limits[0].windows[0].adapted);
  }
  EXPECT_EQ(allowed, 5);  // the floor
  EXPECT_EQ(states[0][0].accepted, 5);
  // A lock-free subject's refused units never taught it anything; the next period folds 5.
  ApplyChecks({c}, states, subjects, 11 * kHour);
  EXPECT_EQ(states[0][0].usual, std::int64_t{500'000} * 28881 / 1'000'000);
}

TEST(AdaptiveTest, APlainWindowKeepsItsAmountAndLearnsNothing) {
  LimitCheck c;
  c.key = "k";
  c.windows = {ToWindow(Rate{.amount = 3, .period_s = 3600, .burst = 0, .text = "3/1h"})};
  std::vector<std::vector<WindowState>> states = {{WindowState{}}};
  const CheckOutcome o = ApplyChecks({c}, states, std::vector<SubjectState>(1), kHour);
  EXPECT_EQ(o.limits[0].windows[0].amount, 3);
  EXPECT_FALSE(o.limits[0].windows[0].adapted);
  EXPECT_EQ(states[0][0].period_end, 0);
  EXPECT_EQ(states[0][0].accepted, 0);
}

TEST(AdaptiveTest, TooManyDistinctDomainsLockTheSubject) {
  LimitCheck c;
  c.key = "k";
  c.lock_key = "l";
  c.max_domains = 3;
  std::vector<std::vector<WindowState>> states = {{}};
  SubjectState s;
  s.distinct_domains = 3;
  EXPECT_TRUE(ApplyChecks({c}, states, {s}, kHour).allowed);
  s.distinct_domains = 4;
  const CheckOutcome o = ApplyChecks({c}, states, {s}, kHour);
  EXPECT_FALSE(o.allowed);
  EXPECT_TRUE(o.limits[0].newly_locked);
  EXPECT_EQ(o.limits[0].lock_reason, "too_many_domains");
  c.advisory = true;  // a monitor limit never locks
  EXPECT_FALSE(ApplyChecks({c}, states, {s}, kHour).limits[0].newly_locked);
}

}  // namespace
}  // namespace floodgate::policy
