// RedisStore with a redis+sentinel:// URL against real processes on loopback: a master, a
// replica and three sentinels. The store finds the master through the sentinels, and when
// the master is killed it follows the failover to the promoted replica, where the counts
// replicated before the crash still hold.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <sstream>

#include "store/redis_store.h"
#include "tests/testing/limit_checks.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/wait.h"

namespace floodgate::store {
namespace {

using floodgate::testing::CountAllowed;
using floodgate::testing::Limit;
using floodgate::testing::RedisServer;
using floodgate::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr Micros kHour = 3'600'000'000;
constexpr int kTimeoutMs = 200;
constexpr const char* kPassword = "s3cret";

std::string SentinelConfig(int master_port, int quorum) {
  const std::string monitored = "m 127.0.0.1 " + std::to_string(master_port);
  return "sentinel resolve-hostnames no\n"
         "sentinel monitor " +
         monitored + " " + std::to_string(quorum) +
         "\n"
         "sentinel down-after-milliseconds m 1000\n"
         "sentinel failover-timeout m 3000\n"
         "sentinel auth-pass m " +
         kPassword + "\n";
}

// `SENTINEL master m` as a map (redis-cli prints the flat reply one item per line).
std::map<std::string, std::string> MasterState(const RedisServer& sentinel) {
  std::map<std::string, std::string> out;
  auto text = sentinel.RedisCli({"SENTINEL", "master", "m"});
  if (!text.ok()) return out;
  std::istringstream in(text.value());
  std::string key, value;
  while (std::getline(in, key) && std::getline(in, value)) out[key] = value;
  return out;
}

class SentinelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // min-replicas-to-write: once its replica is promoted, the old master refuses writes
    // (NOREPLICAS) instead of taking charges that are lost when it is made a replica.
    auto master = RedisServer::Start(
        {.tcp = true,
         .password = kPassword,
         .extra_args = {"--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"}});
    ASSERT_TRUE(master.ok()) << "redis-server is required: " << master.error().message();
    master_ = std::move(master).value();
    const std::string mport = std::to_string(master_->port());
    auto replica = RedisServer::Start(
        {.tcp = true,
         .password = kPassword,
         .extra_args = {"--replicaof", "127.0.0.1", mport, "--masterauth", kPassword}});
    ASSERT_TRUE(replica.ok()) << replica.error().message();
    replica_ = std::move(replica).value();
    for (int i = 0; i < 3; ++i) {
      auto s =
          RedisServer::Start({.tcp = true, .sentinel_config = SentinelConfig(master_->port(), 2)});
      ASSERT_TRUE(s.ok()) << s.error().message();
      sentinels_.push_back(std::move(s).value());
    }
    // Ready when the replica is in sync and every sentinel knows it and the two others
    // (hello messages every 2 s): only then can they agree on a failover.
    ASSERT_TRUE(WaitFor(
        [&] {
          auto info = replica_->RedisCli({"INFO", "replication"});
          return info.ok() && info->find("master_link_status:up") != std::string::npos;
        },
        std::chrono::seconds(10)))
        << "replica never synced";
    // ... and the master counts it as a good replica, or writes meet NOREPLICAS (the
    // master puts a replica online only at its first ACK after the sync).
    ASSERT_TRUE(WaitFor(
        [&] {
          auto info = master_->RedisCli({"INFO", "replication"});
          return info.ok() && info->find("min_slaves_good_slaves:1") != std::string::npos;
        },
        std::chrono::seconds(10)))
        << "the master never counted the replica as good";
    for (const auto& s : sentinels_) {
      ASSERT_TRUE(WaitFor(
          [&] {
            auto st = MasterState(*s);
            return st["num-slaves"] == "1" && st["num-other-sentinels"] == "2";
          },
          std::chrono::seconds(15)))
          << "sentinel on port " << s->port() << " never saw the replica and its peers";
    }
  }

  // The sentinel URL, led by an address where nothing listens (must be skipped).
  std::string Url(int dead_port) const {
    std::string url =
        std::string("redis+sentinel://:") + kPassword + "@127.0.0.1:" + std::to_string(dead_port);
    for (const auto& s : sentinels_) url += ",127.0.0.1:" + std::to_string(s->port());
    return url + "/m";
  }

  std::unique_ptr<RedisServer> master_;
  std::unique_ptr<RedisServer> replica_;
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
};

