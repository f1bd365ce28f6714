// RedisStore against a real redis-server: transports, AUTH/SELECT, script reloading,
// Redis' clock and key expiry, exact totals under concurrency, and outages.
#include "store/redis_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "tests/testing/limit_checks.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/wait.h"

namespace floodgate::store {
namespace {

using floodgate::testing::CountAllowed;
using floodgate::testing::LetRealTimePass;
using floodgate::testing::Limit;
using floodgate::testing::RedisServer;
using floodgate::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr Micros kHour = 3'600'000'000;
constexpr int kTimeoutMs = 200;

std::unique_ptr<RedisStore> OpenOrDie(const std::string& url) {
  auto store = RedisStore::Open(url, kTimeoutMs);
  EXPECT_TRUE(store.ok()) << store.error().message();
  return store.ok() ? std::move(store).value() : nullptr;
}

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << "redis-server is required: " << server.error().message();
    server_ = std::move(server).value();
  }
  std::string Cli(const std::vector<std::string>& args, int db = 0) {
    auto out = server_->RedisCli(args, db);
    EXPECT_TRUE(out.ok()) << out.error().message();
    return out.ok() ? out.value() : "";
  }
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisStoreTest, WorksOverTcpAndUnixSocket) {
  for (const std::string& url : {server_->tcp_url(), server_->unix_url()}) {
    auto store = OpenOrDie(url);
    ASSERT_TRUE(store);
    auto pong = store->Ping();
    ASSERT_TRUE(pong.ok()) << url << ": " << pong.error().message();
    EXPECT_EQ(pong.value(), "PONG");
    EXPECT_EQ(CountAllowed(*store, Limit("fg:{t}:" + url, 3, kHour), 5), 3) << url;
  }
}

TEST_F(RedisStoreTest, PasswordAndDbNumberAreUsed) {
  auto secured = RedisServer::Start({.tcp = true, .password = "s3cret"});
  ASSERT_TRUE(secured.ok()) << secured.error().message();
  RedisServer& server = *secured.value();
  for (const std::string& url : {server.tcp_url(3), server.unix_url(3)}) {
    auto store = OpenOrDie(url);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Ping().ok()) << url;
    ASSERT_TRUE(store->Check({Limit("fg:{a}:x", 3, kHour)}).ok()) << url;
  }
  auto in3 = server.RedisCli({"EXISTS", "fg:{a}:x"}, 3);
  ASSERT_TRUE(in3.ok()) << in3.error().message();
  EXPECT_EQ(in3.value(), "1");
  auto in0 = server.RedisCli({"EXISTS", "fg:{a}:x"}, 0);
  ASSERT_TRUE(in0.ok());
  EXPECT_EQ(in0.value(), "0");

  auto wrong = RedisStore::Open("redis://:wrong@127.0.0.1:" + std::to_string(server.port()), 500);
  ASSERT_TRUE(wrong.ok());
  auto refused = wrong.value()->Ping();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(refused.error().message().find("AUTH"), std::string::npos) << refused.error().message();
  EXPECT_EQ(refused.error().message().find("wrong"), std::string::npos) << "no password in logs";
}

TEST_F(RedisStoreTest, ScriptIsReloadedAfterScriptFlush) {
  auto store = OpenOrDie(server_->unix_url());
  const LimitCheck c = Limit("fg:{s}:x", 3, kHour);
  EXPECT_EQ(CountAllowed(*store, c, 2), 2);
  EXPECT_EQ(Cli({"SCRIPT", "FLUSH"}), "OK");
  EXPECT_EQ(CountAllowed(*store, c, 2), 1) << "history kept, script reloaded";
}

TEST_F(RedisStoreTest, TatComesFromRedisTime) {
  auto store = OpenOrDie(server_->unix_url());
  ASSERT_TRUE(store->Check({Limit("fg:{c}:x", 10, kHour)}).ok());
  auto time = store->Command({"TIME"});
  ASSERT_TRUE(time.ok() && time->elements.size() == 2);
  const Micros redis_now =
      std::stoll(time->elements[0].str) * 1'000'000 + std::stoll(time->elements[1].str);
  auto tat = store->Command({"HGET", "fg:{c}:x", "t" + std::to_string(kHour)});
  ASSERT_TRUE(tat.ok());
  ASSERT_EQ(tat->type, RedisReply::Type::kString);
  // One unit: TAT = now + E, with E = 6 min; the check ran within the last few seconds.
  const Micros expected = redis_now + kHour / 10;
  EXPECT_LE(std::stoll(tat->str), expected);
  EXPECT_GT(std::stoll(tat->str), expected - 5'000'000);
}

