// Admin on the daemon's memory store (MemoryAdminBackend): floodgatectl's commands see and
// change what the milter's checks see and change, through the same keys.
#include <gtest/gtest.h>

#include "admin/admin.h"
#include "admin/memory_admin_backend.h"
#include "admin/request.h"
#include "policy/planner.h"
#include "store/memory_store.h"
#include "tests/testing/limit_checks.h"

namespace floodgate::admin {
namespace {

constexpr Micros kHour = 3'600'000'000;

class MemoryAdminTest : public ::testing::Test {
 protected:
  MemoryAdminTest() : store_(clock_), backend_(store_, "/run/floodgate/admin.sock") {
    config_.store.key_prefix = "fg:";
    policy::Limit l;
    l.name = "submission";
    l.subject = policy::SubjectKind::kAccount;
    l.traffic = policy::DefaultTraffic(l.subject);
    l.rates = {policy::Rate{3, 3600, 3, "3/1h"}};
    config_.limits = {l};
  }

  // One milter check of `who`'s submission limit (3/1h), as the planner names it.
  bool Send(const std::string& who) {
    LimitCheck c = testing::Limit(
        policy::SubjectKey("fg:", policy::SubjectKind::kAccount, who) + ":submission", 3, kHour);
    c.lock_key = policy::LockKey("fg:", policy::SubjectKind::kAccount, who);
    c.lock_ttl_us = kHour;
    auto r = store_.Check({c});
    EXPECT_TRUE(r.ok());
    return r.ok() && r->allowed;
  }

  Admin MakeAdmin() {
    return Admin(config_, backend_, [this](const policy::Alert& a) { told_.push_back(a.event); });
  }

  static policy::Subject Subject(const std::string& text) {
    auto s = policy::ParseSubject(text);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : policy::Subject{};
  }

  FakeClock clock_;
  store::MemoryStore store_;
  MemoryAdminBackend backend_;
  policy::Config config_;
  std::vector<std::string> told_;
};

TEST_F(MemoryAdminTest, ShowSeesWhatTheChecksCharged) {
  ASSERT_TRUE(Send("alice@example.org"));
  ASSERT_TRUE(Send("alice@example.org"));
  Admin admin = MakeAdmin();
  auto shown = admin.Show(Subject("account:alice@example.org"));
  ASSERT_TRUE(shown.ok()) << shown.error().message();
  const Json& w = (*shown)["limits"][0]["windows"][0];
  EXPECT_EQ(w["used"].get<long>(), 2);
  EXPECT_EQ(w["capacity"].get<long>(), 3);
  EXPECT_FALSE(w["over"].get<bool>());
  EXPECT_FALSE((*shown)["lock"]["locked"].get<bool>());
}

TEST_F(MemoryAdminTest, LockStopsTheMilterAndUnlockLetsItGoAgain) {
  Admin admin = MakeAdmin();
  const policy::Subject alice = Subject("account:alice@example.org");
  auto locked = admin.Lock(alice, 600, "hijacked");
  ASSERT_TRUE(locked.ok()) << locked.error().message();
  EXPECT_TRUE((*locked)["locked"].get<bool>());
  EXPECT_EQ((*locked)["reason"], "hijacked");
  EXPECT_DOUBLE_EQ((*locked)["expires_in_s"].get<double>(), 600.0);
  EXPECT_FALSE(Send("alice@example.org")) << "a locked account sends nothing";
  EXPECT_TRUE(Send("bob@example.org"));
  EXPECT_EQ(store_.CountActiveLocks().value(), 1);

  auto unlocked = admin.Unlock(alice);
  ASSERT_TRUE(unlocked.ok()) << unlocked.error().message();
  EXPECT_TRUE((*unlocked)["was_locked"].get<bool>());
  EXPECT_TRUE(Send("alice@example.org"));
  EXPECT_EQ(store_.CountActiveLocks().value(), 0);
  EXPECT_EQ(told_, (std::vector<std::string>{"locked", "unlocked"}));
  auto events = admin.Events(10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_NE((*events)[0].get<std::string>().find("event=locked"), std::string::npos);
  EXPECT_NE((*events)[1].get<std::string>().find("event=unlocked"), std::string::npos);
}

TEST_F(MemoryAdminTest, ALockWithoutTtlLastsUntilUnlocked) {
  Admin admin = MakeAdmin();
  const policy::Subject alice = Subject("account:alice@example.org");
  auto locked = admin.Lock(alice, 0, "");
  ASSERT_TRUE(locked.ok());
  EXPECT_TRUE((*locked)["expires_in_s"].is_null());
  EXPECT_EQ((*locked)["reason"], "admin");
  clock_.Advance(365 * 24 * kHour);
  EXPECT_FALSE(Send("alice@example.org"));
  EXPECT_FALSE(admin.Unlock(Subject("account:bob@example.org")).value()["was_locked"].get<bool>());
}

TEST_F(MemoryAdminTest, UnlockForgetsTheRefusalsThatLockedButKeepsTheBucket) {
  for (int i = 0; i < 5; ++i) Send("alice@example.org");  // 3 allowed, 2 refused
  Admin admin = MakeAdmin();
  const policy::Subject alice = Subject("account:alice@example.org");
  auto before = admin.Show(alice);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ((*before)["limits"][0]["windows"][0]["refused"].get<long>(), 2);
  ASSERT_TRUE(admin.Unlock(alice).ok());
  auto after = admin.Show(alice);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["limits"][0]["windows"][0]["refused"].get<long>(), 0);
  EXPECT_EQ((*after)["limits"][0]["windows"][0]["used"].get<long>(), 3);
}

TEST_F(MemoryAdminTest, ResetFreesTheBucket) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Send("alice@example.org"));
  EXPECT_FALSE(Send("alice@example.org"));
  Admin admin = MakeAdmin();
  auto reset = admin.Reset(Subject("account:alice@example.org"));
  ASSERT_TRUE(reset.ok());
  EXPECT_EQ((*reset)["deleted"].get<long>(), 1);
  EXPECT_TRUE(Send("alice@example.org"));
}

