// Admin (floodgatectl) against a real redis-server: lock and unlock keep the lock index
// that floodgate_locks_active counts (store/redis_store.h) in step with the lock keys.
#include "admin/admin.h"

#include <gtest/gtest.h>

#include "admin/redis_admin_backend.h"
#include "policy/planner.h"
#include "tests/testing/redis_server.h"

namespace floodgate::admin {
namespace {

// A config whose one limit, "submission", holds accounts to `limit` on `server`.
policy::Config RedisConfig(const testing::RedisServer& server, policy::Limit limit) {
  policy::Config config;
  config.store.backend = policy::Backend::kRedis;
  config.store.url = server.unix_url();
  config.store.key_prefix = "ctl:";
  limit.name = "submission";
  limit.subject = policy::SubjectKind::kAccount;
  limit.traffic = policy::DefaultTraffic(limit.subject);
  config.limits = {limit};
  return config;
}

TEST(AdminLocksTest, LockAndUnlockMoveTheActiveLockCount) {
  auto server = testing::RedisServer::Start({.tcp = false});
  ASSERT_TRUE(server.ok()) << "redis-server is required: " << server.error().message();
  const policy::Config config = RedisConfig(**server, {});
  auto redis = store::RedisStore::Open(config.store.url, 2000, config.store.key_prefix);
  ASSERT_TRUE(redis.ok()) << redis.error().message();
  store::RedisStore& store = **redis;
  RedisAdminBackend backend(store, config.store.url);
  int told = 0;
  Admin admin(config, backend, [&told](const policy::Alert&) { ++told; });
  auto active = [&store] {
    const Result<std::int64_t> n = store.CountActiveLocks();
    EXPECT_TRUE(n.ok()) << n.error().message();
    return n.ok() ? *n : -1;
  };
  auto alice = policy::ParseSubject("account:alice@example.org");
  auto bob = policy::ParseSubject("account:bob@example.org");
  ASSERT_TRUE(alice.ok() && bob.ok());

  EXPECT_EQ(active(), 0);
  ASSERT_TRUE(admin.Lock(*alice, 3600, "test").ok());
  EXPECT_EQ(active(), 1);
  ASSERT_TRUE(admin.Lock(*alice, 7200, "again").ok());
  EXPECT_EQ(active(), 1) << "one subject, one lock";
  ASSERT_TRUE(admin.Lock(*bob, 0, "").ok());  // until unlocked
  EXPECT_EQ(active(), 2);

  auto unlocked = admin.Unlock(*alice);
  ASSERT_TRUE(unlocked.ok()) << unlocked.error().message();
  EXPECT_TRUE((*unlocked)["was_locked"].get<bool>());
  EXPECT_EQ(active(), 1);
  ASSERT_TRUE(admin.Reset(*bob).ok());
  EXPECT_EQ(active(), 1) << "reset forgets counts, not locks";
  ASSERT_TRUE(admin.Unlock(*bob).ok());
  EXPECT_EQ(active(), 0);
  EXPECT_EQ((*server)->RedisCli({"EXISTS", "ctl:locks"}).value(), "0");
  EXPECT_EQ(told, 5) << "three locks and two unlocks were told";
}

}  // namespace
}  // namespace floodgate::admin

namespace floodgate::admin {
namespace {

// The milter's own checks charge an account and count its refusals; an admin locks it, and
// unlock forgets those refusals (else the next few would lock it again at once) but keeps
// the bucket, whose fill floodgatectl show still reads: the layout the script writes is
// the one the admin side reads.
TEST(AdminLocksTest, UnlockOnRedisForgetsTheRefusalsAndKeepsTheBucket) {
  auto server = testing::RedisServer::Start({.tcp = false});
  ASSERT_TRUE(server.ok()) << "redis-server is required: " << server.error().message();
  policy::Limit l;
  l.rates = {policy::Rate{3, 3600, 3, "3/1h"}};
  l.lock_after = 3;  // 9 refused units lock
  const policy::Config config = RedisConfig(**server, l);
  auto redis = store::RedisStore::Open(config.store.url, 2000, config.store.key_prefix);
  ASSERT_TRUE(redis.ok()) << redis.error().message();
  store::RedisStore& store = **redis;
  policy::Facts f;
  f.account = "alice@example.org";
  f.traffic = policy::Traffic::kSubmission;
  const policy::Plan plan = policy::MakePlan(config, f, {});
  auto send = [&](int n) {
    int allowed = 0;
    for (int i = 0; i < n; ++i) {
      auto r = store.Check(plan.checks);
      EXPECT_TRUE(r.ok()) << r.error().message();
      if (!r.ok()) return -1;
      EXPECT_FALSE(r->limits[0].locked) << "after " << i << " of " << n;
      allowed += r->allowed ? 1 : 0;
    }
    return allowed;
  };
  EXPECT_EQ(send(8), 3) << "3 pass, 5 refused";

  RedisAdminBackend backend(store, config.store.url);
  Admin admin(config, backend, nullptr);
  auto alice = policy::ParseSubject("account:alice@example.org");
  ASSERT_TRUE(alice.ok());
  auto before = admin.Show(*alice);
  ASSERT_TRUE(before.ok()) << before.error().message();
  EXPECT_EQ((*before)["limits"][0]["windows"][0]["used"].get<long>(), 3);
  EXPECT_EQ((*before)["limits"][0]["windows"][0]["refused"].get<long>(), 5);
  ASSERT_TRUE(admin.Lock(*alice, 3600, "looks hijacked").ok());
  ASSERT_TRUE(admin.Unlock(*alice).ok());
  auto after = admin.Show(*alice);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE((*after)["lock"]["locked"].get<bool>());
  EXPECT_EQ((*after)["limits"][0]["windows"][0]["used"].get<long>(), 3) << "bucket kept";
  EXPECT_EQ((*after)["limits"][0]["windows"][0]["refused"].get<long>(), 0) << "refusals gone";
  // Five more refusals: 5, not 10, of the 9 that lock.
  EXPECT_EQ(send(5), 0);
}

}  // namespace
}  // namespace floodgate::admin
