#include "policy/classify.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

Facts Smtp(const char* client, std::string account = "") {
  Facts f;
  if (client) f.client = Address::Parse(client);
  f.account = std::move(account);
  f.sender = "alice@example.org";
  return f;
}

class ClassifyTest : public ::testing::Test {
 protected:
  ClassifyTest() {
    site_.trusted_networks.push_back(*Network::Parse("192.0.2.0/24"));
    site_.trusted_networks.push_back(*Network::Parse("2001:db8:1::/48"));
  }
  TrafficConfig site_;  // loopback plus 192.0.2.0/24 and 2001:db8:1::/48
};

TEST_F(ClassifyTest, ALoginIsSubmissionFromAnywhere) {
  EXPECT_EQ(Classify(site_, Smtp("203.0.113.9", "alice@example.org")), Traffic::kSubmission);
  EXPECT_EQ(Classify(site_, Smtp("2001:db8:ffff::1", "alice@example.org")), Traffic::kSubmission);
  // A login wins over a trusted network: webmail that authenticates is submission.
  EXPECT_EQ(Classify(site_, Smtp("192.0.2.10", "alice@example.org")), Traffic::kSubmission);
  EXPECT_EQ(Classify(site_, Smtp(nullptr, "alice@example.org")), Traffic::kSubmission);
}

TEST_F(ClassifyTest, SendmailIsLocal) {
  Facts f = Smtp("127.0.0.1");
  f.local_submission = true;
  EXPECT_EQ(Classify(site_, f), Traffic::kLocal);
}

TEST_F(ClassifyTest, UnauthenticatedSmtpFromTrustedNetworksIsRelay) {
  EXPECT_EQ(Classify(site_, Smtp("127.0.0.1")), Traffic::kRelay);  // loopback webmail
  EXPECT_EQ(Classify(site_, Smtp("::1")), Traffic::kRelay);
  EXPECT_EQ(Classify(site_, Smtp("192.0.2.200")), Traffic::kRelay);
  EXPECT_EQ(Classify(site_, Smtp("2001:db8:1:ffff::7")), Traffic::kRelay);
  EXPECT_EQ(Classify(site_, Smtp("::ffff:192.0.2.5")), Traffic::kRelay) << "IPv4-mapped";
}

TEST_F(ClassifyTest, EveryOtherSmtpTransactionIsInbound) {
  EXPECT_EQ(Classify(site_, Smtp("203.0.113.9")), Traffic::kInbound);
  EXPECT_EQ(Classify(site_, Smtp("192.0.3.1")), Traffic::kInbound);
  EXPECT_EQ(Classify(site_, Smtp("2001:db8:2::1")), Traffic::kInbound);
  EXPECT_EQ(Classify(site_, Smtp("::2")), Traffic::kInbound);
  // An unknown client address is never trusted.
  EXPECT_EQ(Classify(site_, Smtp(nullptr)), Traffic::kInbound);
}

TEST_F(ClassifyTest, TrustedNetworksCanBeEmpty) {
  site_.trusted_networks.clear();
  EXPECT_EQ(Classify(site_, Smtp("127.0.0.1")), Traffic::kInbound);
}

// XCLIENT makes Postfix announce a new connection from the address it names, so the
// class follows the announced address and login, not the proxy's.
TEST_F(ClassifyTest, XclientAddressesAreClassifiedLikeRealClients) {
  const TrafficConfig defaults;  // loopback only
  EXPECT_EQ(Classify(defaults, Smtp("203.0.113.9")), Traffic::kInbound);
  EXPECT_EQ(Classify(defaults, Smtp("203.0.113.9", "bob@example.org")), Traffic::kSubmission);
  EXPECT_EQ(Classify(defaults, Smtp("127.0.0.1")), Traffic::kRelay);
}

TEST(LocalRecipientTest, OnlyPlainMailboxesInLocalDomainsAreLocal) {
  TrafficConfig site;
  EXPECT_FALSE(IsLocalRecipient(site, "<bob@example.org>")) << "no local domains";
  site.local_domains = {"example.org",
                        "b\xc3\xbc"
                        "cher.example"};
  EXPECT_TRUE(IsLocalRecipient(site, "<bob@example.org>"));
  EXPECT_TRUE(IsLocalRecipient(site, "<Bob@EXAMPLE.org>"));
  EXPECT_TRUE(IsLocalRecipient(site, "<\"bob smith\"@example.org>"));
  EXPECT_TRUE(IsLocalRecipient(site,
                               "<bob@b\xc3\xbc"
                               "cher.example>"))
      << "IDN as sent";
  EXPECT_FALSE(IsLocalRecipient(site, "<bob@xn--bcher-kva.example>")) << "other spelling";
  EXPECT_FALSE(IsLocalRecipient(site, "<bob@sub.example.org>"));
  EXPECT_FALSE(IsLocalRecipient(site, "<bob@example.org.evil.example>"));
  EXPECT_FALSE(IsLocalRecipient(site, "<victim%evil.example@example.org>"));
  EXPECT_FALSE(IsLocalRecipient(site, "<evil.example!victim@example.org>"));
  EXPECT_FALSE(IsLocalRecipient(site, "<@example.org:victim@evil.example>"));
  EXPECT_FALSE(IsLocalRecipient(site, "<\"victim@evil.example\"@example.org>"));
  EXPECT_FALSE(IsLocalRecipient(site, "<postmaster>"));
}

}  // namespace
}  // namespace floodgate::policy