TEST_F(RedisStoreTest, KeysShareTheHashTagAndExpire) {
  auto store = OpenOrDie(server_->unix_url());
  LimitCheck c = Limit("fg:{account:alice@example.org}:submission", 3, kHour);
  c.lock_key = "fg:{account:alice@example.org}!lock";
  c.network = "192.0.2.0/24";
  c.max_networks = 3;
  c.networks_window_us = kHour;
  ASSERT_TRUE(store->Check({c}).ok());
  for (const std::string& key : {c.key, RedisStore::NetworksKey(c.lock_key)}) {
    EXPECT_NE(key.find("{account:alice@example.org}"), std::string::npos);
    const long long pttl = std::stoll(Cli({"PTTL", key}));
    EXPECT_GT(pttl, 0) << key;
    EXPECT_LE(pttl, kHour / 1000) << key;
  }
  EXPECT_EQ(Cli({"CLUSTER", "KEYSLOT", c.key}), Cli({"CLUSTER", "KEYSLOT", c.lock_key}));

  // A 2 ms window: once its TAT has passed, the next check leaves nothing behind.
  const LimitCheck brief = Limit("fg:{b}:x", 1, 2000);
  ASSERT_TRUE(store->Check({brief}).ok());
  // Redis' clock decides the expiry: let what is left of the TTL pass (-2: already gone).
  LetRealTimePass(milliseconds(std::max(0LL, std::stoll(Cli({"PTTL", brief.key})))));
  EXPECT_EQ(Cli({"EXISTS", brief.key}), "0") << "expired by PEXPIRE";
  // A check whose windows are all in the past after it ran (cost 0) deletes the key.
  LimitCheck free = Limit("fg:{b}:y", 1, kHour);
  free.cost = 0;
  ASSERT_TRUE(store->Check({free}).ok());
  EXPECT_EQ(Cli({"EXISTS", free.key}), "0");
}

TEST_F(RedisStoreTest, AppendedListsExpire) {
  auto store = OpenOrDie(server_->unix_url());
  ASSERT_TRUE(store->Append("fg:{q}!queue", "A1", 10, kHour).ok());
  const long long pttl = std::stoll(Cli({"PTTL", "fg:{q}!queue"}));
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, kHour / 1000);
}

// Waits (bounded) for a background append's completion and returns its status.
Status AppendAndWait(RedisStore& store, const std::string& key, const std::string& value) {
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> status = done->get_future();
  store.AppendInBackground(key, value, 10, kHour, [done](Status s) { done->set_value(s); });
  if (status.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    return Error(ErrorKind::kTimeout, "the background append never completed");
  }
  return status.get();
}

TEST_F(RedisStoreTest, BackgroundAppendsLandAndSurviveAScriptFlush) {
  auto store = OpenOrDie(server_->unix_url());
  Status first = AppendAndWait(*store, "fg:{bg}!queue", "Q1");
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(Cli({"SCRIPT", "FLUSH"}), "OK");  // the next EVALSHA meets NOSCRIPT
  Status second = AppendAndWait(*store, "fg:{bg}!queue", "Q2");
  ASSERT_TRUE(second.ok()) << second.error().message();
  auto items = store->List("fg:{bg}!queue");
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items.value(), (std::vector<std::string>{"Q2", "Q1"}));
  EXPECT_GT(std::stoll(Cli({"PTTL", "fg:{bg}!queue"})), 0);
}

TEST_F(RedisStoreTest, ABackgroundAppendToADeadServerReportsTheFailure) {
  auto store = OpenOrDie(server_->tcp_url());
  server_->Kill();
  Status status = AppendAndWait(*store, "fg:{bg}!queue", "Q1");
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.error().kind() == ErrorKind::kUnavailable ||
              status.error().kind() == ErrorKind::kTimeout)
      << status.error().message();
}

