#include "policy/mail_throttle.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

using Counts = std::vector<std::pair<std::string, int>>;

TEST(MailThrottleTest, OneMailPerEventAndSubjectAnHour) {
  MailThrottle t;
  EXPECT_TRUE(t.Admit("locked", "account:a@x", 1000).send);
  EXPECT_FALSE(t.Admit("locked", "account:a@x", 1001).send);
  EXPECT_FALSE(t.Admit("locked", "account:a@x", 1000 + 3599).send);
  // Another subject, or another event of the same subject, is another mail; the next
  // mail that goes out says how many were held back.
  const MailThrottle::Decision b = t.Admit("locked", "account:b@x", 1002);
  EXPECT_TRUE(b.send);
  EXPECT_EQ(b.suppressed, (Counts{{"locked", 2}}));
  const MailThrottle::Decision u = t.Admit("unlocked", "account:a@x", 1003);
  EXPECT_TRUE(u.send);
  EXPECT_TRUE(u.suppressed.empty()) << "counted once";
  // An hour after the first, it may go again.
  EXPECT_FALSE(t.Admit("locked", "account:a@x", 1000 + 3599).send);
  const MailThrottle::Decision again = t.Admit("locked", "account:a@x", 1000 + 3600);
  EXPECT_TRUE(again.send);
  EXPECT_EQ(again.suppressed, (Counts{{"locked", 1}}));
}

TEST(MailThrottleTest, TwentyMailsAnHourInAll) {
  MailThrottle t;
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(t.Admit("locked", "account:" + std::to_string(i), 100 + i).send) << i;
  }
  EXPECT_FALSE(t.Admit("locked", "account:20", 200).send);
  EXPECT_FALSE(t.Admit("store_down", "", 201).send);
  EXPECT_FALSE(t.Admit("locked", "account:21", 100 + 3599).send);
  // The first of the twenty is an hour old: one more may go, with the count.
  const MailThrottle::Decision d = t.Admit("locked", "account:22", 100 + 3600);
  EXPECT_TRUE(d.send);
  EXPECT_EQ(d.suppressed, (Counts{{"locked", 2}, {"store_down", 1}}));
  EXPECT_FALSE(t.Admit("locked", "account:23", 100 + 3600).send);
}

TEST(MailThrottleTest, CountsOfUnknownEventNamesStayBounded) {
  MailThrottle t;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(t.Admit("e", std::to_string(i), 0).send);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(t.Admit("event" + std::to_string(i), "", 1).send);
  const MailThrottle::Decision d = t.Admit("e", "late", 3600);
  ASSERT_TRUE(d.send);
  EXPECT_EQ(d.suppressed.size(), MailThrottle::kMaxEventNames + 1);
  int total = 0;
  for (const auto& [event, n] : d.suppressed) total += n;
  EXPECT_EQ(total, 1000);
}

}  // namespace
}  // namespace floodgate::policy