std::string ServerPort(RedisStore& store) {
  auto port = store.Command({"CONFIG", "GET", "port"});
  if (!port.ok() || port->elements.size() != 2) return "?";
  return port->elements[1].str;
}

TEST_F(SentinelTest, FindsTheMasterAndFollowsAFailover) {
  // A port that was free a moment ago: the first "sentinel" refuses connections.
  auto dead = RedisServer::Start({.tcp = true});
  ASSERT_TRUE(dead.ok());
  const int dead_port = dead.value()->port();
  dead.value().reset();

  auto opened = RedisStore::Open(Url(dead_port), kTimeoutMs);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  RedisStore& store = *opened.value();
  const LimitCheck c = Limit("fg:{account:a@example.org}:sub", 100, kHour);

  // The first call also connects (sentinel round trip + AUTH + ROLE): allow it to retry.
  ASSERT_TRUE(WaitFor([&] { return store.Ping().ok(); }, std::chrono::seconds(5)));
  EXPECT_EQ(ServerPort(store), std::to_string(master_->port()));
  int allowed = CountAllowed(store, c, 30);
  EXPECT_EQ(allowed, 30);
  // These 30 are on the replica; the next 5 may not be when the master dies.
  auto waited = store.Command({"WAIT", "1", "2000"}, milliseconds(3000));
  ASSERT_TRUE(waited.ok() && waited->integer == 1) << "replica did not acknowledge";
  allowed += CountAllowed(store, c, 5);
  EXPECT_EQ(allowed, 35);

  master_->Kill();
  const auto killed = steady_clock::now();
  int errors = 0;
  const bool recovered = WaitFor(
      [&] {
        const auto start = steady_clock::now();
        auto r = store.Check({c});
        EXPECT_LT(steady_clock::now() - start, milliseconds(kTimeoutMs + 100))
            << "a call outlived its deadline";
        if (r.ok()) {
          if (r->allowed) ++allowed;
          return true;
        }
        ++errors;
        EXPECT_TRUE(r.error().kind() == ErrorKind::kUnavailable ||
                    r.error().kind() == ErrorKind::kTimeout)
            << r.error().message();
        return false;
      },
      std::chrono::seconds(30), milliseconds(20));
  ASSERT_TRUE(recovered) << "no check succeeded within 30 s of the master's death";
  const auto failover_ms =
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed).count();
  std::printf("[   INFO   ] failover followed in %lld ms (%d failed checks meanwhile)\n",
              static_cast<long long>(failover_ms), errors);

  // The store now talks to the promoted replica.
  auto role = store.Command({"ROLE"});
  ASSERT_TRUE(role.ok() && !role->elements.empty()) << "ROLE failed";
  EXPECT_EQ(role->elements[0].str, "master");
  EXPECT_EQ(ServerPort(store), std::to_string(replica_->port()));

  // The limit still holds: the acknowledged 30 are remembered; at most the 5 unacknowledged
  // charges may be lost, and the window leaks about one unit per 36 s meanwhile.
  allowed += CountAllowed(store, c, 120);
  EXPECT_GE(allowed, 100 - 2) << "only a check that timed out after charging is uncounted";
  EXPECT_LE(allowed, 100 + 5 + 1);
}

TEST_F(SentinelTest, FollowsAPlannedFailoverToTheNewMaster) {
  auto opened = RedisStore::Open(Url(1), kTimeoutMs);  // port 1: nothing listens
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  RedisStore& store = *opened.value();
  const LimitCheck c = Limit("fg:{account:b@example.org}:sub", 100, kHour);
  ASSERT_TRUE(WaitFor([&] { return store.Ping().ok(); }, std::chrono::seconds(5)));
  int allowed = CountAllowed(store, c, 20);
  auto waited = store.Command({"WAIT", "1", "2000"}, milliseconds(3000));
  ASSERT_TRUE(waited.ok() && waited->integer == 1) << "replica did not acknowledge";

  // The old master survives as a replica: the store must not keep writing to it.
  auto started = sentinels_[0]->RedisCli({"SENTINEL", "FAILOVER", "m"});
  ASSERT_TRUE(started.ok()) << started.error().message();
  const auto begun = steady_clock::now();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = store.Check({c});
        if (r.ok() && r->allowed) ++allowed;
        return r.ok() && ServerPort(store) == std::to_string(replica_->port());
      },
      std::chrono::seconds(30)))
      << "the store never moved to the promoted replica";
  std::printf("[   INFO   ] planned failover followed in %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<milliseconds>(steady_clock::now() - begun).count()));
  allowed += CountAllowed(store, c, 120);
  EXPECT_GE(allowed, 100 - 2);
  EXPECT_LE(allowed, 100 + 1);
}

