#include "policy/verdict.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

class VerdictTest : public ::testing::Test {
 protected:
  VerdictTest() {
    limit_.name = "submission";
    limit_.subject = SubjectKind::kAccount;
    limit_.traffic = DefaultTraffic(limit_.subject);
    Rate r;
    r.amount = 100;
    r.period_s = 3600;
    limit_.rates = {r};
  }
  Plan OnePlan(Action action) {
    Plan p;
    p.traffic = Traffic::kSubmission;
    PlannedLimit pl;
    pl.limit = &limit_;
    pl.subject = "account:alice@example.org";
    pl.rates = limit_.rates;
    pl.action = action;
    p.limits.push_back(pl);
    p.checks.emplace_back();
    return p;
  }
  static CheckOutcome Refused(bool first) {
    CheckOutcome o;
    o.allowed = false;
    LimitOutcome lo;
    lo.allowed = false;
    WindowOutcome w;
    w.refused = true;
    w.first_refusal = first;
    lo.windows = {w};
    o.limits = {lo};
    return o;
  }
  Limit limit_;
};

TEST_F(VerdictTest, TempfailUsesTheSpecReply) {
  const Verdict v =
      Interpret(OnePlan(Action::kTempfail), Refused(false), Address::Parse("203.0.113.9"));
  EXPECT_EQ(v.disposition, Disposition::kTempfail);
  EXPECT_EQ(v.reply.code, "451");
  EXPECT_EQ(v.reply.xcode, "4.7.28");
  EXPECT_EQ(v.reply.text, "account sending rate exceeded, try again later");
  EXPECT_TRUE(v.alerts.empty()) << "not the first refusal: no alert";
}

TEST_F(VerdictTest, RejectUses550) {
  const Verdict v = Interpret(OnePlan(Action::kReject), Refused(false), std::nullopt);
  EXPECT_EQ(v.disposition, Disposition::kReject);
  EXPECT_EQ(v.reply.code, "550");
  EXPECT_EQ(v.reply.xcode, "5.7.1");
}

TEST_F(VerdictTest, MonitorPassesAndAlertsOnTheFirstRefusal) {
  const Verdict v =
      Interpret(OnePlan(Action::kMonitor), Refused(true), Address::Parse("203.0.113.9"));
  EXPECT_EQ(v.disposition, Disposition::kContinue);
  ASSERT_EQ(v.alerts.size(), 1u);
  EXPECT_EQ(v.alerts[0].event, "limit_exceeded");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"subject", "account:alice@example.org"},
      {"limit", "submission"},
      {"window", "1h"},
      {"count", "100"},
      {"action", "monitor"},
      {"traffic", "submission"},
      {"client", "203.0.113.9"}};
  EXPECT_EQ(v.alerts[0].fields, expected);
}

TEST_F(VerdictTest, CustomReplyTextIsMadeSafe) {
  limit_.reply = "100% full\r\nMAIL FROM:<x>";
  const Verdict v = Interpret(OnePlan(Action::kTempfail), Refused(false), std::nullopt);
  EXPECT_EQ(v.reply.text.find('\r'), std::string::npos);
  EXPECT_EQ(v.reply.text.find('\n'), std::string::npos);
  EXPECT_NE(v.reply.text.find("100%% full"), std::string::npos);
}

TEST(PeriodTextTest, ShortestExactUnit) {
  EXPECT_EQ(PeriodText(3600), "1h");
  EXPECT_EQ(PeriodText(5400), "90m");
  EXPECT_EQ(PeriodText(86400), "1d");
  EXPECT_EQ(PeriodText(45), "45s");
}

