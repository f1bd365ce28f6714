// The Prometheus endpoint end to end without Postfix: decisions through a real Decider
// move the counters, and a plain socket scrapes them from a real MetricsServer. The
// locks-active gauge is read from the store, memory and a real redis-server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "milter/decider.h"
#include "milter/metrics_server.h"
#include "policy/planner.h"
#include "store/memory_store.h"
#include "store/redis_store.h"
#include "tests/testing/redis_server.h"

namespace floodgate::milter {
namespace {

// A connected TCP socket to 127.0.0.1:port with a receive timeout (so a broken server
// fails the test instead of hanging it).
int Connect(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` and returns everything the server says until it closes.
std::string Exchange(std::uint16_t port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return "(connect failed)";
  std::string reply;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, n);
  }
  close(fd);
  return reply;
}

std::string Get(std::uint16_t port, const std::string& path) {
  return Exchange(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

bool HasLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

class MetricsEndpointTest : public ::testing::Test {
 protected:
  MetricsEndpointTest()
      : decider_(std::make_unique<store::MemoryStore>(clock_), nullptr, alerts_, clock_) {
    policy::Limit l;
    l.name = "submission";
    l.subject = policy::SubjectKind::kAccount;
    l.traffic = policy::DefaultTraffic(l.subject);
    policy::Rate r;
    r.amount = 10;
    r.period_s = 3600;
    l.rates = {r};
    config_.limits = {l};
    facts_.client = policy::Address::Parse("203.0.113.9");
    facts_.account = "alice@example.org";
    facts_.traffic = policy::Traffic::kSubmission;
    auto server = MetricsServer::Start("127.0.0.1:0", decider_.metrics());
    EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().message());
    if (server.ok()) server_ = std::move(server).value();
  }

  FakeClock clock_;
  MemoryAlertSink alerts_;
  Decider decider_;
  policy::Config config_;
  policy::Facts facts_;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsEndpointTest, ScrapeShowsTheDecisionsMade) {
  ASSERT_TRUE(server_);
  ASSERT_NE(server_->port(), 0);
  for (int i = 0; i < 15; ++i) (void)decider_.Decide(config_, facts_, {});
  std::atomic<long> sessions{3};
  decider_.metrics().WatchSessions(&sessions);

  const std::string reply = Get(server_->port(), "/metrics");
  EXPECT_TRUE(reply.starts_with("HTTP/1.0 200 OK\r\n")) << reply;
  EXPECT_NE(reply.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << reply;
  const std::string body = reply.substr(reply.find("\r\n\r\n") + 4);
  EXPECT_NE(reply.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_TRUE(HasLine(
      reply,
      R"(floodgate_decisions_total{limit="submission",action="accepted",traffic="submission"} 10)"))
      << reply;
  EXPECT_TRUE(HasLine(
      reply,
      R"(floodgate_decisions_total{limit="submission",action="tempfail",traffic="submission"} 5)"));
  EXPECT_TRUE(HasLine(reply, R"(floodgate_store_latency_seconds_count{op="check"} 15)"));
  // The first refusal is an alert, kept in the store's events list: one append.
  EXPECT_TRUE(HasLine(reply, R"(floodgate_store_latency_seconds_count{op="append"} 1)"));
  EXPECT_TRUE(HasLine(reply, "floodgate_sessions_open 3"));
  decider_.metrics().WatchSessions(nullptr);

  // The counters keep moving between scrapes.
  (void)decider_.Decide(config_, facts_, {});
  EXPECT_TRUE(HasLine(
      Get(server_->port(), "/metrics?x=1"),
      R"(floodgate_decisions_total{limit="submission",action="tempfail",traffic="submission"} 6)"));
}

TEST_F(MetricsEndpointTest, ScrapeShowsTheLocksActiveInTheStore) {
  ASSERT_TRUE(server_);
  config_.limits[0].lock_after = 1;  // 10 refused units (1 x 10/1h) lock the account
  config_.limits[0].lock_ttl_s = 3600;
  const std::string before = Get(server_->port(), "/metrics");
  EXPECT_TRUE(HasLine(before, "# TYPE floodgate_locks_active gauge")) << before;
  EXPECT_TRUE(HasLine(before, "floodgate_locks_active 0")) << before;

  for (int i = 0; i < 25; ++i) (void)decider_.Decide(config_, facts_, {});
  const std::string locked = Get(server_->port(), "/metrics");
  EXPECT_TRUE(HasLine(locked, "floodgate_locks_active 1")) << locked;
  EXPECT_TRUE(HasLine(locked, R"(floodgate_locks_total{limit="submission"} 1)"));

  clock_.Advance(3600LL * 1'000'000);  // lock_ttl
  EXPECT_TRUE(HasLine(Get(server_->port(), "/metrics"), "floodgate_locks_active 0"));
}

// Against Redis the gauge is site-wide: a lock made by this daemon, one made by
// floodgatectl (another client), an unlock; and a scrape still answers when Redis is gone.
TEST(MetricsRedisTest, TheLocksGaugeIsReadFromRedisAndLeftOutWhenItFails) {
  auto started = floodgate::testing::RedisServer::Start({.tcp = false});
  ASSERT_TRUE(started.ok()) << "redis-server is required: " << started.error().message();
  floodgate::testing::RedisServer& redis = **started;
  auto primary = store::RedisStore::Open(redis.unix_url(), 200);
  auto ctl = store::RedisStore::Open(redis.unix_url(), 2000);
  ASSERT_TRUE(primary.ok() && ctl.ok());
  MemoryAlertSink alerts;
  SystemClock clock;
  Decider decider(std::move(primary).value(), nullptr, alerts, clock);
  auto metrics_server = MetricsServer::Start("127.0.0.1:0", decider.metrics());
  ASSERT_TRUE(metrics_server.ok()) << metrics_server.error().message();
  const std::uint16_t port = (*metrics_server)->port();
  // No waiting for the background lock-index write: the scrape asks the same RedisStore,
  // whose connection sends commands in call order, so the write is ahead of the count.
  policy::Config config;
  policy::Limit l;
  l.name = "submission";
  l.subject = policy::SubjectKind::kAccount;
  l.traffic = policy::DefaultTraffic(l.subject);
  l.rates = {policy::Rate{}};
  l.rates[0].amount = 10;
  l.rates[0].period_s = 3600;
  l.lock_after = 1;
  config.limits = {l};
  policy::Facts facts;
  facts.client = policy::Address::Parse("203.0.113.9");
  facts.account = "alice@example.org";
  facts.traffic = policy::Traffic::kSubmission;
  EXPECT_TRUE(HasLine(Get(port, "/metrics"), "floodgate_locks_active 0"));
  for (int i = 0; i < 25; ++i) (void)decider.Decide(config, facts, {});
  const std::string one = Get(port, "/metrics");
  EXPECT_TRUE(HasLine(one, "floodgate_locks_active 1")) << one;

  // floodgatectl lock account:bob@example.org: counted by every daemon's scrape.
  const std::string bob =
      policy::LockKey(config.store.key_prefix, policy::SubjectKind::kAccount, "bob@example.org");
  ASSERT_TRUE((*ctl)->Command({"SET", bob, "admin"}).ok());
  ASSERT_TRUE((*ctl)->IndexLock(bob, 0).ok());
  EXPECT_TRUE(HasLine(Get(port, "/metrics"), "floodgate_locks_active 2"));
  // floodgatectl unlock account:alice@example.org.
  const std::string alice =
      policy::LockKey(config.store.key_prefix, policy::SubjectKind::kAccount, "alice@example.org");
  ASSERT_TRUE((*ctl)->Command({"DEL", alice}).ok());
  ASSERT_TRUE((*ctl)->UnindexLock(alice).ok());
  EXPECT_TRUE(HasLine(Get(port, "/metrics"), "floodgate_locks_active 1"));

  redis.Kill();
  const std::string down = Get(port, "/metrics");
  EXPECT_TRUE(down.starts_with("HTTP/1.0 200 OK\r\n")) << down;
  EXPECT_TRUE(HasLine(down, "# TYPE floodgate_locks_active gauge")) << down;
  EXPECT_EQ(down.find("\nfloodgate_locks_active "), std::string::npos) << down;
  EXPECT_TRUE(HasLine(down, "floodgate_sessions_open 0")) << "the rest is still there";
}

TEST_F(MetricsEndpointTest, OtherPathsAndMethodsAreRefused) {
  ASSERT_TRUE(server_);
  const std::string other = Get(server_->port(), "/");
  EXPECT_TRUE(other.starts_with("HTTP/1.0 404 Not Found\r\n")) << other;
  EXPECT_EQ(other.find("floodgate_"), std::string::npos);
  const std::string post = Exchange(server_->port(), "POST /metrics HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.0 405 Method Not Allowed\r\n")) << post;
}

TEST_F(MetricsEndpointTest, ASilentClientDoesNotHoldUpAScrape) {
  ASSERT_TRUE(server_);
  const int idle = Connect(server_->port());  // connects, then says nothing
  ASSERT_GE(idle, 0);
  const std::string reply = Get(server_->port(), "/metrics");
  EXPECT_TRUE(reply.starts_with("HTTP/1.0 200 OK\r\n")) << reply;
  close(idle);
}

TEST(MetricsServerTest, AnAddressInUseIsAnError) {
  Metrics metrics;
  auto first = MetricsServer::Start("127.0.0.1:0", metrics);
  ASSERT_TRUE(first.ok());
  auto second = MetricsServer::Start("127.0.0.1:" + std::to_string((*first)->port()), metrics);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("cannot listen for metrics"), std::string::npos)
      << second.error().message();
}

}  // namespace
}  // namespace floodgate::milter
