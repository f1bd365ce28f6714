#include "tools/bench/wire.h"

#include <gtest/gtest.h>
#include <libmilter/mfdef.h>

#include <string>

namespace floodgate::bench {
namespace {

using namespace std::string_literals;

TEST(WireTest, OptnegIsLengthCommandAndThreeBigEndianWords) {
  std::string out;
  AppendOptneg(out, Negotiation{6, 0x1ff, 0x1fffff});
  EXPECT_EQ(out,
            "\x00\x00\x00\x0d"s
            "O"
            "\x00\x00\x00\x06"s
            "\x00\x00\x01\xff"s
            "\x00\x1f\xff\xff"s);
}

TEST(WireTest, MacrosCarryStageThenNameValuePairs) {
  std::string out;
  const Macro macros[] = {{"i", "ABC"}, {"{auth_authen}", "alice@example.org"}};
  AppendMacros(out, SMFIC_MAIL, macros);
  const std::string data =
      "M"
      "i\0ABC\0"s
      "{auth_authen}\0alice@example.org\0"s;
  EXPECT_EQ(out, std::string("\x00\x00\x00", 3) + static_cast<char>(data.size() + 1) + "D" + data);
}

TEST(WireTest, ConnectCarriesFamilyPortInNetworkOrderAndAddress) {
  std::string out;
  AppendConnect(out, "client.example", SMFIA_INET, 0x1234, "10.0.0.1");
  const std::string data =
      "client.example\0"s
      "4"
      "\x12\x34"
      "10.0.0.1\0"s;
  EXPECT_EQ(out.substr(4), "C" + data);
  EXPECT_EQ(static_cast<unsigned char>(out[3]), data.size() + 1);
}

TEST(WireTest, UnknownFamilyConnectCarriesHostnameOnly) {
  std::string out;
  AppendConnect(out, "h", SMFIA_UNKNOWN, 25, "ignored");
  EXPECT_EQ(out,
            "\x00\x00\x00\x04"s
            "C"
            "h\0U"s);
}

TEST(WireTest, EnvelopeArgumentsAreNulTerminatedStrings) {
  std::string out;
  const std::string_view args[] = {"<a@b>", "SIZE=10"};
  AppendStrings(out, SMFIC_MAIL, args);
  EXPECT_EQ(out,
            "\x00\x00\x00\x0f"s
            "M"
            "<a@b>\0SIZE=10\0"s);
}

TEST(WireTest, EmptyCommandIsLengthOne) {
  std::string out;
  AppendEmpty(out, SMFIC_ABORT);
  AppendEmpty(out, SMFIC_QUIT);
  EXPECT_EQ(out,
            "\x00\x00\x00\x01"
            "A"
            "\x00\x00\x00\x01"
            "Q"s);
}

TEST(WireTest, LongPacketLengthUsesAllFourBytes) {
  std::string out;
  AppendPacket(out, SMFIC_BODY, std::string(0x10203, 'x'));
  EXPECT_EQ(out.substr(0, 5),
            "\x00\x01\x02\x04"s
            "B");
  EXPECT_EQ(out.size(), 4u + 0x10204u);
}

TEST(PacketDecoderTest, ReturnsNothingUntilAPacketIsComplete) {
  PacketDecoder d;
  std::string wire;
  AppendPacket(wire, SMFIR_REPLYCODE, "451 4.7.28 slow down\0"s);
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    d.Feed(wire.substr(i, 1));
    auto r = d.Next();
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value()) << "after byte " << i;
  }
  d.Feed(wire.substr(wire.size() - 1));
  auto r = d.Next();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->command, SMFIR_REPLYCODE);
  EXPECT_EQ((*r)->data, "451 4.7.28 slow down\0"s);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(PacketDecoderTest, SplitsSeveralPacketsFedAtOnce) {
  std::string wire;
  AppendEmpty(wire, SMFIR_PROGRESS);
  AppendEmpty(wire, SMFIR_CONTINUE);
  AppendPacket(wire, SMFIR_ADDHEADER, "X-A\0b\0"s);
  wire += "\x00\x00"s;  // the start of a fourth packet
  PacketDecoder d;
  d.Feed(wire);
  std::string commands;
  for (;;) {
    auto r = d.Next();
    ASSERT_TRUE(r.ok());
    if (!r->has_value()) break;
    commands += (*r)->command;
  }
  EXPECT_EQ(commands, "pch");
  EXPECT_EQ(d.buffered(), 2u);
}

