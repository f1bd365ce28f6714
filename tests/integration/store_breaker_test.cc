// The Decider's store breaker against a real redis-server that freezes (SIGSTOP) and
// thaws (SIGCONT): after the first failed call the store is not asked again but by one
// probe per backoff, the fallback decides meanwhile, and a probe that is answered brings
// Redis back, with store_down and store_up logged once each. What reaches Redis is
// counted by a forwarding store, not timed; the breaker's clock is a FakeClock, so no
// probe happens unless the test moves it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "milter/decider.h"
#include "store/memory_store.h"
#include "store/redis_store.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/wait.h"

namespace floodgate::milter {
namespace {

using floodgate::testing::RedisServer;
using floodgate::testing::WaitFor;

constexpr int kTimeoutMs = 100;

// Forwards every call to the RedisStore and counts the Checks it sends.
class CountingStore final : public CounterStore {
 public:
  explicit CountingStore(std::unique_ptr<CounterStore> inner) : inner_(std::move(inner)) {}
  Result<CheckOutcome> Check(const std::vector<LimitCheck>& checks) override {
    ++checks_;
    return inner_->Check(checks);
  }
  Status Reset(const std::string& key) override { return inner_->Reset(key); }
  Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                Micros ttl_us) override {
    ++appends_;
    return inner_->Append(key, value, max_len, ttl_us);
  }
  void AppendInBackground(const std::string& key, const std::string& value, std::size_t max_len,
                          Micros ttl_us, std::function<void(Status)> done) override {
    ++appends_;
    inner_->AppendInBackground(key, value, max_len, ttl_us, std::move(done));
  }
  Result<std::int64_t> CountActiveLocks() override { return inner_->CountActiveLocks(); }
  const char* name() const override { return inner_->name(); }
  int checks() const { return checks_.load(); }
  int appends() const { return appends_.load(); }

 private:
  std::unique_ptr<CounterStore> inner_;
  std::atomic<int> checks_{0}, appends_{0};
};

class StoreBreakerRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = RedisServer::Start();
    ASSERT_TRUE(started.ok()) << "redis-server is required: " << started.error().message();
    redis_ = std::move(started).value();
    auto redis = store::RedisStore::Open(redis_->tcp_url(), kTimeoutMs);
    ASSERT_TRUE(redis.ok()) << redis.error().message();
    auto counting = std::make_unique<CountingStore>(std::move(redis).value());
    sent_ = counting.get();
    decider_ = std::make_unique<Decider>(
        std::move(counting), std::make_unique<store::MemoryStore>(clock_), alerts_, clock_);
    policy::Limit l;
    l.name = "submission";
    l.subject = policy::SubjectKind::kAccount;
    l.traffic = policy::DefaultTraffic(l.subject);
    l.rates = {policy::Rate{}};
    l.rates[0].amount = 1000;
    l.rates[0].period_s = 3600;
    config_.limits = {l};
    config_.store.on_error = policy::OnError::kLocal;
    facts_.client = policy::Address::Parse("203.0.113.9");
    facts_.account = "alice@example.org";
    facts_.traffic = policy::Traffic::kSubmission;
  }
  bool Accepted() {
    return decider_->Decide(config_, facts_, {}).disposition == policy::Disposition::kContinue;
  }
  int Count(const std::string& needle) {
    int n = 0;
    for (const auto& line : alerts_.lines()) n += line.find(needle) != std::string::npos;
    return n;
  }
  // Moves the breaker's clock to its next probe.
  void UntilTheNextProbe() {
    clock_.Advance(std::max<Micros>(0, decider_->breaker().next_probe_at() - clock_.now()));
  }
  bool Charged() {  // Redis holds alice's window
    auto v = redis_->RedisCli(
        {"EXISTS", policy::StoreKey(config_.store.key_prefix, policy::SubjectKind::kAccount,
                                    facts_.account, config_.limits[0])});
    return v.ok() && *v == "1";
  }

  FakeClock clock_;
  MemoryAlertSink alerts_;
  std::unique_ptr<RedisServer> redis_;
  CountingStore* sent_ = nullptr;
  std::unique_ptr<Decider> decider_;
  policy::Config config_;
  policy::Facts facts_;
};

TEST_F(StoreBreakerRedisTest, AFrozenRedisIsAskedOnlyByTheProbeAndTakesOverWhenItAnswers) {
  ASSERT_TRUE(Accepted());
  ASSERT_EQ(sent_->checks(), 1);
  ASSERT_EQ(Count("event=store_down"), 0);

  redis_->Pause();
  // The first call after the freeze waits for its deadline and fails: store_down.
  EXPECT_TRUE(Accepted());
  EXPECT_EQ(sent_->checks(), 2);
  EXPECT_EQ(Count("event=store_down"), 1);
  // From then on the fallback decides without asking Redis, and nothing is recorded there.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(Accepted());
  decider_->RecordQueueId(config_, facts_, "4ABC123");
  EXPECT_EQ(sent_->checks(), 2);
  EXPECT_EQ(sent_->appends(), 0);

  // One probe per backoff, and it fails while Redis is frozen.
  UntilTheNextProbe();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Accepted());
  EXPECT_EQ(sent_->checks(), 3);
  EXPECT_TRUE(decider_->breaker().open());
  EXPECT_EQ(Count("event=store_up"), 0);

  // Redis thaws: the next probe is answered (the first one after SIGCONT may still meet
  // the connection's backlog of expired commands, so probe until one is answered).
  redis_->Resume();
  const int before = sent_->checks();
  ASSERT_TRUE(WaitFor(
      [&] {
        UntilTheNextProbe();
        (void)Accepted();
        return !decider_->breaker().open();
      },
      std::chrono::seconds(10)));
  EXPECT_LE(sent_->checks() - before, 3) << "one call per probe";
  EXPECT_EQ(Count("event=store_up"), 1);

  // Every call goes to Redis again, and its counts land there.
  const int up = sent_->checks();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Accepted());
  EXPECT_EQ(sent_->checks(), up + 20);
  EXPECT_TRUE(Charged());
  EXPECT_EQ(Count("event=store_down"), 1);
  EXPECT_EQ(Count("event=store_up"), 1);
}

TEST_F(StoreBreakerRedisTest, AKilledRedisIsProbedUntilARestartedOneAnswers) {
  ASSERT_TRUE(Accepted());
  redis_->Kill();
  EXPECT_TRUE(Accepted());
  const int after_failure = sent_->checks();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Accepted());
  EXPECT_EQ(sent_->checks(), after_failure);
  ASSERT_TRUE(redis_->Restart().ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        UntilTheNextProbe();
        (void)Accepted();
        return !decider_->breaker().open();
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(Count("event=store_down"), 1);
  EXPECT_EQ(Count("event=store_up"), 1);
  EXPECT_TRUE(Charged());
}

}  // namespace
}  // namespace floodgate::milter
