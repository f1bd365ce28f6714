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

}  // namespace
}  // namespace floodgate::store