// A sentinel with requirepass: found with sentinel_password, refused clearly without it or
// with a wrong one (and the master's own password is not sent to the sentinel).
TEST(SentinelStoreTest, AsksAPasswordProtectedSentinelWithSentinelPassword) {
  auto master = RedisServer::Start({.tcp = true, .password = kPassword});
  ASSERT_TRUE(master.ok()) << master.error().message();
  auto sentinel = RedisServer::Start(
      {.tcp = true,
       .password = "sentinel-pw",
       .sentinel_config = SentinelConfig(master.value()->port(), 1) + "requirepass sentinel-pw\n"});
  ASSERT_TRUE(sentinel.ok()) << sentinel.error().message();
  const std::string base = std::string("redis+sentinel://:") + kPassword +
                           "@127.0.0.1:" + std::to_string(sentinel.value()->port()) + "/m";
  const LimitCheck c = Limit("fg:{auth}:x", 10, kHour);

  auto good = RedisStore::Open(base + "?sentinel_password=sentinel-pw", 500);
  ASSERT_TRUE(good.ok()) << good.error().message();
  auto r = good.value()->Check({c});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->allowed);
  EXPECT_EQ(ServerPort(*good.value()), std::to_string(master.value()->port()));

  for (const std::string& url : {base, base + "?sentinel_password=wrong"}) {
    auto bad = RedisStore::Open(url, 500);
    ASSERT_TRUE(bad.ok()) << bad.error().message();
    auto refused = bad.value()->Check({c});
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_EQ(refused.error().kind(), ErrorKind::kUnavailable);
    const std::string& m = refused.error().message();
    EXPECT_TRUE(m.find("NOAUTH") != std::string::npos ||
                m.find("AUTH refused") != std::string::npos)
        << m;
    EXPECT_EQ(m.find("sentinel-pw"), std::string::npos) << m;
  }
}

TEST(SentinelStoreTest, AnUnknownMasterNameFailsWithinTheDeadline) {
  auto master = RedisServer::Start({.tcp = true});
  ASSERT_TRUE(master.ok()) << master.error().message();
  auto sentinel = RedisServer::Start(
      {.tcp = true, .sentinel_config = SentinelConfig(master.value()->port(), 1)});
  ASSERT_TRUE(sentinel.ok()) << sentinel.error().message();
  auto opened = RedisStore::Open(
      "redis+sentinel://127.0.0.1:" + std::to_string(sentinel.value()->port()) + "/nosuch", 500);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  const auto start = steady_clock::now();
  auto r = opened.value()->Check({Limit("fg:{x}:y", 1, kHour)});
  EXPECT_LT(steady_clock::now() - start, milliseconds(600));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(r.error().message().find("no sentinel knows master 'nosuch'"), std::string::npos)
      << r.error().message();
}

TEST(SentinelStoreTest, AReplicaNamedAsMasterIsRefusedByTheRoleCheck) {
  // A sentinel that lags behind a failover names a replica; here one is told so outright.
  auto master = RedisServer::Start({.tcp = true});
  ASSERT_TRUE(master.ok()) << master.error().message();
  auto replica = RedisServer::Start(
      {.tcp = true,
       .extra_args = {"--replicaof", "127.0.0.1", std::to_string(master.value()->port())}});
  ASSERT_TRUE(replica.ok()) << replica.error().message();
  auto sentinel = RedisServer::Start(
      {.tcp = true, .sentinel_config = SentinelConfig(replica.value()->port(), 1)});
  ASSERT_TRUE(sentinel.ok()) << sentinel.error().message();
  auto opened = RedisStore::Open(
      "redis+sentinel://127.0.0.1:" + std::to_string(sentinel.value()->port()) + "/m", 500);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  auto r = opened.value()->Check({Limit("fg:{x}:y", 1, kHour)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(r.error().message().find("is not a master"), std::string::npos) << r.error().message();
  auto keys = master.value()->RedisCli({"DBSIZE"});
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys.value(), "0") << "nothing was written anywhere";
}

}  // namespace
}  // namespace floodgate::store
