#include "policy/planner.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

Rate R(std::int64_t amount, std::int64_t period_s) {
  Rate r;
  r.amount = amount;
  r.period_s = period_s;
  return r;
}

Limit MakeLimit(std::string name, SubjectKind subject, CountKind count,
                std::vector<Rate> rates = {R(100, 3600)}) {
  Limit l;
  l.name = std::move(name);
  l.subject = subject;
  l.count = count;
  l.rates = std::move(rates);
  l.traffic = DefaultTraffic(subject);
  return l;
}

// SMTP mail: submission with a login; without one, relay (from a trusted network) unless
// `traffic` says otherwise.
Facts SmtpFacts(std::string account = "alice@example.org", std::string ip = "203.0.113.9",
                Traffic traffic = Traffic::kRelay) {
  Facts f;
  f.client = Address::Parse(ip);
  f.account = std::move(account);
  f.sender = "alice@example.org";
  f.traffic = f.account.empty() ? traffic : Traffic::kSubmission;
  return f;
}

class PlannerTest : public ::testing::Test {
 protected:
  PlannerTest() {
    config_.store.key_prefix = "fg:";
    config_.limits = {MakeLimit("submission", SubjectKind::kAccount, CountKind::kRecipients),
                      MakeLimit("per-ip", SubjectKind::kIp, CountKind::kMessages),
                      MakeLimit("by-sender", SubjectKind::kSender, CountKind::kRecipients),
                      MakeLimit("by-domain", SubjectKind::kSenderDomain, CountKind::kMessages)};
  }
  std::vector<std::string> Keys(const Facts& f, Event e = {}) {
    std::vector<std::string> keys;
    for (const LimitCheck& c : MakePlan(config_, f, e).checks) keys.push_back(c.key);
    return keys;
  }
  Config config_;
};

TEST_F(PlannerTest, AnAuthenticatedRecipientMeetsEverySubject) {
  EXPECT_EQ(
      Keys(SmtpFacts()),
      (std::vector<std::string>{
          "fg:{account:alice@example.org}:submission", "fg:{ip:203.0.113.9}:per-ip",
          "fg:{sender:alice@example.org}:by-sender", "fg:{sender_domain:example.org}:by-domain"}));
}

TEST_F(PlannerTest, MessageLimitsAreChargedOncePerTransaction) {
  ChargedLimits charged;
  charged.Add(1);  // per-ip
  charged.Add(3);  // by-domain
  Event later;
  later.charged = &charged;
  EXPECT_EQ(Keys(SmtpFacts(), later),
            (std::vector<std::string>{"fg:{account:alice@example.org}:submission",
                                      "fg:{sender:alice@example.org}:by-sender"}));
}

TEST_F(PlannerTest, EachMessageLimitIsChargedOnItsOwn) {
  ChargedLimits charged;
  charged.Add(1);  // per-ip was charged by an earlier recipient; by-domain was not
  Event later;
  later.charged = &charged;
  EXPECT_EQ(Keys(SmtpFacts(), later).size(), 3u);
}

TEST_F(PlannerTest, UnauthenticatedRelayMailHasNoAccountSubject) {
  EXPECT_EQ(Keys(SmtpFacts("")),
            (std::vector<std::string>{"fg:{ip:203.0.113.9}:per-ip",
                                      "fg:{sender:alice@example.org}:by-sender",
                                      "fg:{sender_domain:example.org}:by-domain"}));
}

TEST_F(PlannerTest, NoDefaultLimitCountsInboundMail) {
  // A forged MAIL FROM of a local user, from anywhere on the internet.
  EXPECT_TRUE(Keys(SmtpFacts("", "198.51.100.7", Traffic::kInbound)).empty());
}

TEST_F(PlannerTest, LimitsCountOnlyTheClassesTheyName) {
  config_.limits[2].traffic = {Traffic::kSubmission};  // by-sender: authenticated mail only
  EXPECT_EQ(Keys(SmtpFacts("")).size(), 2u);
  EXPECT_EQ(Keys(SmtpFacts()).size(), 4u);
}