TEST_F(MemoryAdminTest, TopAndStatusSeeEverySubject) {
  for (int i = 0; i < 3; ++i) Send("alice@example.org");
  Send("bob@example.org");
  Admin admin = MakeAdmin();
  ASSERT_TRUE(admin.Lock(Subject("account:eve@example.org"), 60, "x").ok());
  auto top = admin.Top(10);
  ASSERT_TRUE(top.ok()) << top.error().message();
  ASSERT_EQ(top->size(), 3u);
  EXPECT_EQ((*top)[0]["subject"], "account:eve@example.org");
  EXPECT_TRUE((*top)[0]["locked"].get<bool>());
  EXPECT_EQ((*top)[1]["subject"], "account:alice@example.org");
  EXPECT_EQ((*top)[2]["subject"], "account:bob@example.org");
  auto status = admin.Status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["store"], "memory");
  EXPECT_EQ((*status)["keys"].get<long>(), 3);
  EXPECT_EQ((*status)["locks_active"].get<long>(), 1);
}

TEST_F(MemoryAdminTest, QueueIdsComeOldestFirstThroughARequest) {
  const std::string key =
      policy::QueueKey("fg:", policy::SubjectKind::kAccount, "alice@example.org");
  ASSERT_TRUE(store_.Append(key, "4ABC", 100, kHour).ok());
  ASSERT_TRUE(store_.Append(key, "5DEF", 100, kHour).ok());
  Admin admin = MakeAdmin();
  auto request = RequestFromJson({{"op", "queue-ids"}, {"subject", "account:Alice@Example.org"}});
  ASSERT_TRUE(request.ok()) << request.error().message();
  auto ids = Perform(admin, *request);
  ASSERT_TRUE(ids.ok()) << ids.error().message();
  EXPECT_EQ(*ids, Json({"4ABC", "5DEF"}));
}

TEST(RequestTest, RefusesWhatIsNotACommand) {
  EXPECT_FALSE(RequestFromJson(Json::array()).ok());
  EXPECT_FALSE(RequestFromJson({{"op", "flushall"}}).ok());
  EXPECT_FALSE(RequestFromJson({{"op", "unlock"}}).ok()) << "unlock needs a subject";
  EXPECT_FALSE(RequestFromJson({{"op", "top"}, {"count", "ten"}}).ok());
  EXPECT_FALSE(RequestFromJson({{"op", "lock"}, {"subject", "account:a@b"}, {"ttl_s", -1}}).ok());
  auto ok = RequestFromJson(ToJson(Request{"lock", "account:a@b.org", 20, 60, "why"}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->ttl_s, 60);
  EXPECT_EQ(ok->reason, "why");
}

}  // namespace
}  // namespace floodgate::admin

