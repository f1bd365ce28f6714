// The Prometheus endpoint end to end without Postfix: decisions through a real Decider
// move the counters, and a plain socket scrapes them from a real MetricsServer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "milter/decider.h"
#include "milter/metrics_server.h"
#include "store/memory_store.h"

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
  MetricsEndpointTest() : decider_(std::make_unique<store::MemoryStore>(clock_), nullptr, alerts_) {
    policy::Limit l;
    l.name = "submission";
    l.subject = policy::SubjectKind::kAccount;
    policy::Rate r;
    r.amount = 10;
    r.period_s = 3600;
    l.rates = {r};
    config_.limits = {l};
    facts_.client = policy::Address::Parse("203.0.113.9");
    facts_.account = "alice@example.org";
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
  EXPECT_TRUE(
      HasLine(reply, R"(floodgate_decisions_total{limit="submission",action="accepted"} 10)"))
      << reply;
  EXPECT_TRUE(
      HasLine(reply, R"(floodgate_decisions_total{limit="submission",action="tempfail"} 5)"));
  EXPECT_TRUE(HasLine(reply, R"(floodgate_store_latency_seconds_count{op="check"} 15)"));
  // The first refusal is an alert, kept in the store's events list: one append.
  EXPECT_TRUE(HasLine(reply, R"(floodgate_store_latency_seconds_count{op="append"} 1)"));
  EXPECT_TRUE(HasLine(reply, "floodgate_sessions_open 3"));
  decider_.metrics().WatchSessions(nullptr);

  // The counters keep moving between scrapes.
  (void)decider_.Decide(config_, facts_, {});
  EXPECT_TRUE(HasLine(Get(server_->port(), "/metrics?x=1"),
                      R"(floodgate_decisions_total{limit="submission",action="tempfail"} 6)"));
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
