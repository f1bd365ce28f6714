// RedisStore's maxmemory-policy check against a real redis-server: an evicting policy is
// a warning at start, said once across reconnects and again when it changes; a server
// that refuses CONFIG is said once and still serves.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/redis_store.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/wait.h"

namespace floodgate::store {
namespace {

using floodgate::testing::RedisServer;
using floodgate::testing::WaitFor;
using std::chrono::milliseconds;

// The lines a store's warning sink received (from the connection's io thread).
class Lines {
 public:
  RedisStore::Warn Sink() {
    return [this](const std::string& line) {
      std::lock_guard lock(mu_);
      lines_.push_back(line);
    };
  }
  std::vector<std::string> Get() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  std::size_t Count(const std::string& what) const {
    std::size_t n = 0;
    for (const std::string& l : Get()) n += l.find(what) != std::string::npos ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

std::unique_ptr<RedisServer> StartOrDie(std::vector<std::string> args) {
  RedisServer::Options options;
  options.extra_args = std::move(args);
  auto server = RedisServer::Start(options);
  EXPECT_TRUE(server.ok()) << "redis-server is required: " << server.error().message();
  return server.ok() ? std::move(server).value() : nullptr;
}

std::unique_ptr<RedisStore> OpenOrDie(const std::string& url, Lines& lines) {
  auto store = RedisStore::Open(url, 500, "fg:", lines.Sink());
  EXPECT_TRUE(store.ok()) << store.error().message();
  return store.ok() ? std::move(store).value() : nullptr;
}

// The store reconnects on the next command after its backoff: ping until it answers.
bool PingsAgain(RedisStore& store) {
  return WaitFor([&] { return store.Ping().ok(); }, milliseconds(5000), milliseconds(20));
}

TEST(MaxmemoryPolicyTest, AnAllkeysPolicyIsWarnedAtStartOnceAndAgainWhenItChanges) {
  auto server = StartOrDie({"--maxmemory-policy", "allkeys-lru"});
  ASSERT_NE(server, nullptr);
  Lines lines;
  auto store = OpenOrDie(server->unix_url(), lines);
  ASSERT_NE(store, nullptr);
  // At start: no command has been sent yet.
  ASSERT_TRUE(WaitFor([&] { return lines.Count("maxmemory-policy is allkeys-lru") == 1; },
                      milliseconds(5000)))
      << (lines.Get().empty() ? "no line" : lines.Get().front());
  EXPECT_EQ(lines.Count("warning: maxmemory-policy is allkeys-lru"), 1u);
  EXPECT_EQ(lines.Count("Set maxmemory-policy noeviction"), 1u);

  // Reconnects to the same policy say nothing more.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(server->Restart().ok());
    ASSERT_TRUE(PingsAgain(*store));
  }
  EXPECT_EQ(lines.Get().size(), 1u);

  // The admin fixes it; the next connection says so.
  ASSERT_TRUE(server->RedisCli({"CONFIG", "SET", "maxmemory-policy", "noeviction"}).ok());
  ASSERT_TRUE(server->RedisCli({"CLIENT", "KILL", "TYPE", "normal"}).ok());
  ASSERT_TRUE(PingsAgain(*store));
  ASSERT_TRUE(WaitFor([&] { return lines.Count("maxmemory-policy is now noeviction") == 1; },
                      milliseconds(5000)));
  EXPECT_EQ(lines.Get().size(), 2u);
}

TEST(MaxmemoryPolicyTest, NoevictionSaysNothing) {
  auto server = StartOrDie({"--maxmemory-policy", "noeviction"});
  ASSERT_NE(server, nullptr);
  Lines lines;
  auto store = OpenOrDie(server->unix_url(), lines);
  ASSERT_NE(store, nullptr);
  // The check is pipelined before the PING, so its reply has been read when PING returns.
  ASSERT_TRUE(PingsAgain(*store));
  EXPECT_EQ(lines.Get(), std::vector<std::string>{});
}

// CONFIG renamed away (as hardened setups do): one line saying it could not be checked,
// and the connection serves as usual.
TEST(MaxmemoryPolicyTest, AServerWithoutConfigIsSaidOnceAndStillServes) {
  auto server = StartOrDie({"--rename-command", "CONFIG", ""});
  ASSERT_NE(server, nullptr);
  Lines lines;
  auto store = OpenOrDie(server->unix_url(), lines);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(PingsAgain(*store));
  auto pong = store->Ping();
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(pong.value(), "PONG");
  ASSERT_TRUE(server->Restart().ok());
  ASSERT_TRUE(PingsAgain(*store));
  EXPECT_EQ(lines.Count("cannot check maxmemory-policy"), 1u);
  EXPECT_EQ(lines.Get().size(), 1u);
}

}  // namespace
}  // namespace floodgate::store
