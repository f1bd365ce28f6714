// The connection's pure parts; the transport itself is tested against a real
// redis-server in tests/integration/redis_store_test.cc.
#include "store/redis_connection.h"

#include <gtest/gtest.h>

#include "store/redis_reply.h"

namespace floodgate::store {
namespace {

using std::chrono::milliseconds;

TEST(ReconnectGateTest, TheFirstAttemptIsAllowedAtOnce) {
  ReconnectGate gate(milliseconds(100));
  EXPECT_TRUE(gate.TryAttempt(Deadline{} + milliseconds(5)));
}

TEST(ReconnectGateTest, AttemptsAreAtMostOncePerBackoff) {
  ReconnectGate gate(milliseconds(100));
  const Deadline t0 = Deadline{} + milliseconds(1000);
  ASSERT_TRUE(gate.TryAttempt(t0));
  EXPECT_FALSE(gate.TryAttempt(t0));
  EXPECT_FALSE(gate.TryAttempt(t0 + milliseconds(99)));
  EXPECT_TRUE(gate.TryAttempt(t0 + milliseconds(100)));
  EXPECT_FALSE(gate.TryAttempt(t0 + milliseconds(150)));
  EXPECT_TRUE(gate.TryAttempt(t0 + milliseconds(200)));
}

TEST(EncodeCommandTest, EncodesRespWithBinarySafeArguments) {
  EXPECT_EQ(EncodeCommand({"PING"}), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(EncodeCommand({"SET", "k", std::string("a\0b", 3)}),
            std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n", 29));
  EXPECT_EQ(EncodeCommand({"GET", ""}), "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

// A command is a RESP array of bulk strings, so hiredis' reply parser reads it back: every
// argument must survive, whatever its length (multi-digit headers) or bytes (CR/LF, NUL).
TEST(EncodeCommandTest, RoundTripsThroughTheRespParser) {
  std::vector<std::string> argv = {"EVALSHA", std::string(10000, 'x'), "a\r\nb",
                                   std::string("\0\0", 2), ""};
  for (int i = 0; i < 20; ++i) argv.push_back(std::to_string(i * 1234567));
  ReplyReader reader;
  const std::string wire = EncodeCommand(argv);
  ASSERT_TRUE(reader.Feed(wire.data(), wire.size()).ok());
  auto reply = reader.Next();
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->has_value());
  const RedisReply& r = **reply;
  ASSERT_EQ(r.type, RedisReply::Type::kArray);
  ASSERT_EQ(r.elements.size(), argv.size());
  for (std::size_t i = 0; i < argv.size(); ++i) {
    EXPECT_EQ(r.elements[i].type, RedisReply::Type::kString);
    EXPECT_EQ(r.elements[i].str, argv[i]) << i;
  }
  auto rest = reader.Next();
  ASSERT_TRUE(rest.ok());
  EXPECT_FALSE(rest->has_value());  // nothing left over
}

TEST(CommandWriterTest, WritesNumbersAsDecimalTextLikeEncodeCommand) {
  const std::string written = CommandWriter(5)
                                  .Arg("EVALSHA")
                                  .Arg(std::int64_t{0})
                                  .Arg(std::int64_t{-42})
                                  .Arg(std::int64_t{86'400'000'000})
                                  .Arg(std::string_view("a\r\n", 3))
                                  .Take();
  EXPECT_EQ(written, EncodeCommand({"EVALSHA", "0", "-42", "86400000000", "a\r\n"}));
}

// Replies of every RESP type, nested, split at every byte boundary: the reader builds the
// same RedisReply whatever the chunking, and leaves nothing behind.
TEST(ReplyReaderTest, ParsesEveryTypeNestedAndInAnyChunking) {
  const std::string wire =
      "*6\r\n:1\r\n$5\r\nhello\r\n$-1\r\n+OK\r\n-ERR bad\r\n"
      "*2\r\n:-7\r\n*1\r\n$0\r\n\r\n"
      "+PONG\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    ReplyReader reader;
    std::vector<RedisReply> got;
    for (const std::string_view part :
         {std::string_view(wire).substr(0, cut), std::string_view(wire).substr(cut)}) {
      ASSERT_TRUE(reader.Feed(part.data(), part.size()).ok());
      for (;;) {
        auto next = reader.Next();
        ASSERT_TRUE(next.ok()) << next.error().message();
        if (!next->has_value()) break;
        got.push_back(std::move(**next));
      }
    }
    ASSERT_EQ(got.size(), 2u) << "cut at " << cut;
    const RedisReply& a = got[0];
    ASSERT_EQ(a.type, RedisReply::Type::kArray);
    ASSERT_EQ(a.elements.size(), 6u);
    EXPECT_EQ(a.elements[0].type, RedisReply::Type::kInteger);
    EXPECT_EQ(a.elements[0].integer, 1);
    EXPECT_EQ(a.elements[1].type, RedisReply::Type::kString);
    EXPECT_EQ(a.elements[1].str, "hello");
    EXPECT_EQ(a.elements[2].type, RedisReply::Type::kNil);
    EXPECT_EQ(a.elements[3].type, RedisReply::Type::kStatus);
    EXPECT_EQ(a.elements[3].str, "OK");
    EXPECT_TRUE(a.elements[4].is_error());
    EXPECT_EQ(a.elements[4].str, "ERR bad");
    const RedisReply& inner = a.elements[5];
    ASSERT_EQ(inner.type, RedisReply::Type::kArray);
    ASSERT_EQ(inner.elements.size(), 2u);
    EXPECT_EQ(inner.elements[0].integer, -7);
    ASSERT_EQ(inner.elements[1].elements.size(), 1u);
    EXPECT_EQ(inner.elements[1].elements[0].str, "");
    EXPECT_EQ(got[1].type, RedisReply::Type::kStatus);
    EXPECT_EQ(got[1].str, "PONG");
  }
}

// A server announcing a billion-element array must not make us allocate for it: the
// reader reports an error (the connection is then dropped) instead of throwing.
TEST(ReplyReaderTest, RefusesAnAbsurdArrayInsteadOfAllocatingIt) {
  ReplyReader reader;
  ASSERT_TRUE(reader.Feed("*1000000000\r\n:1\r\n", 17).ok());
  EXPECT_FALSE(reader.Next().ok());
}

TEST(ReplyReaderTest, RefusesBadRespAndRecoversAfterReset) {
  ReplyReader reader;
  ASSERT_TRUE(reader.Feed("*2\r\n:1\r\n?bad\r\n", 15).ok());
  EXPECT_FALSE(reader.Next().ok());
  reader.Reset();
  ASSERT_TRUE(reader.Feed(":5\r\n", 4).ok());
  auto next = reader.Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->integer, 5);
}

}  // namespace
}  // namespace floodgate::store
