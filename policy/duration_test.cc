#include "policy/duration.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

TEST(DurationTest, ParsesEachUnit) {
  EXPECT_EQ(ParseDuration("45s"), 45);
  EXPECT_EQ(ParseDuration("30m"), 1800);
  EXPECT_EQ(ParseDuration("1h"), 3600);
  EXPECT_EQ(ParseDuration("2d"), 172800);
  EXPECT_EQ(ParseDuration("366d"), 366 * 86400);
}

TEST(DurationTest, RefusesMalformedDurations) {
  for (const char* bad : {"", "h", "0h", "1", "1x", "-1h", "1.5h", " 1h", "1h ", "367d",
                          "99999999999999999999s", "1H"}) {
    EXPECT_EQ(ParseDuration(bad), std::nullopt) << bad;
  }
}

TEST(RateTest, ParsesAmountAndPeriod) {
  Result<Rate> r = ParseRate("300/1h");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->amount, 300);
  EXPECT_EQ(r->period_s, 3600);
  EXPECT_EQ(r->burst, 300);
  EXPECT_EQ(r->text, "300/1h");
  EXPECT_EQ(ParseRate("5/30s")->period_s, 30);
  EXPECT_EQ(ParseRate("10/m")->period_s, 60);
  EXPECT_EQ(ParseRate("1000000000/366d")->amount, 1'000'000'000);
}

TEST(RateTest, RefusesWithReason) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (const Case& c :
       {Case{"0/1h", "amount"}, Case{"-1/1h", "amount"}, Case{"1000000001/1h", "amount"},
        Case{"abc", "expected N/T"}, Case{"10/1x", "unit"}, Case{"10/", "unit"},
        Case{"10/0h", "period"}, Case{"10/367d", "period"}, Case{"/1h", "amount"},
        Case{"1 0/1h", "amount"}, Case{"10/1h/1h", "unit"}}) {
    Result<Rate> r = ParseRate(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message().find(c.reason), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(c.text), std::string::npos) << r.error().message();
  }
}

TEST(DurationTest, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(FormatDuration(86400), "1d");
  EXPECT_EQ(FormatDuration(7200), "2h");
  EXPECT_EQ(FormatDuration(90), "90s");
  EXPECT_EQ(FormatDuration(5400), "90m");
}

}  // namespace
}  // namespace floodgate::policy
