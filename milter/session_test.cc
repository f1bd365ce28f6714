#include "milter/session.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace floodgate::milter {
namespace {

sockaddr_in V4(const char* ip, unsigned port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, ip, &sin.sin_addr);
  return sin;
}

TEST(ConnectFactsTest, SendmailSubmissionIsLoopbackWithPortZero) {
  const sockaddr_in sin = V4("127.0.0.1", 0);
  const policy::Facts f = ConnectFacts(reinterpret_cast<const sockaddr*>(&sin));
  EXPECT_TRUE(f.local_submission);
}

TEST(ConnectFactsTest, LoopbackSmtpClientIsNotALocalSubmission) {
  const sockaddr_in sin = V4("127.0.0.1", 41234);
  EXPECT_FALSE(ConnectFacts(reinterpret_cast<const sockaddr*>(&sin)).local_submission);
}

TEST(ConnectFactsTest, RemoteAddressIsTheClient) {
  const sockaddr_in sin = V4("203.0.113.9", 0);
  const policy::Facts f = ConnectFacts(reinterpret_cast<const sockaddr*>(&sin));
  ASSERT_TRUE(f.client.has_value());
  EXPECT_FALSE(f.local_submission);
  EXPECT_EQ(policy::Network::Of(*f.client, 32).ToString(), "203.0.113.9");
}

TEST(ConnectFactsTest, Ipv4MappedIpv6IsTheIpv4Client) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(25000);
  inet_pton(AF_INET6, "::ffff:203.0.113.9", &sin6.sin6_addr);
  const policy::Facts f = ConnectFacts(reinterpret_cast<const sockaddr*>(&sin6));
  ASSERT_TRUE(f.client.has_value());
  EXPECT_FALSE(f.client->v6);
}

TEST(ConnectFactsTest, UnknownAddressHasNoClient) {
  EXPECT_FALSE(ConnectFacts(nullptr).client.has_value());
}

}  // namespace
}  // namespace floodgate::milter