TEST_F(PlannerTest, InboundLimitsHaveTheirOwnBucketsAndNeverTouchLocks) {
  Limit in = MakeLimit("mx-ip", SubjectKind::kIp, CountKind::kMessages);
  in.traffic = {Traffic::kInbound};
  Limit in_sender = MakeLimit("mx-sender", SubjectKind::kSender, CountKind::kMessages);
  in_sender.traffic = {Traffic::kInbound};
  config_.limits = {in, in_sender};
  const Plan plan = MakePlan(config_, SmtpFacts("", "198.51.100.7", Traffic::kInbound), {});
  ASSERT_EQ(plan.checks.size(), 2u);
  EXPECT_EQ(plan.traffic, Traffic::kInbound);
  EXPECT_EQ(plan.checks[0].key, "fg:{ip:198.51.100.7}:mx-ip/inbound");
  EXPECT_EQ(plan.checks[1].key, "fg:{sender:alice@example.org}:mx-sender/inbound");
  for (const LimitCheck& c : plan.checks) {
    EXPECT_TRUE(c.lock_key.empty()) << c.key;
    EXPECT_EQ(c.max_networks, 0) << c.key;
  }
  // ... and outgoing mail does not meet them.
  EXPECT_TRUE(Keys(SmtpFacts()).empty());
}

TEST_F(PlannerTest, ExternalOnlyLimitsSkipLocalRecipients) {
  config_.limits[0].destinations = Destinations::kExternal;  // submission
  config_.limits[1].destinations = Destinations::kExternal;  // per-ip (messages)
  Event local;
  local.recipient_local = true;
  const Plan plan = MakePlan(config_, SmtpFacts(), local);
  ASSERT_EQ(plan.checks.size(), 4u);
  // The external-only limits only ask for their subject's lock: no windows, no cost,
  // no network recorded.
  for (std::size_t i : {0u, 1u}) {
    EXPECT_TRUE(plan.limits[i].lock_only) << i;
    EXPECT_TRUE(plan.checks[i].windows.empty()) << i;
    EXPECT_EQ(plan.checks[i].cost, 0) << i;
    EXPECT_EQ(plan.checks[i].max_networks, 0) << i;
    EXPECT_FALSE(plan.checks[i].lock_key.empty()) << i;
  }
  EXPECT_EQ(plan.checks[0].lock_key, "fg:{account:alice@example.org}!lock");
  for (std::size_t i : {2u, 3u}) {
    EXPECT_FALSE(plan.limits[i].lock_only) << i;
    EXPECT_EQ(plan.checks[i].windows.size(), 1u) << i;
    EXPECT_EQ(plan.checks[i].cost, 1) << i;
  }
  for (const PlannedLimit& p : MakePlan(config_, SmtpFacts(), {}).limits) {
    EXPECT_FALSE(p.lock_only) << p.limit->name;
  }
}

TEST_F(PlannerTest, ExternalOnlyInboundLimitsPlanNothingForLocalRecipients) {
  Limit mx = MakeLimit("mx", SubjectKind::kIp, CountKind::kMessages);
  mx.traffic = {Traffic::kInbound};
  mx.destinations = Destinations::kExternal;
  config_.limits = {mx};
  Event local;
  local.recipient_local = true;
  EXPECT_TRUE(Keys(SmtpFacts("", "198.51.100.7", Traffic::kInbound), local).empty());
}

TEST_F(PlannerTest, ExternalOnlyLimitsCountExternalRecipientsOfLocalSubmissions) {
  Facts f;
  f.client = Address::Parse("127.0.0.1");
  f.local_submission = true;
  f.traffic = Traffic::kLocal;
  f.sender = "www-data@example.org";
  config_.limits[2].destinations = Destinations::kExternal;  // by-sender (recipients)
  config_.limits[3].destinations = Destinations::kExternal;  // by-domain (messages)
  Event eom;
  eom.stage = Stage::kEndOfMessage;
  eom.recipients = 7;
  eom.external_recipients = 2;
  Plan plan = MakePlan(config_, f, eom);
  ASSERT_EQ(plan.checks.size(), 2u);
  EXPECT_EQ(plan.checks[0].cost, 2);
  EXPECT_EQ(plan.checks[1].cost, 1);
  eom.external_recipients = 0;
  plan = MakePlan(config_, f, eom);
  ASSERT_EQ(plan.checks.size(), 2u);
  for (const LimitCheck& c : plan.checks) {
    EXPECT_TRUE(c.windows.empty()) << c.key;  // the lock only
    EXPECT_EQ(c.cost, 0) << c.key;
  }
}

