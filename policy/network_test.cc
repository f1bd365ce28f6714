// Unit tests for Address/Network: what parses and what is refused, IPv4-mapped folding,
// host-bit clearing, containment across families, and the canonical text used in keys.
#include "policy/network.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

namespace floodgate::policy {
namespace {

std::string Canon(std::string_view text) {
  const auto n = Network::Parse(text);
  return n ? n->ToString() : "<refused>";
}

Address Addr(std::string_view text) {
  const auto a = Address::Parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(Address{});
}

TEST(NetworkTest, ParsesIpv4) {
  const auto a = Address::Parse("203.0.113.9");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(a->bits(), 32);
  EXPECT_EQ(a->bytes, (std::array<std::uint8_t, 16>{203, 0, 113, 9}));
}

TEST(NetworkTest, ParsesIpv6) {
  const auto a = Address::Parse("2001:db8::1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->v6);
  EXPECT_EQ(a->bits(), 128);
  EXPECT_EQ(a->bytes[0], 0x20);
  EXPECT_EQ(a->bytes[1], 0x01);
  EXPECT_EQ(a->bytes[15], 0x01);
}

TEST(NetworkTest, RefusesMalformedAddresses) {
  for (std::string_view bad :
       {"", " ", "203.0.113.9 ", " 203.0.113.9", "203.0.113", "10.1", "256.0.0.1", "1.2.3.4.5",
        "0x7f.0.0.1", "fe80::1%eth0", "fe80::1%1", "2001:db8:::1", "2001:db8::g", "[2001:db8::1]",
        "localhost", "1.2.3.4/32", "::ffff:1.2.3"}) {
    EXPECT_FALSE(Address::Parse(bad)) << bad;
  }
}

TEST(NetworkTest, RefusesEmbeddedNul) {
  EXPECT_FALSE(Address::Parse(std::string("1.2.3.4\0junk", 12)));
  EXPECT_FALSE(Address::Parse(std::string("1.2.3.4\0", 8)));
  EXPECT_FALSE(Network::Parse(std::string("10.0.0.0/8\0", 11)));
}

TEST(NetworkTest, RefusesOverlongText) {
  EXPECT_FALSE(Address::Parse(std::string(10 * 1024, '1')));
  EXPECT_FALSE(Network::Parse(std::string(10 * 1024, ':')));
}

TEST(NetworkTest, LeadingZerosFollowInetPton) {
  // Whatever the C library says, Parse agrees with it; it never reads them as octal.
  for (const char* text : {"010.0.0.1", "1.02.3.4", "001.2.3.4"}) {
    unsigned char raw[4];
    const bool libc = inet_pton(AF_INET, text, raw) == 1;
    const auto a = Address::Parse(text);
    EXPECT_EQ(a.has_value(), libc) << text;
    if (a) {
      EXPECT_EQ(a->bytes[0], raw[0]) << text;  // decimal, never octal
    }
  }
  EXPECT_EQ(Canon("2001:db8:0:0:0:0:0:01/128"), "2001:db8::1");
  EXPECT_EQ(Canon("2001:0db8:0000::/32"), "2001:db8::/32");
}

TEST(NetworkTest, FoldsIpv4MappedToIpv4) {
  const Address mapped = Addr("::ffff:203.0.113.9");
  const Address plain = Addr("203.0.113.9");
  EXPECT_FALSE(mapped.v6);
  EXPECT_EQ(mapped.bytes, plain.bytes);
  EXPECT_EQ(Addr("::FFFF:cb00:7109").bytes, plain.bytes);  // the same address, hex form
  EXPECT_EQ(Network::Of(mapped, 32).ToString(), "203.0.113.9");
  EXPECT_EQ(Network::Of(mapped, 24).ToString(), "203.0.113.0/24");
}

TEST(NetworkTest, DoesNotFoldOtherEmbeddings) {
  // IPv4-compatible (deprecated) and NAT64 addresses are distinct IPv6 hosts.
  EXPECT_TRUE(Addr("::203.0.113.9").v6);
  EXPECT_TRUE(Addr("64:ff9b::203.0.113.9").v6);
  EXPECT_TRUE(Addr("::ffff:0:203.0.113.9").v6);
  EXPECT_TRUE(Addr("::").v6);
  EXPECT_TRUE(Addr("::1").v6);
}

TEST(NetworkTest, ParsesCidr) {
  EXPECT_EQ(Canon("192.0.2.0/24"), "192.0.2.0/24");
  EXPECT_EQ(Canon("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(Canon("10.0.0.0/8"), "10.0.0.0/8");
  EXPECT_EQ(Canon("192.0.2.7/32"), "192.0.2.7");
  EXPECT_EQ(Canon("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(Canon("2001:db8::/32"), "2001:db8::/32");
  EXPECT_EQ(Canon("::/0"), "::/0");
  EXPECT_EQ(Canon("2001:db8::1/128"), "2001:db8::1");
  EXPECT_EQ(Canon("2001:DB8::1"), "2001:db8::1");
  EXPECT_EQ(Canon("10.0.0.0/08"), "10.0.0.0/8");
}

TEST(NetworkTest, ParseClearsHostBits) {
  const auto n = Network::Parse("192.0.2.77/24");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->prefix, 24);
  EXPECT_EQ(n->base.bytes, (std::array<std::uint8_t, 16>{192, 0, 2, 0}));
  EXPECT_EQ(Canon("2001:db8:1:2:3:4:5:6/64"), "2001:db8:1:2::/64");
}

TEST(NetworkTest, RefusesBadPrefixes) {
  for (std::string_view bad : {"10.0.0.0/33",
                               "10.0.0.0/-1",
                               "10.0.0.0/+8",
                               "/",
                               "/8",
                               "1.2.3.4/",
                               "1.2.3.4/ 8",
                               "1.2.3.4 /8",
                               "1.2.3.4/8 ",
                               "1.2.3.4/8x",
                               "1.2.3.4/0x8",
                               "1.2.3.4/8/8",
                               "1.2.3.4//8",
                               "1.2.3.4/0008",
                               "1.2.3.4/4294967304",
                               "2001:db8::/129",
                               "2001:db8::/200",
                               "fe80::%eth0/64",
                               "::ffff:10.0.0.0/95",
                               "::ffff:10.0.0.0/129"}) {
    EXPECT_FALSE(Network::Parse(bad)) << bad;
  }
}

TEST(NetworkTest, MappedCidrBecomesIpv4Cidr) {
  EXPECT_EQ(Canon("::ffff:192.0.2.0/120"), "192.0.2.0/24");
  EXPECT_EQ(Canon("::ffff:192.0.2.9/128"), "192.0.2.9");
  EXPECT_EQ(Canon("::ffff:0.0.0.0/96"), "0.0.0.0/0");
  const auto n = Network::Parse("::ffff:192.0.2.0/120");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->Contains(Addr("192.0.2.200")));
}

TEST(NetworkTest, OfClearsHostBits) {
  const Address a = Addr("203.0.113.255");
  EXPECT_EQ(Network::Of(a, 32).ToString(), "203.0.113.255");
  EXPECT_EQ(Network::Of(a, 31).ToString(), "203.0.113.254/31");
  EXPECT_EQ(Network::Of(a, 25).ToString(), "203.0.113.128/25");
  EXPECT_EQ(Network::Of(a, 24).ToString(), "203.0.113.0/24");
  EXPECT_EQ(Network::Of(a, 20).ToString(), "203.0.112.0/20");
  EXPECT_EQ(Network::Of(a, 1).ToString(), "128.0.0.0/1");
  EXPECT_EQ(Network::Of(a, 0).ToString(), "0.0.0.0/0");

  const Address b = Addr("2001:db8:1:2:ffff:ffff:ffff:ffff");
  EXPECT_EQ(Network::Of(b, 128).ToString(), "2001:db8:1:2:ffff:ffff:ffff:ffff");
  EXPECT_EQ(Network::Of(b, 64).ToString(), "2001:db8:1:2::/64");
  EXPECT_EQ(Network::Of(b, 56).ToString(), "2001:db8:1::/56");
  EXPECT_EQ(Network::Of(b, 65).ToString(), "2001:db8:1:2:8000::/65");
  EXPECT_EQ(Network::Of(b, 0).ToString(), "::/0");
}

TEST(NetworkTest, OfClampsOutOfRangePrefixes) {
  EXPECT_EQ(Network::Of(Addr("203.0.113.9"), 64).ToString(), "203.0.113.9");
  EXPECT_EQ(Network::Of(Addr("203.0.113.9"), -3).ToString(), "0.0.0.0/0");
  EXPECT_EQ(Network::Of(Addr("2001:db8::1"), 500).ToString(), "2001:db8::1");
}

TEST(NetworkTest, HostsInOnePrefixShareASubject) {
  EXPECT_EQ(Network::Of(Addr("2001:db8:1:2::1"), 64).ToString(),
            Network::Of(Addr("2001:db8:1:2:abcd::9"), 64).ToString());
  EXPECT_NE(Network::Of(Addr("2001:db8:1:2::1"), 64).ToString(),
            Network::Of(Addr("2001:db8:1:3::1"), 64).ToString());
}

TEST(NetworkTest, Contains) {
  const Network n = *Network::Parse("192.0.2.0/24");
  EXPECT_TRUE(n.Contains(Addr("192.0.2.0")));
  EXPECT_TRUE(n.Contains(Addr("192.0.2.255")));
  EXPECT_TRUE(n.Contains(Addr("::ffff:192.0.2.9")));
  EXPECT_FALSE(n.Contains(Addr("192.0.3.0")));
  EXPECT_FALSE(n.Contains(Addr("192.0.1.255")));

  const Network host = *Network::Parse("192.0.2.9");
  EXPECT_TRUE(host.Contains(Addr("192.0.2.9")));
  EXPECT_FALSE(host.Contains(Addr("192.0.2.8")));

  const Network odd = *Network::Parse("192.0.2.64/26");
  EXPECT_TRUE(odd.Contains(Addr("192.0.2.127")));
  EXPECT_FALSE(odd.Contains(Addr("192.0.2.128")));

  const Network v6 = *Network::Parse("2001:db8::/32");
  EXPECT_TRUE(v6.Contains(Addr("2001:db8:ffff::1")));
  EXPECT_FALSE(v6.Contains(Addr("2001:db9::1")));
}

TEST(NetworkTest, FamiliesNeverMatch) {
  EXPECT_FALSE(Network::Parse("0.0.0.0/0")->Contains(Addr("::")));
  EXPECT_FALSE(Network::Parse("0.0.0.0/0")->Contains(Addr("2001:db8::1")));
  EXPECT_FALSE(Network::Parse("::/0")->Contains(Addr("0.0.0.0")));
  EXPECT_FALSE(Network::Parse("::/0")->Contains(Addr("203.0.113.9")));
  EXPECT_FALSE(Network::Parse("::/0")->Contains(Addr("::ffff:203.0.113.9")));
  EXPECT_TRUE(Network::Parse("0.0.0.0/0")->Contains(Addr("203.0.113.9")));
  EXPECT_TRUE(Network::Parse("::/0")->Contains(Addr("2001:db8::1")));
}

TEST(NetworkTest, ToStringRoundTrips) {
  for (std::string_view s : {"203.0.113.9", "203.0.113.0/24", "0.0.0.0/0", "2001:db8:1:2::/64",
                             "2001:db8::1", "::/0", "::1", "fe80::/10"}) {
    EXPECT_EQ(Canon(s), s);
    EXPECT_EQ(Canon(Canon(s)), s);
  }
}

}  // namespace
}  // namespace floodgate::policy
