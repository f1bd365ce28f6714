#include "tools/bench/transaction.h"

#include <gtest/gtest.h>
#include <libmilter/mfdef.h>

#include <string>
#include <vector>

#include "tools/bench/wire.h"

namespace floodgate::bench {
namespace {

using namespace std::string_literals;

std::vector<Packet> Decode(const std::string& wire) {
  PacketDecoder d;
  d.Feed(wire);
  std::vector<Packet> out;
  for (;;) {
    auto r = d.Next();
    EXPECT_TRUE(r.ok());
    if (!r.ok() || !r->has_value()) break;
    out.push_back(std::move(**r));
  }
  EXPECT_EQ(d.buffered(), 0u);
  return out;
}

MessageFacts Alice() {
  WorkloadOptions w;
  w.accounts = 5;
  return FactsFor(w, 7);  // user2@example.org, queue id 0000000007
}

TEST(TransactionTest, MailStageSendsAuthMacrosThenTheSender) {
  std::string out;
  AppendMailStage(out, Alice(), /*send_command=*/true);
  const auto p = Decode(out);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].command, SMFIC_MACRO);
  EXPECT_EQ(p[0].data,
            "M"
            "i\0"
            "0000000007\0"
            "{auth_type}\0PLAIN\0"
            "{auth_authen}\0user2@example.org\0"
            "{mail_addr}\0user2@example.org\0"
            "{mail_mailer}\0smtp\0"s);
  EXPECT_EQ(p[1].command, SMFIC_MAIL);
  EXPECT_EQ(p[1].data, "<user2@example.org>\0"s);
}

TEST(TransactionTest, UnauthenticatedMailHasNoAuthMacros) {
  WorkloadOptions w;
  w.accounts = 0;
  std::string out;
  AppendMailStage(out, FactsFor(w, 1), true);
  const auto p = Decode(out);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].data.find("{auth_authen}"), std::string::npos);
}

TEST(TransactionTest, SkippedStagesStillSendTheirMacros) {
  std::string out;
  AppendMailStage(out, Alice(), /*send_command=*/false);
  AppendRcptStage(out, Alice(), "bob@example.net", false);
  AppendDataStage(out, Alice(), false);
  const auto p = Decode(out);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].data[0], SMFIC_MAIL);
  EXPECT_EQ(p[1].data[0], SMFIC_RCPT);
  EXPECT_EQ(p[2].data,
            "T"
            "i\0"
            "0000000007\0"s);
  for (const auto& packet : p) EXPECT_EQ(packet.command, SMFIC_MACRO);
}

TEST(TransactionTest, RcptStageNamesTheRecipient) {
  std::string out;
  AppendRcptStage(out, Alice(), "bob@example.net", true);
  const auto p = Decode(out);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(p[0].data.find("{rcpt_addr}\0bob@example.net\0"s), std::string::npos);
  EXPECT_EQ(p[1].command, SMFIC_RCPT);
  EXPECT_EQ(p[1].data, "<bob@example.net>\0"s);
}

TEST(TransactionTest, ConnectStageCarriesTheClientAddress) {
  std::string out;
  AppendConnectStage(out, "10.0.0.9", 40000, /*inet=*/true, true);
  const auto p = Decode(out);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].data[0], SMFIC_CONNECT);
  EXPECT_NE(p[0].data.find("_\0unknown [10.0.0.9]\0"s), std::string::npos);
  EXPECT_EQ(p[1].data,
            "unknown\0"
            "4"
            "\x9c\x40"
            "10.0.0.9\0"s);
}

TEST(TransactionTest, EndOfMessageCarriesTheQueueId) {
  std::string out;
  AppendEndOfMessage(out, Alice());
  const auto p = Decode(out);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].data,
            "E"
            "i\0"
            "0000000007\0"s);
  EXPECT_EQ(p[1].command, SMFIC_BODYEOB);
  EXPECT_TRUE(p[1].data.empty());
}

TEST(TransactionTest, HeadersAreNameValuePairs) {
  std::string out;
  for (int h = 0; h < kHeaderCount; ++h) AppendHeader(out, Alice(), "bob@example.net", h);
  const auto p = Decode(out);
  ASSERT_EQ(p.size(), static_cast<std::size_t>(kHeaderCount));
  EXPECT_EQ(p[1].data, "To\0<bob@example.net>\0"s);
}

TEST(TransactionTest, BodyIsCrlfLinesOfAtLeastTheSize) {
  const std::string body = BodyOf(1000);
  EXPECT_GE(body.size(), 1000u);
  EXPECT_EQ(body.substr(body.size() - 2), "\r\n");
  EXPECT_TRUE(BodyOf(0).empty());
}

}  // namespace
}  // namespace floodgate::bench
