// SentinelResolver's decisions, fed with sentinel replies and failures; the I/O it drives
// is tested against real sentinels in tests/integration/sentinel_test.cc.
#include "store/sentinel_resolver.h"

#include <gtest/gtest.h>

namespace floodgate::store {
namespace {

using Kind = SentinelResolver::Action::Kind;

RedisReply Str(const std::string& s) { return {RedisReply::Type::kString, s, 0, {}}; }
RedisReply Arr(std::vector<RedisReply> e) { return {RedisReply::Type::kArray, "", 0, e}; }
RedisReply Err(const std::string& s) { return {RedisReply::Type::kError, s, 0, {}}; }
RedisReply Nil() { return {}; }
Result<RedisReply> Down() { return Error(ErrorKind::kUnavailable, "connect: refused"); }

SentinelResolver ThreeSentinels() {
  return SentinelResolver({{"s1", 26379}, {"s2", 26380}, {"s3", 26381}}, "mymaster");
}

TEST(SentinelResolverTest, AsksTheFirstSentinelForTheMaster) {
  SentinelResolver r = ThreeSentinels();
  const auto a = r.Start();
  EXPECT_EQ(a.kind, Kind::kAskSentinel);
  EXPECT_EQ(a.addr.host, "s1");
  EXPECT_EQ(a.addr.port, 26379);
  EXPECT_EQ(r.Query(),
            (std::vector<std::string>{"SENTINEL", "get-master-addr-by-name", "mymaster"}));
}

TEST(SentinelResolverTest, ConnectsToTheAddressTheSentinelNames) {
  SentinelResolver r = ThreeSentinels();
  (void)r.Start();
  const auto a = r.OnSentinelReply(Arr({Str("10.0.0.7"), Str("6380")}));
  EXPECT_EQ(a.kind, Kind::kConnectMaster);
  EXPECT_EQ(a.addr.host, "10.0.0.7");
  EXPECT_EQ(a.addr.port, 6380);
}

TEST(SentinelResolverTest, ASentinelThatFailsOrDoesNotKnowPassesTheTurn) {
  SentinelResolver r = ThreeSentinels();
  (void)r.Start();
  auto a = r.OnSentinelReply(Down());
  ASSERT_EQ(a.kind, Kind::kAskSentinel);
  EXPECT_EQ(a.addr.host, "s2");
  a = r.OnSentinelReply(Nil());  // does not monitor "mymaster"
  ASSERT_EQ(a.kind, Kind::kAskSentinel);
  EXPECT_EQ(a.addr.host, "s3");
  a = r.OnSentinelReply(Arr({Str("10.0.0.8"), Str("6379")}));
  EXPECT_EQ(a.kind, Kind::kConnectMaster);
  EXPECT_EQ(a.addr.host, "10.0.0.8");
}

TEST(SentinelResolverTest, FailsWithEveryReasonWhenNoSentinelAnswers) {
  SentinelResolver r = ThreeSentinels();
  (void)r.Start();
  (void)r.OnSentinelReply(Down());
  (void)r.OnSentinelReply(Err("ERR unknown command"));
  const auto a = r.OnSentinelReply(Error(ErrorKind::kTimeout, "no answer within 250 ms"));
  ASSERT_EQ(a.kind, Kind::kFail);
  EXPECT_NE(a.error.find("mymaster"), std::string::npos) << a.error;
  EXPECT_NE(a.error.find("s1:26379: connect: refused"), std::string::npos) << a.error;
  EXPECT_NE(a.error.find("s2:26380: ERR unknown command"), std::string::npos) << a.error;
  EXPECT_NE(a.error.find("s3:26381: no answer"), std::string::npos) << a.error;
  // A late reply after the round failed changes nothing.
  EXPECT_EQ(r.OnSentinelReply(Arr({Str("10.0.0.8"), Str("6379")})).kind, Kind::kFail);
}

TEST(SentinelResolverTest, TheSentinelThatAnsweredIsAskedFirstNextRound) {
  SentinelResolver r = ThreeSentinels();
  (void)r.Start();
  (void)r.OnSentinelReply(Down());
  (void)r.OnSentinelReply(Down());
  ASSERT_EQ(r.OnSentinelReply(Arr({Str("10.0.0.8"), Str("6379")})).kind, Kind::kConnectMaster);
  auto a = r.Start();
  EXPECT_EQ(a.addr.host, "s3");
  a = r.OnSentinelReply(Down());
  EXPECT_EQ(a.addr.host, "s1") << "the others keep their order";
  a = r.OnSentinelReply(Down());
  EXPECT_EQ(a.addr.host, "s2");
}

TEST(SentinelResolverTest, ANewRoundStartsOverAfterAFailure) {
  SentinelResolver r({{"s1", 26379}}, "m");
  (void)r.Start();
  ASSERT_EQ(r.OnSentinelReply(Down()).kind, Kind::kFail);
  const auto a = r.Start();
  EXPECT_EQ(a.kind, Kind::kAskSentinel);
  EXPECT_EQ(a.addr.host, "s1");
}

TEST(ParseMasterAddrTest, RejectsMalformedReplies) {
  EXPECT_FALSE(ParseMasterAddr(Nil()).ok());
  EXPECT_FALSE(ParseMasterAddr(Err("IDONTKNOW")).ok());
  EXPECT_FALSE(ParseMasterAddr(Arr({Str("h")})).ok());
  EXPECT_FALSE(ParseMasterAddr(Arr({Str("h"), Str("0")})).ok());
  EXPECT_FALSE(ParseMasterAddr(Arr({Str("h"), Str("65536")})).ok());
  EXPECT_FALSE(ParseMasterAddr(Arr({Str("h"), Str("63x")})).ok());
  EXPECT_FALSE(ParseMasterAddr(Arr({Str(""), Str("6379")})).ok());
  EXPECT_FALSE(ParseMasterAddr(Arr({Str("h"), {RedisReply::Type::kInteger, "", 6379, {}}})).ok());
  auto ok = ParseMasterAddr(Arr({Str("::1"), Str("6379")}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->host, "::1");
}

TEST(IsMasterRoleTest, OnlyAMasterRoleCounts) {
  EXPECT_TRUE(
      IsMasterRole(Arr({Str("master"), {RedisReply::Type::kInteger, "", 42, {}}, Arr({})})));
  EXPECT_FALSE(IsMasterRole(Arr({Str("slave"), Str("127.0.0.1"), Str("6379")})));
  EXPECT_FALSE(IsMasterRole(Arr({Str("sentinel"), Arr({})})));
  EXPECT_FALSE(IsMasterRole(Arr({})));
  EXPECT_FALSE(IsMasterRole(Str("master")));
}

}  // namespace
}  // namespace floodgate::store
