#include "policy/gcra.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

constexpr Micros kSecond = 1'000'000;
constexpr Micros kHour = 3600 * kSecond;

WindowSpec Window(std::int64_t amount, Micros period, std::int64_t burst = 0) {
  WindowSpec w;
  w.period_us = period;
  w.emission_us = period / amount;
  w.tolerance_us = (burst ? burst : amount) * w.emission_us;
  return w;
}

// A tiny single-key store over ApplyChecks, with a clock the test moves.
class GcraTest : public ::testing::Test {
 protected:
  bool Try(std::int64_t cost = 1) { return Run({Limit(cost)}).allowed; }
  LimitCheck Limit(std::int64_t cost) {
    LimitCheck c;
    c.key = "k";
    c.windows = windows_;
    c.cost = cost;
    c.strict = strict_;
    return c;
  }
  CheckOutcome Run(const std::vector<LimitCheck>& checks) {
    if (states_.size() < checks.size()) states_.resize(checks.size());
    for (std::size_t i = 0; i < checks.size(); ++i) states_[i].resize(checks[i].windows.size());
    subjects_.resize(checks.size());
    return ApplyChecks(checks, states_, subjects_, now_);
  }
  int CountAllowed(int attempts) {
    int n = 0;
    for (int i = 0; i < attempts; ++i) n += Try() ? 1 : 0;
    return n;
  }

  Micros now_ = 1'000 * kHour;
  bool strict_ = false;
  std::vector<WindowSpec> windows_;
  std::vector<std::vector<WindowState>> states_;
  std::vector<SubjectState> subjects_;
};

TEST_F(GcraTest, FromIdleExactlyTheBurstPassesAtOnce) {
  windows_ = {Window(100, kHour)};
  EXPECT_EQ(CountAllowed(1200), 100);
}

TEST_F(GcraTest, RefillsOneUnitPerEmissionInterval) {
  windows_ = {Window(100, kHour)};  // E = 36 s
  ASSERT_EQ(CountAllowed(100), 100);
  now_ += 36 * kSecond - 1;
  EXPECT_FALSE(Try()) << "one microsecond before the unit refills";
  now_ += 1;
  EXPECT_TRUE(Try()) << "exactly at the refill";
  EXPECT_FALSE(Try());
}

TEST_F(GcraTest, AtMostBurstPlusAmountWithinTheFirstPeriod) {
  windows_ = {Window(100, kHour)};
  int allowed = 0;
  // Hammer every second for one full period from idle.
  for (Micros t = 0; t <= kHour; t += kSecond) {
    now_ += kSecond;
    allowed += CountAllowed(5);
  }
  EXPECT_EQ(allowed, 200);
}

TEST_F(GcraTest, NoWindowEdgeDoublesTheRate) {
  // A fixed window would let 2N pass around its edge; GCRA never lets more than
  // burst + rate*elapsed pass in any interval.
  windows_ = {Window(10, 60 * kSecond)};
  now_ += 59 * kSecond;
  EXPECT_EQ(CountAllowed(50), 10);
  now_ += 2 * kSecond;  // "past the edge"
  EXPECT_EQ(CountAllowed(50), 0);
}

TEST_F(GcraTest, BurstSmallerThanAmountCapsTheInitialBurst) {
  windows_ = {Window(60, 60 * kSecond, /*burst=*/5)};
  EXPECT_EQ(CountAllowed(60), 5);
  now_ += 10 * kSecond;  // refilled 10 units, but the bucket holds 5
  EXPECT_EQ(CountAllowed(60), 5);
}

TEST_F(GcraTest, RefusedUnitsChargeNoWindowInLeakyMode) {
  windows_ = {Window(30, 60 * kSecond), Window(40, kHour)};
  EXPECT_EQ(CountAllowed(100), 30);  // the minute window refuses first
  now_ += 60 * kSecond;              // minute window full again, hour has 10 left (+ refill)
  EXPECT_EQ(CountAllowed(100), 10);
}