TEST_F(VerdictTest, ALockOnlyCheckChargesNoMessage) {
  limit_.count = CountKind::kMessages;
  Plan plan = OnePlan(Action::kTempfail);
  plan.limits[0].lock_only = true;
  CheckOutcome allowed;
  allowed.limits = {LimitOutcome{}};
  Verdict v = Interpret(plan, allowed, std::nullopt);
  EXPECT_EQ(v.disposition, Disposition::kContinue);
  EXPECT_TRUE(v.messages_charged.empty()) << "the next external recipient still counts";
  plan.limits[0].lock_only = false;
  EXPECT_EQ(Interpret(plan, allowed, std::nullopt).messages_charged, std::vector<std::size_t>{0});

  plan.limits[0].lock_only = true;
  CheckOutcome locked;
  locked.allowed = false;
  LimitOutcome lo;
  lo.allowed = false;
  lo.locked = true;
  lo.lock_reason = "admin";
  locked.limits = {lo};
  v = Interpret(plan, locked, std::nullopt);
  EXPECT_EQ(v.disposition, Disposition::kReject);
  EXPECT_EQ(v.reply.text, "account locked for sending, contact your administrator");
  EXPECT_TRUE(v.alerts.empty());
}

}  // namespace
}  // namespace floodgate::policy

namespace floodgate::policy {
namespace {

TEST(VerdictLockTest, ALockRejectsWithTheLockedReplyAndAlertsOnce) {
  Limit limit;
  limit.name = "submission";
  limit.subject = SubjectKind::kAccount;
  limit.traffic = DefaultTraffic(limit.subject);
  limit.lock_ttl_s = 86400;
  Plan plan;
  PlannedLimit pl;
  pl.limit = &limit;
  pl.subject = "account:alice@example.org";
  plan.limits = {pl};
  plan.checks.emplace_back();
  CheckOutcome o;
  o.allowed = false;
  LimitOutcome lo;
  lo.allowed = false;
  lo.locked = true;
  lo.newly_locked = true;
  lo.lock_reason = "burst";
  lo.refused_units = 1000;
  o.limits = {lo};
  Verdict v = Interpret(plan, o, Address::Parse("203.0.113.9"));
  EXPECT_EQ(v.disposition, Disposition::kReject);
  EXPECT_EQ(v.reply.code, "550");
  EXPECT_EQ(v.reply.xcode, "5.7.1");
  EXPECT_EQ(v.reply.text, "account locked for sending, contact your administrator");
  ASSERT_EQ(v.alerts.size(), 1u);
  EXPECT_EQ(v.alerts[0].event, "locked");
  o.limits[0].newly_locked = false;
  v = Interpret(plan, o, Address::Parse("203.0.113.9"));
  EXPECT_EQ(v.reply.code, "550");
  EXPECT_TRUE(v.alerts.empty());
}

}  // namespace
}  // namespace floodgate::policy

