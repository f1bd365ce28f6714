#include "milter/store_breaker.h"

#include <gtest/gtest.h>

namespace floodgate::milter {
namespace {

using Admission = StoreBreaker::Admission;
constexpr Micros kMs = 1000;

class StoreBreakerTest : public ::testing::Test {
 protected:
  // Fails one call while closed: the breaker opens.
  void Fail() {
    ASSERT_EQ(breaker_.Admit(), Admission::kCall);
    breaker_.Record(Admission::kCall, false);
  }
  // Waits out the backoff, then fails the probe.
  void FailProbe() {
    clock_.Advance(breaker_.next_probe_at() - clock_.now());
    ASSERT_EQ(breaker_.Admit(), Admission::kProbe);
    breaker_.Record(Admission::kProbe, false);
  }

  FakeClock clock_;
  StoreBreaker breaker_{clock_};
};

TEST_F(StoreBreakerTest, ACallThatSucceedsKeepsItClosed) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(breaker_.Admit(), Admission::kCall);
    breaker_.Record(Admission::kCall, true);
  }
  EXPECT_FALSE(breaker_.open());
}

TEST_F(StoreBreakerTest, AfterAFailureCallsAreSkippedUntilTheBackoffPasses) {
  Fail();
  EXPECT_TRUE(breaker_.open());
  EXPECT_EQ(breaker_.backoff_us(), 50 * kMs);
  EXPECT_EQ(breaker_.next_probe_at(), clock_.now() + 50 * kMs);
  EXPECT_EQ(breaker_.Admit(), Admission::kSkip);
  clock_.Advance(50 * kMs - 1);
  EXPECT_EQ(breaker_.Admit(), Admission::kSkip);
  clock_.Advance(1);
  EXPECT_EQ(breaker_.Admit(), Admission::kProbe);
}

TEST_F(StoreBreakerTest, OneProbeAtATime) {
  Fail();
  clock_.Advance(50 * kMs);
  ASSERT_EQ(breaker_.Admit(), Admission::kProbe);
  // The probe is still waiting on the store: everyone else skips, however late it gets.
  clock_.Advance(10'000 * kMs);
  EXPECT_EQ(breaker_.Admit(), Admission::kSkip);
  EXPECT_EQ(breaker_.Admit(), Admission::kSkip);
  breaker_.Record(Admission::kProbe, false);
  EXPECT_EQ(breaker_.Admit(), Admission::kSkip);  // the next probe waits its backoff
}

TEST_F(StoreBreakerTest, TheBackoffDoublesPerFailedProbeUpToItsCap) {
  Fail();
  std::vector<Micros> backoffs{breaker_.backoff_us()};
  for (int i = 0; i < 8; ++i) {
    FailProbe();
    backoffs.push_back(breaker_.backoff_us());
    EXPECT_EQ(breaker_.next_probe_at(), clock_.now() + backoffs.back());
  }
  EXPECT_EQ(backoffs, (std::vector<Micros>{50 * kMs, 100 * kMs, 200 * kMs, 400 * kMs, 800 * kMs,
                                           1600 * kMs, 2000 * kMs, 2000 * kMs, 2000 * kMs}));
}

TEST_F(StoreBreakerTest, AProbeThatSucceedsClosesItAndResetsTheBackoff) {
  Fail();
  FailProbe();
  FailProbe();
  clock_.Advance(breaker_.next_probe_at() - clock_.now());
  ASSERT_EQ(breaker_.Admit(), Admission::kProbe);
  breaker_.Record(Admission::kProbe, true);
  EXPECT_FALSE(breaker_.open());
  EXPECT_EQ(breaker_.Admit(), Admission::kCall);
  breaker_.Record(Admission::kCall, false);  // the next outage starts from the first backoff
  EXPECT_EQ(breaker_.backoff_us(), 50 * kMs);
}

TEST_F(StoreBreakerTest, CallsInFlightWhenItOpenedDoNotMoveTheSchedule) {
  // Three calls are admitted together; the store then freezes and all three fail.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(breaker_.Admit(), Admission::kCall);
  breaker_.Record(Admission::kCall, false);
  const Micros probe_at = breaker_.next_probe_at();
  clock_.Advance(30 * kMs);
  breaker_.Record(Admission::kCall, false);
  breaker_.Record(Admission::kCall, false);
  EXPECT_EQ(breaker_.next_probe_at(), probe_at);
  EXPECT_EQ(breaker_.backoff_us(), 50 * kMs);
}

TEST_F(StoreBreakerTest, ALateSuccessOfAnEarlierCallClosesIt) {
  ASSERT_EQ(breaker_.Admit(), Admission::kCall);
  ASSERT_EQ(breaker_.Admit(), Admission::kCall);
  breaker_.Record(Admission::kCall, false);
  ASSERT_TRUE(breaker_.open());
  breaker_.Record(Admission::kCall, true);  // the store answered the other one
  EXPECT_FALSE(breaker_.open());
  EXPECT_EQ(breaker_.Admit(), Admission::kCall);
}

TEST_F(StoreBreakerTest, AProbeFailingAfterAnotherCallClosedItOpensItAfresh) {
  Fail();
  clock_.Advance(50 * kMs);
  ASSERT_EQ(breaker_.Admit(), Admission::kProbe);
  breaker_.Record(Admission::kCall, true);  // a call from before the outage answered
  ASSERT_FALSE(breaker_.open());
  breaker_.Record(Admission::kProbe, false);
  EXPECT_TRUE(breaker_.open());
  EXPECT_EQ(breaker_.backoff_us(), 50 * kMs);
  // ... and the probe slot is free again once the backoff passes.
  clock_.Advance(50 * kMs);
  EXPECT_EQ(breaker_.Admit(), Admission::kProbe);
}

TEST_F(StoreBreakerTest, OptionsSetTheBackoff) {
  StoreBreaker breaker(clock_, {.first_backoff_us = 10 * kMs, .max_backoff_us = 25 * kMs});
  ASSERT_EQ(breaker.Admit(), Admission::kCall);
  breaker.Record(Admission::kCall, false);
  EXPECT_EQ(breaker.backoff_us(), 10 * kMs);
  for (Micros expected : {20 * kMs, 25 * kMs, 25 * kMs}) {
    clock_.Advance(breaker.next_probe_at() - clock_.now());
    ASSERT_EQ(breaker.Admit(), Admission::kProbe);
    breaker.Record(Admission::kProbe, false);
    EXPECT_EQ(breaker.backoff_us(), expected);
  }
}

}  // namespace
}  // namespace floodgate::milter