TEST_F(RedisStoreTest, ConcurrentChecksGiveExactTotals) {
  auto store = OpenOrDie(server_->unix_url());
  const LimitCheck c = Limit("fg:{conc}:x", 1000, kHour);
  std::atomic<int> allowed{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto r = store->Check({c});
        if (!r.ok()) {
          ++errors;
        } else if (r->allowed) {
          ++allowed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(allowed.load(), 1000);
}

TEST_F(RedisStoreTest, ResetForgetsTheKey) {
  auto store = OpenOrDie(server_->unix_url());
  const LimitCheck c = Limit("fg:{r}:x", 2, kHour);
  EXPECT_EQ(CountAllowed(*store, c, 3), 2);
  ASSERT_TRUE(store->Reset(c.key).ok());
  EXPECT_EQ(Cli({"EXISTS", c.key}), "0");
  EXPECT_EQ(CountAllowed(*store, c, 3), 2);
}

TEST_F(RedisStoreTest, AStoppedServerFailsWithinTheDeadlineAndRecovers) {
  auto store = OpenOrDie(server_->tcp_url());
  const LimitCheck c = Limit("fg:{down}:x", 1000, kHour);
  ASSERT_TRUE(store->Check({c}).ok());
  server_->Kill();
  for (int i = 0; i < 5; ++i) {
    const auto start = steady_clock::now();
    auto r = store->Check({c});
    const auto took = steady_clock::now() - start;
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().kind() == ErrorKind::kUnavailable ||
                r.error().kind() == ErrorKind::kTimeout)
        << r.error().message();
    EXPECT_LT(took, milliseconds(kTimeoutMs + 200));
  }
  ASSERT_TRUE(server_->Restart().ok());
  // Reconnection is lazy and rate-limited: poll until a check succeeds.
  EXPECT_TRUE(WaitFor([&] { return store->Check({c}).ok(); }, std::chrono::seconds(5)));
}

TEST_F(RedisStoreTest, AnUnresponsiveServerTimesOutWithinTheDeadline) {
  auto store = OpenOrDie(server_->unix_url());
  ASSERT_TRUE(store->Ping().ok());
  // Block the server for 1 s; our 200 ms deadline must hold, and the connection must stay
  // usable for the next call once Redis answers again (late replies are discarded).
  // A script that busy-waits 1 s on Redis' clock blocks the (single-threaded) server.
  std::thread blocker([this] {
    (void)server_->RedisCli({"EVAL",
                             "local function now() local t = redis.call('TIME') "
                             "return t[1] * 1000000 + t[2] end "
                             "local s = now() while now() - s < 1000000 do end return 1",
                             "0"});
  });
  // Wait until the server is stuck (PING from a second client no longer answers at once).
  auto probe = OpenOrDie(server_->unix_url());
  const auto stuck_by = steady_clock::now() + std::chrono::seconds(5);
  while (probe->Command({"PING"}, milliseconds(20)).ok() && steady_clock::now() < stuck_by) {
  }
  const auto start = steady_clock::now();
  auto r = store->Check({Limit("fg:{slow}:x", 10, kHour)});
  const auto took = steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kTimeout);
  EXPECT_LT(took, milliseconds(kTimeoutMs + 200));
  blocker.join();
  auto pong = store->Ping();
  ASSERT_TRUE(pong.ok()) << pong.error().message();
  EXPECT_EQ(pong.value(), "PONG");
}

std::int64_t ActiveLocks(RedisStore& store) {
  const Result<std::int64_t> n = store.CountActiveLocks();
  EXPECT_TRUE(n.ok()) << n.error().message();
  return n.ok() ? *n : -1;
}