TEST_F(GcraTest, CostLargerThanWhatIsLeftIsRefusedWhole) {
  windows_ = {Window(100, kHour)};
  EXPECT_TRUE(Try(60));
  EXPECT_FALSE(Try(50));
  EXPECT_TRUE(Try(40));
}

TEST_F(GcraTest, StrictModeChargesRefusedAttemptsButCapsThePenalty) {
  strict_ = true;
  windows_ = {Window(10, 60 * kSecond)};
  EXPECT_EQ(CountAllowed(1000), 10);
  now_ += 60 * kSecond;
  EXPECT_FALSE(Try()) << "hammering kept the subject blocked";
  // The cap: at most one period past the bucket's tolerance after the last attempt.
  now_ += 60 * kSecond + 60 * kSecond;
  EXPECT_TRUE(Try());
}

TEST_F(GcraTest, LeakyModeRecoversWhileHammering) {
  windows_ = {Window(10, 60 * kSecond)};
  EXPECT_EQ(CountAllowed(1000), 10);
  now_ += 6 * kSecond;
  EXPECT_TRUE(Try());
}

TEST_F(GcraTest, FirstRefusalIsReportedOncePerPeriod) {
  windows_ = {Window(2, kHour)};
  CountAllowed(2);
  CheckOutcome first = Run({Limit(1)});
  ASSERT_FALSE(first.allowed);
  EXPECT_TRUE(first.limits[0].windows[0].first_refusal);
  CheckOutcome second = Run({Limit(1)});
  EXPECT_FALSE(second.limits[0].windows[0].first_refusal);
  now_ += kHour;
  CountAllowed(2);
  EXPECT_TRUE(Run({Limit(1)}).limits[0].windows[0].first_refusal);
}

TEST_F(GcraTest, RetryAfterSaysWhenTheUnitFits) {
  windows_ = {Window(100, kHour)};
  CountAllowed(100);
  CheckOutcome o = Run({Limit(1)});
  EXPECT_EQ(o.limits[0].windows[0].retry_after_us, 36 * kSecond);
}

TEST_F(GcraTest, AdvisoryLimitNeverBlocksAndIsChargedOnlyWhenItFits) {
  LimitCheck enforced;
  enforced.key = "a";
  enforced.windows = {Window(100, kHour)};
  LimitCheck advisory = enforced;
  advisory.key = "b";
  advisory.windows = {Window(1, kHour)};
  advisory.advisory = true;
  CheckOutcome o1 = Run({enforced, advisory});
  EXPECT_TRUE(o1.allowed);
  CheckOutcome o2 = Run({enforced, advisory});
  EXPECT_TRUE(o2.allowed);
  EXPECT_FALSE(o2.limits[1].allowed);
  EXPECT_TRUE(o2.limits[1].windows[0].first_refusal);
}

TEST_F(GcraTest, ARefusalByOneLimitChargesNoOtherLimit) {
  LimitCheck account;
  account.key = "account";
  account.windows = {Window(100, kHour)};
  LimitCheck ip = account;
  ip.key = "ip";
  ip.windows = {Window(1, kHour)};
  EXPECT_TRUE(Run({account, ip}).allowed);
  EXPECT_FALSE(Run({account, ip}).allowed);
  // The account window was charged once only: 99 more pass alone.
  int n = 0;
  for (int i = 0; i < 200; ++i) n += Run({account}).allowed ? 1 : 0;
  EXPECT_EQ(n, 99);
}

TEST_F(GcraTest, RefusedUnitsReachingTheThresholdLockTheSubject) {
  windows_ = {Window(100, kHour)};
  windows_[0].lock_threshold = 10 * 100;  // lock_after = 10
  EXPECT_EQ(CountAllowed(100), 100);
  for (int i = 0; i < 999; ++i) {
    const CheckOutcome o = Run({Limit(1)});
    ASSERT_FALSE(o.limits[0].newly_locked) << "refusal " << i + 1;
  }
  const CheckOutcome o = Run({Limit(1)});
  EXPECT_TRUE(o.limits[0].newly_locked);
  EXPECT_EQ(o.limits[0].lock_reason, "burst");
  EXPECT_EQ(o.limits[0].refused_units, 1000);
}

