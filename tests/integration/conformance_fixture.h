// The fixture of the CounterStore conformance suite (store_conformance_test.cc,
// signals_conformance_test.cc): one parameterised test per backend, the memory store on a
// FakeClock and the Redis store on a real redis-server with Redis' real clock. Tests use
// long periods ("3/1h") so that real time does not matter; where time must pass, the
// fake clock advances or, for Redis, real time passes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "floodgate/clock.h"
#include "floodgate/counter_store.h"
#include "store/memory_store.h"
#include "store/redis_store.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/wait.h"

namespace floodgate::store {

using floodgate::testing::RedisServer;

inline constexpr Micros kMs = 1'000;
inline constexpr Micros kHour = 3'600'000'000;
inline constexpr Micros kDay = 24 * kHour;

enum class Backend { kMemory, kRedis };

inline WindowSpec Window(std::int64_t amount, Micros period) {
  return WindowSpec{period, period / amount, period, 0, amount, 0, 0};  // burst = amount
}

inline LimitCheck Limit(const std::string& name, std::vector<WindowSpec> windows) {
  LimitCheck c;
  c.key = "fg:{account:alice@example.org}:" + name;
  c.lock_key = "fg:{account:alice@example.org}!lock";
  c.windows = std::move(windows);
  return c;
}

class StoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    if (GetParam() == Backend::kMemory) {
      store_ = std::make_unique<MemoryStore>(clock_);
      return;
    }
    if (!server_) {
      auto server = RedisServer::Start(RedisServer::Options{.tcp = false, .password = ""});
      ASSERT_TRUE(server.ok()) << "redis-server is required: " << server.error().message();
      server_ = std::move(server).value();
    }
    auto redis = RedisStore::Open(server_->unix_url(), 2000);
    ASSERT_TRUE(redis.ok()) << redis.error().message();
    ASSERT_TRUE(redis.value()->Command({"FLUSHALL"}).ok());
    store_ = std::move(redis).value();
  }

  CheckOutcome Check(const std::vector<LimitCheck>& checks) {
    auto r = store_->Check(checks);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? r.value() : CheckOutcome{false, {}};
  }
  int CountAllowed(const std::vector<LimitCheck>& checks, int attempts) {
    int n = 0;
    for (int i = 0; i < attempts; ++i) n += Check(checks).allowed ? 1 : 0;
    return n;
  }
  std::vector<std::string> List(const std::string& key) {
    if (GetParam() == Backend::kMemory) return static_cast<MemoryStore&>(*store_).List(key);
    auto items = static_cast<RedisStore&>(*store_).List(key);
    EXPECT_TRUE(items.ok()) << items.error().message();
    return items.ok() ? items.value() : std::vector<std::string>{};
  }
  // Lets `us` of store time pass: the fake clock for memory; for Redis, whose own clock
  // decides, real time.
  void LetTimePass(Micros us) {
    if (GetParam() == Backend::kMemory) {
      clock_.Advance(us);
    } else {
      floodgate::testing::LetRealTimePass(std::chrono::microseconds(us));
    }
  }

  // Lets the retry time pass until `c` is allowed again (bounded). Returns the outcome
  // that was allowed.
  CheckOutcome WaitUntilAllowed(const LimitCheck& c) {
    CheckOutcome o = Check({c});
    for (int attempt = 0; !o.allowed && attempt < 10; ++attempt) {
      Micros wait = 0;
      for (const WindowOutcome& w : o.limits.at(0).windows) wait = std::max(wait, w.retry_after_us);
      LetTimePass(wait);
      o = Check({c});
    }
    return o;
  }

  // CountActiveLocks() right away: the Redis store indexes a new lock in the background
  // just after the check, but on the same connection, ahead of this count.
  std::int64_t ActiveLocks() {
    const Result<std::int64_t> n = store_->CountActiveLocks();
    EXPECT_TRUE(n.ok()) << n.error().message();
    return n.ok() ? *n : -1;
  }

  static inline std::unique_ptr<RedisServer> server_;
  FakeClock clock_;
  std::unique_ptr<CounterStore> store_;
};

}  // namespace floodgate::store
