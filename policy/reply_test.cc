#include "policy/reply.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

TEST(ReplyTest, SendmailRefusalsBecomeTempfailsWithTheSameText) {
  Limit l;
  l.subject = SubjectKind::kSender;
  const Reply reject = RefusalReply(l, Action::kReject);
  EXPECT_EQ(reject.code, "550");
  const Reply t = AsTempfail(reject);
  EXPECT_EQ(t.code, "451");
  EXPECT_EQ(t.xcode, "4.7.28");
  EXPECT_EQ(t.text, "sender sending rate exceeded");
  const Reply locked = AsTempfail(LockedReply(SubjectKind::kSender));
  EXPECT_EQ(locked.code, "451");
  EXPECT_EQ(locked.text, "sender locked for sending, contact your administrator");
  const Reply already = RefusalReply(l, Action::kTempfail);
  EXPECT_EQ(AsTempfail(already).xcode, already.xcode);
}

TEST(ReplyTest, StoreAndHoldFailuresAreTemporary) {
  EXPECT_EQ(StoreDownReply().code, "451");
  EXPECT_EQ(StoreDownReply().xcode, "4.3.0");
  EXPECT_EQ(HoldRefusedReply().code, "451");
  EXPECT_EQ(HoldRefusedReply().xcode, "4.7.28");
}

TEST(ReplyTest, AnAdminsTextKeepsTheCodeAndIsMadeSafe) {
  Limit l;
  l.reply = "100% over, see https://example.org/limits";
  EXPECT_EQ(RefusalReply(l, Action::kTempfail).text, "100%% over, see https://example.org/limits");
  EXPECT_EQ(RefusalReply(l, Action::kReject).code, "550");
}

}  // namespace
}  // namespace floodgate::policy