TEST_F(PlannerTest, Ipv6ClientsAreCountedPerSlash64ByDefault) {
  const auto keys = Keys(SmtpFacts("", "2001:db8:1:2:aaaa::1"));
  EXPECT_EQ(keys[0], "fg:{ip:2001%3Adb8%3A1%3A2%3A%3A%2F64}:per-ip");
  EXPECT_EQ(keys, Keys(SmtpFacts("", "2001:db8:1:2:ffff::9")));
}

TEST_F(PlannerTest, LocalSubmissionsAreLimitedBySenderAtEndOfMessage) {
  Facts f;
  f.client = Address::Parse("127.0.0.1");
  f.local_submission = true;
  f.traffic = Traffic::kLocal;
  f.sender = "www-data@example.org";
  Event eom;
  eom.stage = Stage::kEndOfMessage;
  eom.recipients = 7;
  eom.external_recipients = 7;
  const Plan plan = MakePlan(config_, f, eom);
  ASSERT_EQ(plan.checks.size(), 2u);
  EXPECT_EQ(plan.checks[0].key, "fg:{sender:www-data@example.org}:by-sender");
  EXPECT_EQ(plan.checks[0].cost, 7);  // recipients
  EXPECT_EQ(plan.checks[1].cost, 1);  // messages
}

TEST_F(PlannerTest, ExemptNetworksAccountsAndAccountDomainsPlanNothing) {
  config_.exempt.networks = {*Network::Parse("203.0.113.0/24")};
  EXPECT_TRUE(Keys(SmtpFacts()).empty());
  config_.exempt.networks.clear();
  config_.exempt.accounts = {"alice@example.org"};
  EXPECT_TRUE(Keys(SmtpFacts()).empty());
  config_.exempt.accounts.clear();
  config_.exempt.domains = {"example.org"};
  EXPECT_TRUE(Keys(SmtpFacts()).empty());
  EXPECT_FALSE(Keys(SmtpFacts("bob@other.example")).empty());
}

TEST_F(PlannerTest, ForgedSenderDomainIsNotAnExemption) {
  config_.exempt.domains = {"example.org"};
  Facts f = SmtpFacts("");  // unauthenticated relay, MAIL FROM in an exempt domain
  EXPECT_FALSE(Keys(f).empty());
}

TEST_F(PlannerTest, ExactOverrideBeatsDomainOverrideBeatsLimit) {
  Override domain;
  domain.limit = "submission";
  domain.domain = "example.org";
  domain.rates = {R(500, 3600)};
  Override exact;
  exact.limit = "submission";
  exact.exact = "newsletter@example.org";
  exact.rates = {R(5000, 3600)};
  exact.action = Action::kMonitor;
  config_.overrides = {domain, exact};

  auto amount = [&](const std::string& account) {
    return MakePlan(config_, SmtpFacts(account), {}).limits[0].rates[0].amount;
  };
  EXPECT_EQ(amount("newsletter@example.org"), 5000);
  EXPECT_EQ(amount("alice@example.org"), 500);
  EXPECT_EQ(amount("bob@other.example"), 100);
  const Plan p = MakePlan(config_, SmtpFacts("newsletter@example.org"), {});
  EXPECT_TRUE(p.checks[0].advisory);
}

TEST_F(PlannerTest, KeysDoNotDependOnTheLimitsNumbers) {
  const auto before = Keys(SmtpFacts());
  config_.limits[0].rates = {R(7, 60), R(9000, 86400)};
  EXPECT_EQ(Keys(SmtpFacts()), before);
}