TEST(PacketDecoderTest, ZeroLengthIsAnErrorThatSticks) {
  PacketDecoder d;
  d.Feed(
      "\x00\x00\x00\x00"s
      "c");
  EXPECT_FALSE(d.Next().ok());
  d.Feed(
      "\x00\x00\x00\x01"
      "c"s);
  EXPECT_FALSE(d.Next().ok());
}

TEST(PacketDecoderTest, OversizedPacketIsAnError) {
  PacketDecoder d(/*max_data=*/16);
  d.Feed(
      "\x00\x00\x00\x12"s
      "y");
  EXPECT_FALSE(d.Next().ok());
}

TEST(PacketDecoderTest, ManyPacketsThroughOneDecoderKeepTheBufferSmall) {
  PacketDecoder d;
  for (int i = 0; i < 10000; ++i) {
    std::string wire;
    AppendEmpty(wire, SMFIR_CONTINUE);
    d.Feed(wire);
    auto r = d.Next();
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->has_value());
  }
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(OptnegReplyTest, ParsesVersionActionsProtocol) {
  Packet p{SMFIC_OPTNEG, "\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x03\x72"s};
  auto n = ParseOptnegReply(p);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->version, 6u);
  EXPECT_EQ(n->actions, 0u);
  EXPECT_EQ(n->protocol, 0x372u);
}

TEST(OptnegReplyTest, IgnoresTrailingSymbolLists) {
  Packet p{SMFIC_OPTNEG,
           "\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00\x02"s
           "\x00\x00\x00\x02{auth_authen}\0"s};
  auto n = ParseOptnegReply(p);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->protocol, SMFIP_NOHELO);
}

TEST(OptnegReplyTest, RejectsShortOrWrongReplies) {
  EXPECT_FALSE(ParseOptnegReply(Packet{SMFIC_OPTNEG, "\x00\x00\x00\x06"s}).ok());
  EXPECT_FALSE(ParseOptnegReply(Packet{SMFIR_CONTINUE, std::string(12, '\0')}).ok());
}

TEST(ClassifyReplyTest, MapsDecisions) {
  EXPECT_EQ(ClassifyReply({SMFIR_CONTINUE, ""}), ReplyKind::kContinue);
  EXPECT_EQ(ClassifyReply({SMFIR_TEMPFAIL, ""}), ReplyKind::kTempfail);
  EXPECT_EQ(ClassifyReply({SMFIR_REJECT, ""}), ReplyKind::kReject);
  EXPECT_EQ(ClassifyReply({SMFIR_ACCEPT, ""}), ReplyKind::kAccept);
  EXPECT_EQ(ClassifyReply({SMFIR_DISCARD, ""}), ReplyKind::kDiscard);
  EXPECT_EQ(ClassifyReply({SMFIR_REPLYCODE, "451 4.7.28 account sending rate exceeded\0"s}),
            ReplyKind::kReply4xx);
  EXPECT_EQ(ClassifyReply({SMFIR_REPLYCODE, "550 5.7.1 no\0"s}), ReplyKind::kReply5xx);
}

TEST(ClassifyReplyTest, ProgressAndModificationsAreNotFinal) {
  EXPECT_FALSE(IsFinal(ClassifyReply({SMFIR_PROGRESS, ""})));
  EXPECT_FALSE(IsFinal(ClassifyReply({SMFIR_ADDHEADER, "X\0y\0"s})));
  EXPECT_TRUE(IsFinal(ClassifyReply({SMFIR_CONTINUE, ""})));
}

TEST(ClassifyReplyTest, FlagsMalformedReplies) {
  EXPECT_EQ(ClassifyReply({SMFIR_CONTINUE, "junk"}), ReplyKind::kMalformed);
  EXPECT_EQ(ClassifyReply({SMFIR_REPLYCODE, "250 ok\0"s}), ReplyKind::kMalformed);
  EXPECT_EQ(ClassifyReply({'Z', ""}), ReplyKind::kMalformed);
}

}  // namespace
}  // namespace floodgate::bench