namespace floodgate::admin {
namespace {

// floodgatectl judges a subject by the rates the milter enforces for it: an override's
// when one applies. The checks here are made by the milter's own planner.
TEST_F(MemoryAdminTest, TopAndShowApplyOverridesExactlyAsTheMilterDoes) {
  policy::Override o;
  o.subject = policy::SubjectKind::kAccount;
  o.exact = "newsletter@example.org";
  o.limit = "submission";
  o.rates = {policy::Rate{300, 3600, 300, "300/1h"}};
  config_.overrides = {o};
  for (const std::string who : {"newsletter@example.org", "alice@example.org"}) {
    policy::Facts f;
    f.account = who;
    f.traffic = policy::Traffic::kSubmission;
    for (int i = 0; i < 3; ++i) {
      const policy::Plan plan = policy::MakePlan(config_, f, {});
      ASSERT_EQ(plan.checks.size(), 1u);
      ASSERT_TRUE(store_.Check(plan.checks).value().allowed) << who;
    }
  }
  Admin admin = MakeAdmin();
  auto top = admin.Top(10);
  ASSERT_TRUE(top.ok()) << top.error().message();
  ASSERT_EQ(top->size(), 2u) << top->dump();
  EXPECT_EQ((*top)[0]["subject"], "account:alice@example.org") << "full: 3 of 3";
  EXPECT_DOUBLE_EQ((*top)[0]["fill"].get<double>(), 1.0);
  EXPECT_EQ((*top)[0]["traffic"], "submission");
  EXPECT_EQ((*top)[1]["subject"], "account:newsletter@example.org");
  EXPECT_EQ((*top)[1]["capacity"].get<long>(), 300) << "the override's rate, not the limit's";
  EXPECT_DOUBLE_EQ((*top)[1]["fill"].get<double>(), 0.01);

  auto shown = admin.Show(Subject("account:newsletter@example.org"));
  ASSERT_TRUE(shown.ok()) << shown.error().message();
  const Json& l = (*shown)["limits"][0];
  EXPECT_EQ(l["override"], "newsletter@example.org");
  EXPECT_EQ(l["traffic"], "submission");
  EXPECT_EQ(l["destinations"], "any");
  EXPECT_EQ(l["windows"][0]["capacity"].get<long>(), 300);
}

}  // namespace
}  // namespace floodgate::admin

namespace floodgate::admin {
namespace {

TEST_F(MemoryAdminTest, HeldIdsAreListedByQueueAndHeldAndForgottenOnRequest) {
  const std::string held = policy::HeldKey("fg:", policy::SubjectKind::kAccount, "bob@example.org");
  const std::string queued =
      policy::QueueKey("fg:", policy::SubjectKind::kAccount, "bob@example.org");
  ASSERT_TRUE(store_.Append(queued, "AAA1", 5000, kHour).ok());
  ASSERT_TRUE(store_.Append(held, "BBB2", 5000, kHour).ok());
  ASSERT_TRUE(store_.Append(held, "CCC3", 5000, kHour).ok());
  Admin admin = MakeAdmin();
  const policy::Subject bob = Subject("account:bob@example.org");
  auto ids = admin.QueueIds(bob);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"AAA1", "BBB2", "CCC3"}));
  auto all = admin.Held();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (Json{{"account:bob@example.org", {"BBB2", "CCC3"}}})) << all->dump();
  auto forgot = Perform(
      admin,
      RequestFromJson({{"op", "held-forget"}, {"subject", "account:bob@example.org"}}).value());
  ASSERT_TRUE(forgot.ok()) << forgot.error().message();
  EXPECT_TRUE((*forgot)["forgotten"].get<bool>());
  EXPECT_TRUE(admin.Held()->empty());
  EXPECT_EQ(admin.QueueIds(bob).value(), (std::vector<std::string>{"AAA1"}));
}

}  // namespace
}  // namespace floodgate::admin
