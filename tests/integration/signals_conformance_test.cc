// The signals of a hijacked account in the CounterStore contract - distinct recipient
// domains and adaptive windows - run unchanged against every backend. The adaptive
// arithmetic is held equal between the Lua script and policy/adaptive.cc by seeding the
// same learned state into both stores and comparing what each makes of it.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "floodgate/store_layout.h"
#include "policy/adaptive.h"
#include "tests/integration/conformance_fixture.h"

namespace floodgate::store {
namespace {

constexpr Micros kWeek = 7 * kDay;
constexpr std::int64_t kFactor10 = 10'000;

LimitCheck DomainLimit(std::int64_t max_domains, Micros window, std::vector<std::string> domains) {
  LimitCheck c = Limit("submission", {Window(1000, kHour)});
  c.lock_ttl_us = kHour;
  c.max_domains = max_domains;
  c.domains_window_us = window;
  c.domains = std::move(domains);
  return c;
}

// A one-window adaptive limit: `amount` per week, floor `floor`.
LimitCheck AdaptiveLimit(std::int64_t amount, std::int64_t floor, std::int64_t factor_milli,
                         std::int64_t rise_ppm) {
  WindowSpec w = Window(amount, kWeek);
  w.floor_amount = floor;
  w.rise_ppm = rise_ppm;
  LimitCheck c = Limit("submission", {w});
  c.adaptive_factor_milli = factor_milli;
  return c;
}

class SignalsConformanceTest : public StoreConformanceTest {
 protected:
  // Gives `key`'s window of `period` a counted period that has ended, with `accepted`
  // units and usual peak `usual`: the next check folds it.
  void SeedLearned(const std::string& key, Micros period, std::int64_t accepted,
                   std::int64_t usual) {
    if (GetParam() == Backend::kMemory) {
      static_cast<MemoryStore&>(*store_).Import([&](state::Visitor& v) {
        const state::Window w{.period_us = period,
                              .period_end = 1,
                              .usual = usual,
                              .accepted = state::Saturated(accepted)};
        v.Counter(key, std::span(&w, 1));
      });
      return;
    }
    // Period index 1 ends at `period` after the epoch: long past on Redis' clock.
    auto r = static_cast<RedisStore&>(*store_).Command(
        {"HSET", key, layout::Field(layout::kLearnedField, period),
         "1:" + std::to_string(accepted) + ":" + std::to_string(usual)});
    ASSERT_TRUE(r.ok()) << r.error().message();
  }

