#include "admin/window_view.h"

#include <gtest/gtest.h>

namespace floodgate::admin {
namespace {

constexpr Micros kSecond = 1'000'000;

policy::Limit Plain() { return policy::Limit{}; }

policy::Rate R100h() {
  policy::Rate r;
  r.amount = 100;
  r.period_s = 3600;
  r.text = "100/1h";
  return r;
}

TEST(WindowViewTest, IdleWindowIsEmptyAndFree) {
  const WindowView v = ViewWindow(Plain(), R100h(), {}, 1000 * kSecond);
  EXPECT_EQ(v.used, 0);
  EXPECT_EQ(v.capacity, 100);
  EXPECT_FALSE(v.over);
  EXPECT_EQ(v.frees_in_us, 0);
}

TEST(WindowViewTest, FullWindowSaysWhenAUnitFrees) {
  const Micros now = 1000 * kSecond;
  // 100 units charged at `now`: TAT = now + 100 * 36 s.
  const WindowView v =
      ViewWindow(Plain(), R100h(), {{3600 * kSecond, {now + 3600 * kSecond, now + 10, 42}}}, now);
  EXPECT_EQ(v.used, 100);
  EXPECT_TRUE(v.over);
  EXPECT_EQ(v.frees_in_us, 36 * kSecond);
  EXPECT_EQ(v.idle_in_us, 3600 * kSecond);
  EXPECT_EQ(v.refused, 42);
}

TEST(WindowViewTest, HalfFull) {
  const Micros now = 1000 * kSecond;
  const WindowView v =
      ViewWindow(Plain(), R100h(), {{3600 * kSecond, {now + 1800 * kSecond, 0, 0}}}, now);
  EXPECT_EQ(v.used, 50);
  EXPECT_FALSE(v.over);
  EXPECT_DOUBLE_EQ(v.fill(), 0.5);
}

TEST(HumanDurationTest, ShortForms) {
  EXPECT_EQ(HumanDuration(0), "now");
  EXPECT_EQ(HumanDuration(36 * kSecond), "36s");
  EXPECT_EQ(HumanDuration(3720 * kSecond), "1h 2m");
  EXPECT_EQ(HumanDuration(86400 * kSecond), "1d");
}

TEST(DecodeKeyComponentTest, UndoesPercentEncoding) {
  EXPECT_EQ(DecodeKeyComponent("2001%3Adb8%3A%3A%2F64"), "2001:db8::/64");
  EXPECT_EQ(DecodeKeyComponent("a%"), "a%");
}

}  // namespace
}  // namespace floodgate::admin

namespace floodgate::admin {
namespace {

TEST(WindowViewTest, ARefusalReportedLongAgoIsNotShown) {
  const Micros now = 1000 * kSecond;
  const WindowView v = ViewWindow(Plain(), R100h(), {{3600 * kSecond, {0, now - 1, 42}}}, now);
  EXPECT_EQ(v.refused, 0);
  EXPECT_EQ(v.used, 0);
}

TEST(WindowViewTest, OtherPeriodsAreNotThisWindow) {
  const Micros now = 1000 * kSecond;
  const WindowView v =
      ViewWindow(Plain(), R100h(), {{60 * kSecond, {now + 3600 * kSecond, 0, 0}}}, now);
  EXPECT_EQ(v.used, 0);
}

}  // namespace
}  // namespace floodgate::admin
