// The CounterStore contract (include/floodgate/counter_store.h), run unchanged against
// every backend: the memory store on a FakeClock, and the Redis store on a real
// redis-server with Redis' real clock. Tests use long periods ("3/1h") so that real time
// does not matter; the refill test waits by advancing the fake clock or, for Redis, by
// polling a short window until it refills.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "floodgate/clock.h"
#include "floodgate/counter_store.h"
#include "policy/classify.h"
#include "policy/config_loader.h"
#include "policy/planner.h"
#include "tests/integration/conformance_fixture.h"

namespace floodgate::store {
namespace {

TEST_P(StoreConformanceTest, AnEmptyRequestIsAllowed) {
  const CheckOutcome o = Check({});
  EXPECT_TRUE(o.allowed);
  EXPECT_TRUE(o.limits.empty());
}

TEST_P(StoreConformanceTest, TheBurstPassesThenRefusesWithARetryTime) {
  const LimitCheck c = Limit("l", {Window(3, kHour)});
  EXPECT_EQ(CountAllowed({c}, 3), 3);
  const CheckOutcome o = Check({c});
  EXPECT_FALSE(o.allowed);
  ASSERT_EQ(o.limits.size(), 1u);
  EXPECT_FALSE(o.limits[0].allowed);
  ASSERT_EQ(o.limits[0].windows.size(), 1u);
  EXPECT_TRUE(o.limits[0].windows[0].refused);
  // One unit refills in E = 20 min (less whatever real time passed for Redis).
  EXPECT_LE(o.limits[0].windows[0].retry_after_us, kHour / 3);
  EXPECT_GT(o.limits[0].windows[0].retry_after_us, kHour / 3 - 60'000 * kMs);
}

TEST_P(StoreConformanceTest, CostCountsUnits) {
  LimitCheck c = Limit("l", {Window(10, kHour)});
  c.cost = 4;
  EXPECT_EQ(CountAllowed({c}, 3), 2);  // 4 + 4 fit in 10, a third 4 does not
  c.cost = 2;
  EXPECT_EQ(CountAllowed({c}, 2), 1);
}

TEST_P(StoreConformanceTest, TheBucketRefillsOverTime) {
  // Memory: a fake hour. Redis: real time, so a window short enough to wait out.
  const Micros period = GetParam() == Backend::kMemory ? kHour : 300 * kMs;
  const LimitCheck c = Limit("l", {Window(2, period)});
  EXPECT_EQ(CountAllowed({c}, 3), 2);
  EXPECT_TRUE(WaitUntilAllowed(c).allowed);
  if (GetParam() == Backend::kMemory) {
    // One unit came back, not two: the next one is refused again.
    EXPECT_FALSE(Check({c}).allowed);
  }
}

TEST_P(StoreConformanceTest, ARefusalByOneWindowChargesNoWindow) {
  const LimitCheck both = Limit("l", {Window(5, kHour), Window(2, kDay)});
  EXPECT_EQ(CountAllowed({both}, 10), 2);
  const CheckOutcome o = Check({both});
  EXPECT_FALSE(o.limits[0].windows[0].refused);
  EXPECT_TRUE(o.limits[0].windows[1].refused);
  // The hour window (same key, named by its period) was charged for the 2 only.
  EXPECT_EQ(CountAllowed({Limit("l", {Window(5, kHour)})}, 10), 3);
}

TEST_P(StoreConformanceTest, ARefusalByOneLimitChargesNoOtherLimit) {
  const LimitCheck wide = Limit("wide", {Window(100, kHour)});
  const LimitCheck narrow = Limit("narrow", {Window(2, kHour)});
  EXPECT_EQ(CountAllowed({wide, narrow}, 10), 2);
  EXPECT_EQ(CountAllowed({wide}, 200), 98);
}

TEST_P(StoreConformanceTest, StrictChargesRefusedAttemptsButCapsTheDebt) {
  LimitCheck c = Limit("l", {Window(3, kHour)});
  c.strict = true;
  EXPECT_EQ(CountAllowed({c}, 3), 3);
  CheckOutcome o;
  for (int i = 0; i < 50; ++i) o = Check({c});
  EXPECT_FALSE(o.allowed);
  const Micros retry = o.limits[0].windows[0].retry_after_us;
  EXPECT_GT(retry, kHour / 3 * 2) << "refused attempts were charged";
  EXPECT_LE(retry, kHour + kHour / 3) << "but never beyond now + tolerance + period";
}

TEST_P(StoreConformanceTest, LeakyDoesNotChargeRefusedAttempts) {
  const LimitCheck c = Limit("l", {Window(3, kHour)});
  EXPECT_EQ(CountAllowed({c}, 50), 3);
  EXPECT_LE(Check({c}).limits[0].windows[0].retry_after_us, kHour / 3);
}

TEST_P(StoreConformanceTest, AnAdvisoryLimitNeverBlocksTheOthers) {
  LimitCheck monitor = Limit("monitor", {Window(1, kHour)});
  monitor.advisory = true;
  const LimitCheck real = Limit("real", {Window(10, kHour)});
  for (int i = 0; i < 5; ++i) {
    const CheckOutcome o = Check({monitor, real});
    EXPECT_TRUE(o.allowed) << i;
    EXPECT_EQ(o.limits[0].allowed, i == 0) << i;
    EXPECT_TRUE(o.limits[1].allowed) << i;
  }
  EXPECT_EQ(CountAllowed({real}, 10), 5);
}

TEST_P(StoreConformanceTest, AFirstRefusalIsReportedOncePerPeriod) {
  const LimitCheck c = Limit("l", {Window(1, kHour)});
  EXPECT_TRUE(Check({c}).allowed);
  EXPECT_TRUE(Check({c}).limits[0].windows[0].first_refusal);
  for (int i = 0; i < 5; ++i) {
    const CheckOutcome o = Check({c});
    EXPECT_TRUE(o.limits[0].windows[0].refused);
    EXPECT_FALSE(o.limits[0].windows[0].first_refusal) << i;
  }
  if (GetParam() == Backend::kMemory) {
    clock_.Advance(kHour);
    Check({c});  // refilled: allowed
    EXPECT_TRUE(Check({c}).limits[0].windows[0].first_refusal) << "a new period";
  }
}

TEST_P(StoreConformanceTest, ChangingTheNumbersKeepsTheHistory) {
  EXPECT_EQ(CountAllowed({Limit("l", {Window(3, kHour)})}, 2), 2);
  // 40 min of debt; at 4/1h each unit is 15 min in a 60 min bucket: one more fits.
  EXPECT_EQ(CountAllowed({Limit("l", {Window(4, kHour)})}, 4), 1);
}

TEST_P(StoreConformanceTest, ResetForgetsEveryWindow) {
  const LimitCheck c = Limit("l", {Window(2, kHour), Window(5, kDay)});
  EXPECT_EQ(CountAllowed({c}, 5), 2);
  ASSERT_TRUE(store_->Reset(c.key).ok());
  EXPECT_EQ(CountAllowed({c}, 5), 2);
}

TEST_P(StoreConformanceTest, RefusalsReachingTheThresholdLockTheSubject) {
  LimitCheck c = Limit("l", {Window(3, kHour)});
  c.windows[0].lock_threshold = 5;
  c.lock_ttl_us = kHour;
  EXPECT_EQ(CountAllowed({c}, 3), 3);
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Check({c}).limits[0].locked) << i;
  const CheckOutcome locking = Check({c});
  EXPECT_TRUE(locking.limits[0].newly_locked);
  EXPECT_EQ(locking.limits[0].lock_reason, "burst");
  EXPECT_EQ(locking.limits[0].refused_units, 5);
  // Every limit of the subject is now refused, and nothing is charged.
  const LimitCheck other = Limit("other", {Window(100, kHour)});
  const CheckOutcome locked = Check({other});
  EXPECT_FALSE(locked.allowed);
  EXPECT_TRUE(locked.limits[0].locked);
  EXPECT_FALSE(locked.limits[0].newly_locked);
  EXPECT_EQ(locked.limits[0].lock_reason, "burst");
  EXPECT_FALSE(locked.limits[0].windows[0].first_refusal);
  LimitCheck unlocked_other = other;
  unlocked_other.lock_key = "fg:{account:alice@example.org}!other-lock";
  EXPECT_EQ(CountAllowed({unlocked_other}, 200), 100) << "the locked check charged nothing";
}

TEST_P(StoreConformanceTest, ACheckWithoutWindowsOnlyAsksForTheLock) {
  LimitCheck burst = Limit("l", {Window(3, kHour)});
  burst.windows[0].lock_threshold = 3;
  burst.lock_ttl_us = kHour;
  LimitCheck lock_only = Limit("l", {});
  lock_only.cost = 0;
  EXPECT_EQ(CountAllowed({lock_only}, 10), 10);
  EXPECT_EQ(CountAllowed({burst}, 3), 3) << "the lock-only checks charged nothing";
  EXPECT_EQ(CountAllowed({burst}, 3), 0);
  const CheckOutcome o = Check({lock_only});
  EXPECT_FALSE(o.allowed);
  EXPECT_TRUE(o.limits[0].locked);
  EXPECT_FALSE(o.limits[0].newly_locked);
  EXPECT_EQ(o.limits[0].lock_reason, "burst");
  EXPECT_TRUE(o.limits[0].windows.empty());
}

TEST_P(StoreConformanceTest, TooManyNetworksLockTheSubject) {
  LimitCheck c = Limit("l", {Window(100, kHour)});
  c.max_networks = 2;
  c.networks_window_us = kHour;
  c.lock_ttl_us = kHour;
  for (const char* net : {"192.0.2.0/24", "198.51.100.0/24", "192.0.2.0/24"}) {
    c.network = net;
    EXPECT_TRUE(Check({c}).allowed) << net;
  }
  c.network = "203.0.113.0/24";
  const CheckOutcome o = Check({c});
  EXPECT_FALSE(o.allowed);
  EXPECT_TRUE(o.limits[0].newly_locked);
  EXPECT_EQ(o.limits[0].lock_reason, "too_many_networks");
  c.network = "192.0.2.0/24";
  EXPECT_TRUE(Check({c}).limits[0].locked) << "the lock outlives the event";
}

TEST_P(StoreConformanceTest, AnAdvisoryLimitNeverLocks) {
  LimitCheck c = Limit("l", {Window(1, kHour)});
  c.advisory = true;
  c.windows[0].lock_threshold = 2;
  c.lock_ttl_us = kHour;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(Check({c}).limits[0].locked) << i;
}

// floodgate_locks_active: every subject the store holds locked, once.
TEST_P(StoreConformanceTest, ActiveLocksCountEachLockedSubjectOnce) {
  EXPECT_EQ(ActiveLocks(), 0);
  LimitCheck alice = Limit("l", {Window(1, kHour)});
  alice.windows[0].lock_threshold = 1;  // the first refused unit locks
  alice.lock_ttl_us = kHour;
  EXPECT_TRUE(Check({alice}).allowed);
  ASSERT_TRUE(Check({alice}).limits[0].newly_locked);
  EXPECT_EQ(ActiveLocks(), 1);

  // A second limit of the same subject sees it locked: still one. Another subject: two.
  EXPECT_TRUE(Check({Limit("other", {Window(5, kHour)})}).limits[0].locked);
  LimitCheck bob = alice;
  bob.key = "fg:{account:bob@example.org}:l";
  bob.lock_key = "fg:{account:bob@example.org}!lock";
  EXPECT_TRUE(Check({bob}).allowed);
  ASSERT_TRUE(Check({bob}).limits[0].newly_locked);
  EXPECT_EQ(ActiveLocks(), 2);
}

TEST_P(StoreConformanceTest, AnExpiredLockIsNotCounted) {
  // Memory: a fake hour. Redis: real time, a lock short enough to wait out.
  const Micros ttl = GetParam() == Backend::kMemory ? kHour : 200 * kMs;
  LimitCheck c = Limit("l", {Window(1, kHour)});
  c.windows[0].lock_threshold = 1;
  c.lock_ttl_us = ttl;
  EXPECT_TRUE(Check({c}).allowed);
  ASSERT_TRUE(Check({c}).limits[0].newly_locked);
  EXPECT_EQ(ActiveLocks(), 1);
  LetTimePass(ttl);
  EXPECT_EQ(ActiveLocks(), 0);
}

TEST_P(StoreConformanceTest, AppendKeepsTheNewestItemsFirst) {
  const std::string key = "fg:{account:alice@example.org}!queue";
  for (const char* id : {"A1", "B2", "C3", "D4"})
    ASSERT_TRUE(store_->Append(key, id, 3, kHour).ok());
  EXPECT_EQ(List(key), (std::vector<std::string>{"D4", "C3", "B2"}));
  ASSERT_TRUE(store_->Append(key, "E5", 0, kHour).ok());
  EXPECT_TRUE(List(key).empty()) << "max_len 0 keeps nothing";
}

TEST_P(StoreConformanceTest, HoldFullSaysWhenTheHeldListHoldsHoldMax) {
  LimitCheck c = Limit("submission", {Window(100, kHour)});
  c.held_key = "fg:{account:alice@example.org}!held";
  c.hold_max = 2;
  EXPECT_FALSE(Check({c}).limits[0].hold_full) << "nothing held yet";
  ASSERT_TRUE(store_->Append(c.held_key, "Q1", 5000, kDay).ok());
  EXPECT_FALSE(Check({c}).limits[0].hold_full);
  ASSERT_TRUE(store_->Append(c.held_key, "Q2", 5000, kDay).ok());
  const CheckOutcome full = Check({c});
  EXPECT_TRUE(full.limits[0].hold_full);
  EXPECT_TRUE(full.allowed) << "a full hold queue changes nothing about the rates";
  c.hold_max = 0;
  EXPECT_FALSE(Check({c}).limits[0].hold_full) << "not asked";
}

// Traffic classes and destinations, through the milter's own planner: a site that is MX
// and submission host at once. The store sees only keys and lock keys, and both backends
// must give inbound mail the same separation from outgoing mail.
class TrafficConformanceTest : public StoreConformanceTest {
 protected:
  void SetUp() override {
    StoreConformanceTest::SetUp();
    auto config = policy::ParseConfig(R"(
[traffic]
local_domains = ["example.org"]

[[limit]]
name = "submission"
subject = "account"
rate = ["5/1h"]
lock_after = 2

[[limit]]
name = "by-sender"
subject = "sender"
rate = ["5/1h"]
lock_after = 2
destinations = "external"
traffic = ["submission", "relay", "local"]

[[limit]]
name = "mx-sender"
subject = "sender"
rate = ["20/1h"]
traffic = ["inbound"]
)",
                                      "all-in-one.toml");
    ASSERT_TRUE(config.ok()) << config.error().message();
    config_ = std::move(config).value();
  }