  // The learned numbers the store holds for `key`'s window of `period`.
  policy::WindowState Learned(const std::string& key, Micros period) {
    if (GetParam() == Backend::kMemory) {
      return static_cast<MemoryStore&>(*store_).Windows(key)[period];
    }
    auto r = static_cast<RedisStore&>(*store_).Command(
        {"HGET", key, layout::Field(layout::kLearnedField, period)});
    EXPECT_TRUE(r.ok());
    policy::WindowState s;
    long long index = 0, accepted = 0, usual = 0;
    EXPECT_EQ(std::sscanf(r->str.c_str(), "%lld:%lld:%lld", &index, &accepted, &usual), 3)
        << r->str;
    s.period_end = index * period;
    s.accepted = accepted;
    s.usual = usual;
    return s;
  }
};

TEST_P(SignalsConformanceTest, MoreDistinctDomainsThanTheCountLockTheSubject) {
  for (const char* d : {"aaaaaaaa", "bbbbbbbb", "aaaaaaaa", "cccccccc", "bbbbbbbb"}) {
    const CheckOutcome o = Check({DomainLimit(3, kHour, {d})});
    EXPECT_TRUE(o.allowed) << d;
  }
  const CheckOutcome o = Check({DomainLimit(3, kHour, {"dddddddd"})});
  EXPECT_FALSE(o.allowed);
  EXPECT_TRUE(o.limits[0].newly_locked);
  EXPECT_EQ(o.limits[0].lock_reason, "too_many_domains");
  // Locked for every recipient now, seen domains too.
  const CheckOutcome again = Check({DomainLimit(3, kHour, {"aaaaaaaa"})});
  EXPECT_TRUE(again.limits[0].locked);
  EXPECT_FALSE(again.limits[0].newly_locked);
  EXPECT_EQ(ActiveLocks(), 1);
}

TEST_P(SignalsConformanceTest, TheDomainsOfOneMessageCountTogether) {
  const CheckOutcome o =
      Check({DomainLimit(3, kHour, {"aaaaaaaa", "bbbbbbbb", "cccccccc", "dddddddd"})});
  EXPECT_TRUE(o.limits[0].newly_locked);
  EXPECT_EQ(o.limits[0].lock_reason, "too_many_domains");
}

TEST_P(SignalsConformanceTest, ADomainIsForgottenOnceItsWindowHasPassed) {
  const Micros window = 300 * kMs;
  EXPECT_TRUE(Check({DomainLimit(1, window, {"aaaaaaaa"})}).allowed);
  LetTimePass(window + 50 * kMs);
  EXPECT_TRUE(Check({DomainLimit(1, window, {"bbbbbbbb"})}).allowed);
  EXPECT_TRUE(Check({DomainLimit(1, window, {"cccccccc"})}).limits[0].newly_locked);
}

TEST_P(SignalsConformanceTest, AnAdvisoryLimitCountsDomainsButNeverLocks) {
  LimitCheck c = DomainLimit(1, kHour, {"aaaaaaaa", "bbbbbbbb"});
  c.advisory = true;
  const CheckOutcome o = Check({c});
  EXPECT_TRUE(o.allowed);
  EXPECT_FALSE(o.limits[0].locked);
}

TEST_P(SignalsConformanceTest, ANewSubjectIsHeldToTheFloor) {
  const LimitCheck c = AdaptiveLimit(30, 10, kFactor10, policy::RisePpm(kWeek));
  EXPECT_EQ(CountAllowed({c}, 25), 10);
  const CheckOutcome o = Check({c});
  EXPECT_FALSE(o.allowed);
  EXPECT_EQ(o.limits[0].windows[0].amount, 10);
  EXPECT_TRUE(o.limits[0].windows[0].adapted);
}

TEST_P(SignalsConformanceTest, OnlyAcceptedUnitsAreCountedTowardsTheUsualPeak) {
  const LimitCheck c = AdaptiveLimit(30, 5, kFactor10, policy::RisePpm(kWeek));
  EXPECT_EQ(CountAllowed({c}, 12), 5);
  EXPECT_EQ(Learned(c.key, kWeek).accepted, 5);
  EXPECT_EQ(Learned(c.key, kWeek).usual, 0);
}

TEST_P(SignalsConformanceTest, AWindowThatDoesNotAdaptKeepsItsAmount) {
  LimitCheck c = Limit("submission", {Window(3, kHour)});
  c.adaptive_factor_milli = kFactor10;  // but the window has no floor
  EXPECT_EQ(CountAllowed({c}, 5), 3);
  const CheckOutcome o = Check({c});
  EXPECT_EQ(o.limits[0].windows[0].amount, 3);
  EXPECT_FALSE(o.limits[0].windows[0].adapted);
}

// The fold of an ended period and the amount it allows, for many learned states: both
// stores agree with each other and with policy/adaptive.cc, to the millionth of a unit.
TEST_P(SignalsConformanceTest, TheLearningArithmeticIsTheSameInEveryStore) {
  std::mt19937_64 rng(20261201);
  auto draw = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  for (int i = 0; i < 150; ++i) {
    const std::int64_t amount = draw(1, i % 3 == 0 ? 10'000'000 : 2'000);
    const std::int64_t floor = draw(1, amount);
    const std::int64_t factor = draw(1'000, 50'000);
    const std::int64_t rise =
        i % 4 == 0 ? draw(1, 5'000'000) : policy::RisePpm(draw(1, 30) * kDay / 24);
    const std::int64_t accepted = draw(0, 3 * amount);
    const std::int64_t usual = draw(0, 2 * amount * 1'000'000);
    SCOPED_TRACE(::testing::Message()
                 << "amount " << amount << " floor " << floor << " factor " << factor << " rise "
                 << rise << " accepted " << accepted << " usual " << usual);
    LimitCheck c = AdaptiveLimit(amount, floor, factor, rise);
    c.key += std::to_string(i);
    SeedLearned(c.key, kWeek, accepted, usual);

    // What policy/adaptive.cc makes of it.
    policy::WindowState expected{.period_end = 1, .accepted = accepted, .usual = usual};
    policy::Roll(c.windows[0], factor, expected, 2 * kWeek);
    const std::int64_t expected_amount =
        policy::EffectiveAmount(c.windows[0], factor, expected.usual);

    const CheckOutcome o = Check({c});
    ASSERT_EQ(o.limits.size(), 1u);
    EXPECT_EQ(o.limits[0].windows[0].amount, expected_amount);
    EXPECT_EQ(o.limits[0].windows[0].adapted, expected_amount < amount);
    const policy::WindowState stored = Learned(c.key, kWeek);
    EXPECT_EQ(stored.usual, expected.usual);
    EXPECT_EQ(stored.accepted, o.allowed ? 1 : 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, SignalsConformanceTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis),
                         [](const auto& info) {
                           return info.param == Backend::kMemory ? "Memory" : "Redis";
                         });

}  // namespace
}  // namespace floodgate::store
