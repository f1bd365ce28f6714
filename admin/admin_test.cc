// Admin (floodgatectl) against a real redis-server: lock and unlock keep the lock index
// that floodgate_locks_active counts (store/redis_store.h) in step with the lock keys.
#include "admin/admin.h"

#include <gtest/gtest.h>

#include "admin/redis_admin_backend.h"
#include "tests/testing/redis_server.h"

namespace floodgate::admin {
namespace {

TEST(AdminLocksTest, LockAndUnlockMoveTheActiveLockCount) {
  auto server = testing::RedisServer::Start({.tcp = false});
  ASSERT_TRUE(server.ok()) << "redis-server is required: " << server.error().message();
  policy::Config config;
  config.store.backend = policy::Backend::kRedis;
  config.store.url = (*server)->unix_url();
  config.store.key_prefix = "ctl:";
  policy::Limit l;
  l.name = "submission";
  l.subject = policy::SubjectKind::kAccount;
  l.traffic = policy::DefaultTraffic(l.subject);
  config.limits = {l};
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