namespace floodgate::policy {
namespace {

// Two limits of one account: `a` and `b`, with the given actions; `refused` says which
// of them refused, `locked` whether the subject is locked.
class HoldVerdictTest : public ::testing::Test {
 protected:
  HoldVerdictTest() {
    for (Limit* l : {&a_, &b_}) {
      l->subject = SubjectKind::kAccount;
      l->traffic = DefaultTraffic(l->subject);
      Rate r;
      r.amount = 100;
      r.period_s = 3600;
      l->rates = {r};
    }
    a_.name = "a";
    b_.name = "b";
  }
  Verdict Run(Action action_a, Action action_b, bool refused_a, bool refused_b, bool locked = false,
              bool hold_full = false) {
    Plan plan;
    plan.traffic = Traffic::kSubmission;
    CheckOutcome o;
    o.allowed = !(refused_a || refused_b || locked);
    for (auto [l, action, refused] :
         {std::tuple{&a_, action_a, refused_a}, std::tuple{&b_, action_b, refused_b}}) {
      PlannedLimit pl;
      pl.limit = l;
      pl.subject = "account:alice@example.org";
      pl.rates = l->rates;
      pl.action = action;
      plan.limits.push_back(pl);
      LimitCheck c;
      c.held_key = "fg:{account:alice%40example.org}!held";
      c.hold_max = 500;
      plan.checks.push_back(c);
      LimitOutcome lo;
      lo.allowed = !refused && !locked;
      lo.locked = locked;
      lo.lock_reason = locked ? "burst" : "";
      lo.hold_full = hold_full;
      WindowOutcome w;
      w.refused = refused;
      lo.windows = {w};
      o.limits.push_back(lo);
    }
    return Interpret(plan, o, std::nullopt);
  }
  Limit a_, b_;
};

TEST_F(HoldVerdictTest, AHoldLimitOverItsRateAcceptsTheRecipientForTheHoldQueue) {
  const Verdict v = Run(Action::kHold, Action::kTempfail, true, false);
  EXPECT_EQ(v.disposition, Disposition::kHold);
  EXPECT_EQ(v.hold_reason, "floodgate: account:alice@example.org over limit a (1h)");
  EXPECT_EQ(v.held_keys, (std::vector<std::string>{"fg:{account:alice%40example.org}!held"}));
  EXPECT_TRUE(v.messages_charged.empty()) << "a held unit counts as refused";
}

TEST_F(HoldVerdictTest, ARefusalOutranksAHold) {
  Verdict v = Run(Action::kHold, Action::kTempfail, true, true);
  EXPECT_EQ(v.disposition, Disposition::kTempfail);
  EXPECT_TRUE(v.held_keys.empty());
  v = Run(Action::kHold, Action::kReject, true, true);
  EXPECT_EQ(v.disposition, Disposition::kReject);
}

TEST_F(HoldVerdictTest, AFullHoldQueueTempfails) {
  const Verdict v = Run(Action::kHold, Action::kTempfail, true, false, false, true);
  EXPECT_EQ(v.disposition, Disposition::kTempfail);
  EXPECT_EQ(v.reply.code, "451");
  EXPECT_EQ(v.reply.xcode, "4.7.28");
  EXPECT_TRUE(v.held_keys.empty());
}

TEST_F(HoldVerdictTest, ALockedSubjectIsHeldWhenItsLimitsSaySo) {
  a_.locked_action = LockedAction::kHold;
  b_.locked_action = LockedAction::kHold;
  Verdict v = Run(Action::kTempfail, Action::kTempfail, false, false, true);
  EXPECT_EQ(v.disposition, Disposition::kHold);
  EXPECT_EQ(v.hold_reason, "floodgate: account:alice@example.org locked (burst)");
  EXPECT_EQ(v.held_keys.size(), 1u) << "one list per subject, once";
  v = Run(Action::kTempfail, Action::kTempfail, false, false, true, true);
  EXPECT_EQ(v.disposition, Disposition::kTempfail) << "hold_max reached";
  b_.locked_action = LockedAction::kReject;
  v = Run(Action::kTempfail, Action::kTempfail, false, false, true);
  EXPECT_EQ(v.disposition, Disposition::kReject) << "a lock's 550 outranks a hold";
  EXPECT_EQ(v.reply.code, "550");
}

TEST_F(HoldVerdictTest, AHostileLoginCannotBreakTheHoldReason) {
  Plan plan;
  PlannedLimit pl;
  pl.limit = &a_;
  pl.subject = "account:x\r\nFrom: evil\x01";
  pl.rates = a_.rates;
  pl.action = Action::kHold;
  plan.limits = {pl};
  plan.checks.emplace_back();
  CheckOutcome o;
  o.allowed = false;
  LimitOutcome lo;
  lo.allowed = false;
  lo.windows = {WindowOutcome{true, false, 0}};
  o.limits = {lo};
  const Verdict v = Interpret(plan, o, std::nullopt);
  ASSERT_EQ(v.disposition, Disposition::kHold);
  for (unsigned char c : v.hold_reason) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << v.hold_reason;
}

}  // namespace
}  // namespace floodgate::policy