  // One recipient of a transaction from `client` with MAIL FROM `sender` and, when
  // `login` is not empty, that SASL login; true when it is accepted.
  bool Rcpt(const std::string& client, const std::string& sender, const std::string& login,
            const std::string& rcpt = "<someone@elsewhere.example>") {
    policy::Facts f;
    f.client = policy::Address::Parse(client);
    f.account = login;
    f.sender = sender;
    f.traffic = policy::Classify(config_.traffic, f);
    policy::Event e;
    e.recipient_local = policy::IsLocalRecipient(config_.traffic, rcpt);
    const policy::Plan plan = policy::MakePlan(config_, f, e);
    return Check(plan.checks).allowed;
  }
  int Rcpts(int n, const std::string& client, const std::string& sender, const std::string& login,
            const std::string& rcpt = "<someone@elsewhere.example>") {
    int accepted = 0;
    for (int i = 0; i < n; ++i) accepted += Rcpt(client, sender, login, rcpt) ? 1 : 0;
    return accepted;
  }

  policy::Config config_;
};

TEST_P(TrafficConformanceTest, ForgedInboundMailLeavesTheLocalUsersBudgetAlone) {
  // 40 messages from the internet with a forged MAIL FROM of alice: the inbound limit
  // (20/1h) throttles them, and nothing locks.
  EXPECT_EQ(Rcpts(40, "198.51.100.7", "alice@example.org", "", "<bob@example.org>"), 20);
  // alice's own mail gets exactly what bob's does, who had no inbound traffic.
  EXPECT_EQ(Rcpts(8, "203.0.113.9", "alice@example.org", "alice@example.org"), 5);
  EXPECT_EQ(Rcpts(8, "203.0.113.9", "bob@example.org", "bob@example.org"), 5);
}

TEST_P(TrafficConformanceTest, ALockNeverRefusesInboundMail) {
  // alice's account bursts (5 pass, then 2 x 5 refusals lock it) ...
  EXPECT_EQ(Rcpts(20, "203.0.113.9", "alice@example.org", "alice@example.org"), 5);
  EXPECT_FALSE(Rcpt("203.0.113.9", "alice@example.org", "alice@example.org"));
  EXPECT_EQ(store_->CountActiveLocks().value(), 2) << "her account and her sender";
  // ... but mail *to* the site with her address as sender is not hers to lose.
  EXPECT_TRUE(Rcpt("198.51.100.7", "alice@example.org", "", "<bob@example.org>"));
}

TEST_P(TrafficConformanceTest, RecipientsInLocalDomainsAreFreeUnderExternalOnly) {
  // Relay mail (loopback, no login) is limited by sender, external recipients only.
  EXPECT_EQ(Rcpts(10, "127.0.0.1", "www@example.org", "", "<carol@example.org>"), 10);
  EXPECT_EQ(Rcpts(8, "127.0.0.1", "www@example.org", "", "<carol@elsewhere.example>"), 5);
  // A recipient that only looks local counts.
  EXPECT_FALSE(Rcpt("127.0.0.1", "www@example.org", "", "<carol%elsewhere.example@example.org>"));
}

TEST_P(TrafficConformanceTest, ALockedSubjectIsLockedForLocalRecipientsToo) {
  // www's sender counts external recipients only; a burst of them locks it ...
  EXPECT_EQ(Rcpts(20, "127.0.0.1", "www@example.org", ""), 5);
  EXPECT_EQ(store_->CountActiveLocks().value(), 1);
  // ... and the locked sender's mail to the site's own users is refused as well.
  EXPECT_FALSE(Rcpt("127.0.0.1", "www@example.org", "", "<carol@example.org>"));
  // Before the lock, those were free: another sender's local mail still is.
  EXPECT_EQ(Rcpts(10, "127.0.0.1", "app@example.org", "", "<carol@example.org>"), 10);
}

INSTANTIATE_TEST_SUITE_P(Backends, TrafficConformanceTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kMemory ? "Memory" : "Redis";
                         });

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kMemory ? "Memory" : "Redis";
                         });

}  // namespace
}  // namespace floodgate::store