TEST_F(GcraTest, AfterALockEndsOneMoreRefusalDoesNotLockAgain) {
  windows_ = {Window(100, kHour)};
  windows_[0].lock_threshold = 200;
  CountAllowed(100);
  CountAllowed(199);
  ASSERT_TRUE(Run({Limit(1)}).limits[0].newly_locked);
  // The lock expires (lock_ttl) or an admin unlocks it while the window is still full.
  subjects_ = {SubjectState{}};
  for (int i = 0; i < 199; ++i) ASSERT_FALSE(Run({Limit(1)}).limits[0].newly_locked) << i;
  EXPECT_TRUE(Run({Limit(1)}).limits[0].newly_locked) << "a second full burst locks again";
}

TEST_F(GcraTest, ALockedSubjectIsRefusedAndChargedNothing) {
  windows_ = {Window(100, kHour)};
  subjects_ = {SubjectState{true, "admin", 0}};
  const CheckOutcome o = Run({Limit(1)});
  EXPECT_FALSE(o.allowed);
  EXPECT_TRUE(o.limits[0].locked);
  EXPECT_FALSE(o.limits[0].newly_locked);
  EXPECT_EQ(o.limits[0].lock_reason, "admin");
  EXPECT_FALSE(o.limits[0].windows[0].first_refusal) << "a lock is not a rate refusal";
  subjects_[0].locked = false;
  EXPECT_EQ(CountAllowed(200), 100) << "nothing was charged while locked";
}

TEST_F(GcraTest, TooManyDistinctNetworksLockTheAccount) {
  windows_ = {Window(100, kHour)};
  LimitCheck c = Limit(1);
  c.max_networks = 5;
  subjects_ = {SubjectState{false, "", 5}};
  EXPECT_TRUE(Run({c}).allowed);
  subjects_[0].distinct_networks = 6;
  const CheckOutcome o = Run({c});
  EXPECT_FALSE(o.allowed);
  EXPECT_TRUE(o.limits[0].newly_locked);
  EXPECT_EQ(o.limits[0].lock_reason, "too_many_networks");
}

TEST_F(GcraTest, AdvisoryLimitsNeverLock) {
  windows_ = {Window(1, kHour)};
  windows_[0].lock_threshold = 2;
  LimitCheck c = Limit(1);
  c.advisory = true;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(Run({c}).limits[0].newly_locked);
}

}  // namespace
}  // namespace floodgate::policy

namespace floodgate::policy {
namespace {

// The read side agrees with the check: a window is `over` exactly when the next unit
// would be refused, and `frees_in` is when that unit would fit.
TEST(GcraInspectTest, AgreesWithTheFitTestOfTheCheck) {
  WindowSpec w;
  w.period_us = 3'600'000'000;
  w.emission_us = 36'000'000;  // 100/1h
  w.tolerance_us = 100 * w.emission_us;
  LimitCheck c;
  c.windows = {w};
  const Micros now = 10'000'000'000;
  for (Micros ahead : {Micros{0}, Micros{1}, 50 * w.emission_us, 99 * w.emission_us,
                       99 * w.emission_us + 1, 100 * w.emission_us, 120 * w.emission_us}) {
    const WindowState s{now + ahead, 0, 0};
    const WindowLevel level = Inspect(w, s, now);
    std::vector<std::vector<WindowState>> states = {{s}};
    const CheckOutcome o = ApplyChecks({c}, states, {SubjectState{}}, now);
    EXPECT_EQ(level.over, !o.allowed) << "ahead " << ahead;
    if (level.over) {
      EXPECT_EQ(level.frees_in_us, o.limits[0].windows[0].retry_after_us);
    }
    EXPECT_EQ(level.idle_in_us, ahead);
    EXPECT_LE(level.used, 100);
  }
}

}  // namespace
}  // namespace floodgate::policy
