#include "policy/redis_url.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

RedisUrl Parse(const std::string& url) {
  auto r = ParseRedisUrl(url);
  EXPECT_TRUE(r.ok()) << url << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? r.value() : RedisUrl{};
}

void ExpectInvalid(const std::string& url) {
  auto r = ParseRedisUrl(url);
  ASSERT_FALSE(r.ok()) << url;
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalid);
}

TEST(RedisUrlTest, HostAloneDefaultsToPort6379AndDb0) {
  const RedisUrl u = Parse("redis://127.0.0.1");
  EXPECT_EQ(u.kind, RedisUrl::Kind::kTcp);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  EXPECT_TRUE(u.password.empty());
}

TEST(RedisUrlTest, HostPortAndDb) {
  const RedisUrl u = Parse("redis://redis.example.org:6380/3");
  EXPECT_EQ(u.host, "redis.example.org");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 3);
}

TEST(RedisUrlTest, PasswordOnly) {
  const RedisUrl u = Parse("redis://:s3cret@127.0.0.1:6379/0");
  EXPECT_TRUE(u.user.empty());
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.host, "127.0.0.1");
}

TEST(RedisUrlTest, UserAndPassword) {
  const RedisUrl u = Parse("redis://floodgate:pw@localhost/2");
  EXPECT_EQ(u.user, "floodgate");
  EXPECT_EQ(u.password, "pw");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 2);
}

// Generated passwords hold URL delimiters: percent-escapes carry them, in every form.
TEST(RedisUrlTest, UserAndPasswordArePercentDecoded) {
  RedisUrl u = Parse("redis://fg%3Aapp:p%40ss%2Fw%3Ard%3F%25%26@h:7000/1");
  EXPECT_EQ(u.user, "fg:app");
  EXPECT_EQ(u.password, "p@ss/w:rd?%&");
  EXPECT_EQ(u.host, "h");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.db, 1);
  u = Parse("redis://%2f%2F@h");  // lower- and upper-case hex; a password alone
  EXPECT_TRUE(u.user.empty());
  EXPECT_EQ(u.password, "//");
  u = Parse("unix:///run/redis.sock?user=a%26b&password=c%3Dd%26e");
  EXPECT_EQ(u.user, "a&b");
  EXPECT_EQ(u.password, "c=d&e");
  u = Parse("redis+sentinel://:p%40ss@s1,s2/m");
  EXPECT_EQ(u.password, "p@ss");
  ASSERT_EQ(u.sentinels.size(), 2u);
}

TEST(RedisUrlTest, SentinelCredentialsComeFromTheQuery) {
  RedisUrl u =
      Parse("redis+sentinel://:master%40pw@s1:26379,s2/mymaster/3?sentinel_password=s%26p");
  EXPECT_EQ(u.password, "master@pw");
  EXPECT_EQ(u.sentinel_password, "s&p");
  EXPECT_TRUE(u.sentinel_user.empty());
  EXPECT_EQ(u.master_name, "mymaster");
  EXPECT_EQ(u.db, 3);
  u = Parse("redis+sentinel://s1/m?sentinel_user=ops&sentinel_password=x");
  EXPECT_EQ(u.sentinel_user, "ops");
  EXPECT_EQ(u.sentinel_password, "x");
  EXPECT_TRUE(u.password.empty());
  EXPECT_EQ(u.master_name, "m");
  EXPECT_TRUE(Parse("redis+sentinel://s1/m").sentinel_password.empty());
  ExpectInvalid("redis+sentinel://s1/m?sentinel_user=ops");  // a user needs a password
  ExpectInvalid("redis+sentinel://s1/m?password=x");         // the master's goes before @
  ExpectInvalid("redis+sentinel://s1/m?sentinel_password=%zz");
  EXPECT_EQ(Parse("redis+sentinel://s1/m?sentinel_password=topsecret").Describe().find("topsecret"),
            std::string::npos);
}

TEST(RedisUrlTest, RefusesBadPercentEscapesWithoutEchoingThem) {
  for (const char* url :
       {"redis://:pw%@h", "redis://:pw%4@h", "redis://:pw%zzsecret@h", "redis://u%g1:pw@h",
        "unix:///s?password=%xxsecret", "redis+sentinel://:%2@s1/m"}) {
    auto r = ParseRedisUrl(url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_NE(r.error().message().find("%-escape"), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().find("secret"), std::string::npos) << r.error().message();
  }
}

TEST(RedisUrlTest, BracketedIpv6) {
  const RedisUrl u = Parse("redis://[::1]:7000/1");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.db, 1);
}

TEST(RedisUrlTest, UnixSocketWithDbAndPassword) {
  const RedisUrl u = Parse("unix:///run/redis/redis.sock?db=5&password=pw");
  EXPECT_EQ(u.kind, RedisUrl::Kind::kUnix);
  EXPECT_EQ(u.path, "/run/redis/redis.sock");
  EXPECT_EQ(u.db, 5);
  EXPECT_EQ(u.password, "pw");
}

