#include "policy/alert_line.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

TEST(AlertLineTest, ReadsBackWhatFormatAlertWrote) {
  const Alert alert{"locked",
                    {{"subject", "account:al ice\"=\\\n@example.org"},
                     {"reason", "burst"},
                     {"refused", "1200"},
                     {"client", "203.0.113.9"},
                     {"empty", ""}}};
  const auto parsed = ParseAlertLine("2026-12-01T19:41:03Z " + FormatAlert(alert));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->alert.event, "locked");
  EXPECT_EQ(parsed->alert.fields, alert.fields);
  EXPECT_EQ(parsed->Field("reason"), "burst");
  EXPECT_EQ(parsed->Field("absent"), "");
  EXPECT_EQ(UtcStamp(parsed->time), "2026-12-01T19:41:03Z");
}

TEST(AlertLineTest, StampsAreUtcWhateverTheTimeZone) {
  EXPECT_EQ(ParseUtcStamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseUtcStamp("2000-03-01T00:00:01Z"), 951868801);
  EXPECT_EQ(UtcStamp(951868801), "2000-03-01T00:00:01Z");
  EXPECT_FALSE(ParseUtcStamp("2000-13-01T00:00:01Z"));
  EXPECT_FALSE(ParseUtcStamp("2000-03-01 00:00:01Z"));
  EXPECT_FALSE(ParseUtcStamp("2000-03-01T00:00:01"));
}

TEST(AlertLineTest, RefusesWhatIsNotAnEventLine) {
  EXPECT_FALSE(ParseAlertLine(""));
  EXPECT_FALSE(ParseAlertLine("2026-12-01T19:41:03Z"));
  EXPECT_FALSE(ParseAlertLine("2026-12-01T19:41:03Z subject=x"));
  EXPECT_FALSE(ParseAlertLine("yesterday event=locked"));
  EXPECT_FALSE(ParseAlertLine("2026-12-01T19:41:03Z event=locked subject=\"unterminated"));
  EXPECT_FALSE(ParseAlertLine("2026-12-01T19:41:03Z event=locked subject=\"bad\\x4\""));
  EXPECT_FALSE(ParseAlertLine("2026-12-01T19:41:03Z event=locked  double=space"));
  EXPECT_TRUE(ParseAlertLine("2026-12-01T19:41:03Z event=store_up"));
}

}  // namespace
}  // namespace floodgate::policy
