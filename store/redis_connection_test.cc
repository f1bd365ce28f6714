// The connection's pure parts; the transport itself is tested against a real
// redis-server in tests/integration/redis_store_test.cc.
#include "store/redis_connection.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace floodgate::store