TEST(RedisUrlTest, UnixSocketAlone) {
  const RedisUrl u = Parse("unix:///tmp/r.sock");
  EXPECT_EQ(u.path, "/tmp/r.sock");
  EXPECT_EQ(u.db, 0);
}

TEST(RedisUrlTest, SentinelHostsAndMaster) {
  const RedisUrl u = Parse("redis+sentinel://h1:26379,h2:26380,h3/mymaster");
  EXPECT_EQ(u.kind, RedisUrl::Kind::kSentinel);
  ASSERT_EQ(u.sentinels.size(), 3u);
  EXPECT_EQ(u.sentinels[0].host, "h1");
  EXPECT_EQ(u.sentinels[1].port, 26380);
  EXPECT_EQ(u.sentinels[2].port, 26379);
  EXPECT_EQ(u.master_name, "mymaster");
}

TEST(RedisUrlTest, DescribeNeverShowsThePassword) {
  EXPECT_EQ(Parse("redis://:topsecret@h:1/2").Describe().find("topsecret"), std::string::npos);
  EXPECT_EQ(Parse("unix:///s?password=topsecret").Describe().find("topsecret"), std::string::npos);
}

TEST(RedisUrlTest, ErrorsDoNotEchoThePassword) {
  auto r = ParseRedisUrl("redis://:topsecret@h:notaport/0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().find("topsecret"), std::string::npos);
}

TEST(RedisUrlTest, RejectsMalformedUrls) {
  ExpectInvalid("127.0.0.1:6379");
  ExpectInvalid("http://127.0.0.1");
  ExpectInvalid("redis://");
  ExpectInvalid("redis://h:0");
  ExpectInvalid("redis://h:65536");
  ExpectInvalid("redis://h:12x");
  ExpectInvalid("redis://h:6379/x");
  ExpectInvalid("redis://h:6379/-1");
  ExpectInvalid("redis://[::1");
  ExpectInvalid("unix://relative.sock");
  ExpectInvalid("unix:///s.sock?db=x");
  ExpectInvalid("unix:///s.sock?color=blue");
  ExpectInvalid("redis+sentinel://h1,h2");
  ExpectInvalid("redis+sentinel://h1:x/m");
  ExpectInvalid("redis+sentinel:///m");
}

// What the store would fail on later (a resolver error at every call, a connect to a
// path the kernel cannot hold) is refused here, so the config check refuses it too.
TEST(RedisUrlTest, RejectsHostsAndPathsNoConnectCouldUse) {
  ExpectInvalid("redis://redis example.org:6379/0");
  ExpectInvalid("redis://redis..example.org/0");
  ExpectInvalid("redis://::1:6379/0");  // IPv6 goes in brackets
  ExpectInvalid("redis://[not-v6]:6379/0");
  ExpectInvalid("redis://[::1]x/0");
  ExpectInvalid("redis://" + std::string(64, 'a') + ".example.org/0");
  ExpectInvalid("unix:///" + std::string(107, 's'));
  EXPECT_EQ(Parse("unix:///" + std::string(106, 's')).path.size(), 107u);
  EXPECT_EQ(Parse("redis://redis-1.example_org.test:6380/0").host, "redis-1.example_org.test");
  EXPECT_EQ(Parse("redis://10.0.0.7/2").host, "10.0.0.7");
}

TEST(RedisUrlTest, EveryCommaOfASentinelListSeparatesTwoAddresses) {
  ExpectInvalid("redis+sentinel://s1,,s2/m");
  ExpectInvalid("redis+sentinel://s1,/m");
  ExpectInvalid("redis+sentinel://,s1/m");
  ExpectInvalid("redis+sentinel://s1:26379,s2:0/m");
  ExpectInvalid("redis+sentinel://s1,s 2/m");
  EXPECT_EQ(Parse("redis+sentinel://[::1]:26380,s2/m").sentinels[0].host, "::1");
}

TEST(RedisUrlTest, ErrorsNameTheBadPart) {
  auto message = [](const std::string& url) {
    auto r = ParseRedisUrl(url);
    return r.ok() ? std::string("accepted") : r.error().message();
  };
  EXPECT_EQ(message("redis://:pw@h:99999/0"),
            "redis url: host \"h:99999\": bad port \"99999\" (1 to 65535)");
  EXPECT_EQ(message("redis://h/x"), "redis url: bad db \"x\" (a number from 0)");
  EXPECT_EQ(message("redis+sentinel://s1,s2:x/m"),
            "redis url: sentinel \"s2:x\": bad port \"x\" (1 to 65535)");
}

}  // namespace
}  // namespace floodgate::policy