// The lock index behind floodgate_locks_active (redis_store.h): one key of its own,
// scores on Redis' clock, and only lock keys that still exist are counted.
TEST_F(RedisStoreTest, TheLockIndexFollowsLocksAndCountsOnlyLiveOnes) {
  auto opened = RedisStore::Open(server_->unix_url(), kTimeoutMs, "site:");
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  RedisStore& store = **opened;
  ASSERT_EQ(store.lock_index_key(), "site:locks");
  LimitCheck c = Limit("site:{account:alice}:l", 1, kHour);
  c.lock_key = "site:{account:alice}!lock";
  c.windows[0].lock_threshold = 1;
  c.lock_ttl_us = kHour;
  ASSERT_TRUE(store.Check({c}).ok());
  auto locking = store.Check({c});
  ASSERT_TRUE(locking.ok()) << locking.error().message();
  ASSERT_TRUE(locking->limits[0].newly_locked);

  // Indexed just after the check, in the background, on the store's own connection: a
  // command sent through the store afterwards is answered after that write.
  auto zscore = store.Command({"ZSCORE", "site:locks", c.lock_key});
  ASSERT_TRUE(zscore.ok()) << zscore.error().message();
  ASSERT_EQ(zscore->type, RedisReply::Type::kString) << "the new lock was never indexed";
  const std::string score = zscore->str;
  // Its score is the lock's expiry on Redis' clock (ms): now + 1 h, give or take the test.
  const std::string time = Cli({"TIME"});
  const long long now_ms = std::stoll(time.substr(0, time.find('\n'))) * 1000;
  EXPECT_GT(std::stoll(score), now_ms + 3'600'000 - 60'000) << score;
  EXPECT_LE(std::stoll(score), now_ms + 3'600'000 + 1'000) << score;
  EXPECT_EQ(ActiveLocks(store), 1);

  // Deleted behind floodgate's back: not counted, though still in the index.
  EXPECT_EQ(Cli({"DEL", c.lock_key}), "1");
  EXPECT_EQ(ActiveLocks(store), 0);
  EXPECT_EQ(Cli({"ZCARD", "site:locks"}), "1");

  // floodgatectl's path: a lock without TTL is indexed for good, until unlocked.
  EXPECT_EQ(Cli({"SET", c.lock_key, "admin"}), "OK");
  ASSERT_TRUE(store.IndexLock(c.lock_key, 0).ok());
  EXPECT_EQ(Cli({"ZSCORE", "site:locks", c.lock_key}), "inf");
  EXPECT_EQ(ActiveLocks(store), 1);
  EXPECT_EQ(Cli({"DEL", c.lock_key}), "1");
  ASSERT_TRUE(store.UnindexLock(c.lock_key).ok());
  EXPECT_EQ(ActiveLocks(store), 0);
  EXPECT_EQ(Cli({"EXISTS", "site:locks"}), "0");
}

TEST_F(RedisStoreTest, ExpiredLocksLeaveTheIndex) {
  auto store = OpenOrDie(server_->unix_url());
  ASSERT_TRUE(store);
  const std::string lock = "fg:{account:brief}!lock";
  EXPECT_EQ(Cli({"SET", lock, "admin", "PX", "150"}), "OK");
  ASSERT_TRUE(store->IndexLock(lock, 150'000).ok());
  EXPECT_EQ(ActiveLocks(*store), 1);
  // Redis' clock decides: once the member's score (its expiry, a moment after the key's,
  // as IndexLock ran after SET) has passed, a count drops it.
  const std::string time = Cli({"TIME"});
  const long long now_ms = std::stoll(time.substr(0, time.find('\n'))) * 1000 +
                           std::stoll(time.substr(time.find('\n') + 1)) / 1000;
  const long long until = std::stoll(Cli({"ZSCORE", "fg:locks", lock}));
  LetRealTimePass(milliseconds(std::max(0LL, until - now_ms)));
  EXPECT_EQ(ActiveLocks(*store), 0);
  EXPECT_EQ(Cli({"ZCARD", "fg:locks"}), "0");
}

TEST_F(RedisStoreTest, AHungServerTimesOutEveryCallAndRecoversWhenItAnswers) {
  auto store = OpenOrDie(server_->tcp_url());
  const LimitCheck c = Limit("fg:{hung}:x", 1000, kHour);
  ASSERT_TRUE(store->Check({c}).ok());
  server_->Pause();
  for (int i = 0; i < 3; ++i) {
    const auto start = steady_clock::now();
    auto r = store->Check({c});
    const auto took = steady_clock::now() - start;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind(), ErrorKind::kTimeout) << r.error().message();
    EXPECT_GE(took, milliseconds(kTimeoutMs - 5));
    EXPECT_LT(took, milliseconds(kTimeoutMs + 200));
  }
  server_->Resume();
  const auto deadline = steady_clock::now() + std::chrono::seconds(5);
  bool recovered = false;
  while (!recovered && steady_clock::now() < deadline) recovered = store->Check({c}).ok();
  EXPECT_TRUE(recovered);
}

TEST(RedisStoreOpenTest, OpensWhileRedisIsDown) {
  auto store = RedisStore::Open("unix:///nonexistent/redis.sock", 50);
  ASSERT_TRUE(store.ok());
  auto r = store.value()->Check({Limit("fg:{x}:y", 1, kHour)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnavailable);
  auto locks = store.value()->CountActiveLocks();
  ASSERT_FALSE(locks.ok()) << "no count is not 0";
  EXPECT_EQ(locks.error().kind(), ErrorKind::kUnavailable);
}

}  // namespace
}  // namespace floodgate::store