TEST_F(PlannerTest, HostileLoginsCannotForgeAnotherSubjectsKey) {
  const std::string hostile = "x}:submission\r\n{account:alice@example.org";
  const auto keys = Keys(SmtpFacts(hostile));
  EXPECT_NE(keys[0], "fg:{account:alice@example.org}:submission");
  EXPECT_EQ(keys[0].find('}'), keys[0].rfind('}')) << "exactly one closing brace: " << keys[0];
  EXPECT_EQ(keys[0].find_first_of("\r\n "), std::string::npos);
}

TEST(WindowTest, GcraParametersFollowRateAndBurst) {
  Rate r = R(300, 3600);
  WindowSpec w = ToWindow(r);
  EXPECT_EQ(w.period_us, 3600'000'000);
  EXPECT_EQ(w.emission_us, 12'000'000);
  EXPECT_EQ(w.tolerance_us, 300 * 12'000'000LL);
  r.burst = 10;
  EXPECT_EQ(ToWindow(r).tolerance_us, 10 * 12'000'000LL);
}

}  // namespace
}  // namespace floodgate::policy

namespace floodgate::policy {
namespace {

TEST(PlannerLockTest, LockFieldsFollowTheLimit) {
  Config config;
  Limit l = MakeLimit("submission", SubjectKind::kAccount, CountKind::kMessages,
                      {R(100, 3600), R(30, 60)});
  l.lock_after = 10;
  l.lock_ttl_s = 600;
  l.max_networks.count = 5;
  l.max_networks.window_s = 3600;
  config.limits = {l};
  const Plan plan = MakePlan(config, SmtpFacts("alice@example.org", "198.51.100.77"), {});
  ASSERT_EQ(plan.checks.size(), 1u);
  const LimitCheck& c = plan.checks[0];
  EXPECT_EQ(c.lock_key, "fg:{account:alice@example.org}!lock");
  EXPECT_EQ(c.lock_ttl_us, 600'000'000);
  EXPECT_EQ(c.windows[0].lock_threshold, 1000);
  EXPECT_EQ(c.windows[1].lock_threshold, 300);
  EXPECT_EQ(c.network, "198.51.100.0/24");
  EXPECT_EQ(c.max_networks, 5);
  EXPECT_EQ(c.networks_window_us, 3600'000'000);
}

}  // namespace
}  // namespace floodgate::policy

