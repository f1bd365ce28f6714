#include "store/maxmemory_policy.h"

#include <gtest/gtest.h>

namespace floodgate::store {
namespace {

Result<RedisReply> PolicyReply(const std::string& policy) {
  RedisReply reply;
  reply.type = RedisReply::Type::kArray;
  reply.elements.resize(2);
  reply.elements[0].type = RedisReply::Type::kString;
  reply.elements[0].str = "maxmemory-policy";
  reply.elements[1].type = RedisReply::Type::kString;
  reply.elements[1].str = policy;
  return reply;
}

Result<RedisReply> ErrorReply(const std::string& text) {
  RedisReply reply;
  reply.type = RedisReply::Type::kError;
  reply.str = text;
  return reply;
}

bool Contains(const std::optional<std::string>& line, const std::string& what) {
  return line && line->find(what) != std::string::npos;
}

TEST(MaxmemoryPolicyWatchTest, QueryIsConfigGet) {
  EXPECT_EQ(MaxmemoryPolicyWatch::Query(),
            (std::vector<std::string>{"CONFIG", "GET", "maxmemory-policy"}));
}

TEST(MaxmemoryPolicyWatchTest, NoevictionIsSilent) {
  MaxmemoryPolicyWatch watch;
  EXPECT_EQ(watch.Observe("127.0.0.1:6379", PolicyReply("noeviction")), std::nullopt);
  EXPECT_EQ(watch.Observe("127.0.0.1:6379", PolicyReply("noeviction")), std::nullopt);
}

// Said once, in words: what may happen and what to set; a reconnect storm to the same
// policy says nothing more.
TEST(MaxmemoryPolicyWatchTest, AnAllkeysPolicyIsAWarningOncePerChange) {
  MaxmemoryPolicyWatch watch;
  const auto line = watch.Observe("127.0.0.1:6379", PolicyReply("allkeys-lru"));
  EXPECT_TRUE(Contains(line, "redis 127.0.0.1:6379: warning: maxmemory-policy is allkeys-lru"));
  EXPECT_TRUE(Contains(line, "unlocking accounts (even those locked until unlocked)"));
  EXPECT_TRUE(Contains(line, "Set maxmemory-policy noeviction"));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(watch.Observe("127.0.0.1:6379", PolicyReply("allkeys-lru")), std::nullopt);
  }
  EXPECT_TRUE(Contains(watch.Observe("127.0.0.1:6379", PolicyReply("allkeys-random")),
                       "maxmemory-policy is allkeys-random"));
  EXPECT_EQ(watch.Observe("127.0.0.1:6379", PolicyReply("noeviction")),
            "redis 127.0.0.1:6379: maxmemory-policy is now noeviction");
  EXPECT_TRUE(Contains(watch.Observe("127.0.0.1:6379", PolicyReply("allkeys-lfu")), "warning"));
}

// volatile-* evicts keys with a TTL, and all of floodgate's counts and timed locks have one.
TEST(MaxmemoryPolicyWatchTest, AVolatilePolicyIsAWarningToo) {
  MaxmemoryPolicyWatch watch;
  const auto line = watch.Observe("h:1", PolicyReply("volatile-ttl"));
  EXPECT_TRUE(Contains(line, "warning: maxmemory-policy is volatile-ttl"));
  EXPECT_TRUE(Contains(line, "counts and timed locks"));
}

// CONFIG renamed or forbidden (an error reply): said once, and the connection goes on.
TEST(MaxmemoryPolicyWatchTest, AnUnreadablePolicyIsSaidOnce) {
  MaxmemoryPolicyWatch watch;
  const auto line = watch.Observe("h:1", ErrorReply("ERR unknown command 'CONFIG'"));
  EXPECT_TRUE(Contains(line, "cannot check maxmemory-policy"));
  EXPECT_TRUE(Contains(line, "ERR unknown command 'CONFIG'"));
  EXPECT_EQ(watch.Observe("h:1", ErrorReply("NOPERM this user has no permissions")), std::nullopt);
  EXPECT_EQ(watch.Observe("h:1", PolicyReply("noeviction")), std::nullopt);
}

TEST(MaxmemoryPolicyWatchTest, ALostConnectionSaysNothingAndChangesNothing) {
  MaxmemoryPolicyWatch watch;
  ASSERT_TRUE(watch.Observe("h:1", PolicyReply("allkeys-lru")).has_value());
  EXPECT_EQ(watch.Observe("h:1", Error(ErrorKind::kUnavailable, "redis: connection closed")),
            std::nullopt);
  EXPECT_EQ(watch.Observe("h:1", PolicyReply("allkeys-lru")), std::nullopt);
}

}  // namespace
}  // namespace floodgate::store