namespace floodgate::policy {
namespace {

class PlannerSignalsTest : public ::testing::Test {
 protected:
  PlannerSignalsTest() {
    config_.store.key_prefix = "fg:";
    Limit l = MakeLimit("submission", SubjectKind::kAccount, CountKind::kRecipients,
                        {R(30, 60), R(300, 3600)});
    l.max_recipient_domains = {30, 3600};
    l.adaptive.factor_milli = 10'000;
    l.adaptive.floor = {R(10, 60)};
    l.destinations = Destinations::kExternal;
    config_.limits = {l};
  }
  Config config_;
  const std::vector<std::string> one_{"0badf00d"};
  const std::vector<std::string> two_{"0badf00d", "cafebabe"};
};

TEST_F(PlannerSignalsTest, AnExternalRecipientBringsItsDomainAndTheWindowsTheirFloors) {
  Event e;
  e.domains = one_;
  e.external_domains = one_;
  const Plan p = MakePlan(config_, SmtpFacts(), e);
  ASSERT_EQ(p.checks.size(), 1u);
  const LimitCheck& c = p.checks[0];
  EXPECT_EQ(c.domains, one_);
  EXPECT_EQ(c.max_domains, 30);
  EXPECT_EQ(c.domains_window_us, 3'600'000'000);
  EXPECT_EQ(c.adaptive_factor_milli, 10'000);
  EXPECT_EQ(c.windows[0].floor_amount, 10);
  EXPECT_EQ(c.windows[0].amount, 30);
  EXPECT_EQ(c.windows[0].rise_ppm, 481);
  EXPECT_EQ(c.windows[1].floor_amount, 0);  // no floor of that period: it does not adapt
}

TEST_F(PlannerSignalsTest, ALocalRecipientAddsNoDomain) {
  Event e;
  e.recipient_local = true;
  e.domains = one_;
  e.external_domains = one_;
  const Plan p = MakePlan(config_, SmtpFacts(), e);
  ASSERT_EQ(p.checks.size(), 1u);  // the lock-only check
  EXPECT_TRUE(p.checks[0].domains.empty());
  EXPECT_EQ(p.checks[0].max_domains, 0);
}

TEST_F(PlannerSignalsTest, ALocalSubmissionCountsTheExternalDomainsOfItsMessage) {
  config_.limits[0].subject = SubjectKind::kSender;
  config_.limits[0].traffic = DefaultTraffic(SubjectKind::kSender);
  Facts f;
  f.local_submission = true;
  f.sender = "www-data@example.org";
  f.traffic = Traffic::kLocal;
  Event e;
  e.stage = Stage::kEndOfMessage;
  e.recipients = 3;
  e.external_recipients = 2;
  e.domains = std::vector<std::string>{"0badf00d", "cafebabe", "11111111"};
  e.external_domains = two_;
  const Plan p = MakePlan(config_, f, e);
  ASSERT_EQ(p.checks.size(), 1u);
  EXPECT_EQ(p.checks[0].domains, two_);
}

TEST_F(PlannerSignalsTest, EveryRecipientOfAMessageCountedLimitBringsItsDomain) {
  config_.limits[0].count = CountKind::kMessages;
  ChargedLimits charged;
  charged.Add(0);
  Event e;
  e.charged = &charged;
  e.domains = one_;
  e.external_domains = one_;
  const Plan p = MakePlan(config_, SmtpFacts(), e);
  ASSERT_EQ(p.checks.size(), 1u);
  EXPECT_TRUE(p.limits[0].lock_only);  // charged once per message: nothing more to charge
  EXPECT_TRUE(p.checks[0].windows.empty());
  EXPECT_EQ(p.checks[0].domains, one_);
  EXPECT_EQ(p.checks[0].max_domains, 30);
  // Without the signal, a charged message-counted limit has nothing to ask.
  config_.limits[0].max_recipient_domains = {};
  EXPECT_TRUE(MakePlan(config_, SmtpFacts(), e).checks.empty());
}

TEST_F(PlannerSignalsTest, AnOverrideMayTurnAdaptiveOffAndSetItsOwnDomainCount) {
  Override o;
  o.exact = "alice@example.org";
  o.limit = "submission";
  o.rates = {R(5000, 3600)};
  o.adaptive = false;
  o.max_recipient_domains = Limit::MaxDomains{5000, 3600};
  config_.overrides = {o};
  Event e;
  e.domains = one_;
  e.external_domains = one_;
  const Plan p = MakePlan(config_, SmtpFacts(), e);
  ASSERT_EQ(p.checks.size(), 1u);
  EXPECT_EQ(p.checks[0].adaptive_factor_milli, 0);
  EXPECT_EQ(p.checks[0].windows.at(0).floor_amount, 0);
  EXPECT_EQ(p.checks[0].max_domains, 5000);
  // Everybody else keeps the limit's own.
  const Plan bob = MakePlan(config_, SmtpFacts("bob@example.org"), e);
  EXPECT_EQ(bob.checks.at(0).adaptive_factor_milli, 10'000);
  EXPECT_EQ(bob.checks[0].max_domains, 30);
}

TEST_F(PlannerSignalsTest, AnOverrideSetsTheCeilingAndTheFloorStaysBelowIt) {
  Override o;
  o.exact = "alice@example.org";
  o.limit = "submission";
  o.rates = {R(5, 60)};
  config_.overrides = {o};
  Event e;
  const Plan p = MakePlan(config_, SmtpFacts(), e);
  ASSERT_EQ(p.checks.at(0).windows.size(), 1u);
  EXPECT_EQ(p.checks[0].windows[0].amount, 5);
  EXPECT_EQ(p.checks[0].windows[0].floor_amount, 5);
}

}  // namespace
}  // namespace floodgate::policy
