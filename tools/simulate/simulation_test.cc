// End to end: workloads through the real planner, verdict and memory store with the
// shipped deploy/floodgate.toml (account limit "submission": 30/1m, 300/1h, 2000/1d on
// external recipients, lock_after = 10, max_recipient_domains and adaptive), or with its
// rates alone (Bare: both signals off) where a test is about the rates.
#include "tools/simulate/simulation.h"

#include <gtest/gtest.h>

#include "policy/config_loader.h"
#include "tools/simulate/variants.h"
#include "tools/simulate/workload_reader.h"

namespace floodgate::simulate {
namespace {

policy::Config Shipped() {
  Result<policy::Config> c = policy::LoadConfig(FLOODGATE_SHIPPED_CONFIG);
  EXPECT_TRUE(c.ok()) << c.error().message();
  return c.ok() ? *c : policy::Config{};
}

policy::Config Bare() {
  Result<std::vector<Variant>> v = ParseVariants("bare");
  EXPECT_TRUE(v.ok());
  return Apply(v->at(0), Shipped());
}

std::unique_ptr<Scenario> Make(const std::string& text) {
  Result<Workload> w = ParseWorkload(text, "test.toml");
  EXPECT_TRUE(w.ok()) << w.error().message();
  Result<std::unique_ptr<Scenario>> s = Scenario::Make(*w);
  EXPECT_TRUE(s.ok()) << s.error().message();
  return std::move(*s);
}

// Quiet users: at most 40 messages a day of at most 8 recipients, no bursts.
constexpr const char* kQuiet = R"(seed = 3
days = 14
[population]
accounts = 200
daily_messages = { kind = "lognormal", median = 6, sigma = 0.8, max = 40 }
recipients = { kind = "geometric", mean = 1.5, max = 8 }
)";

TEST(SimulationTest, AQuietPopulationWithoutBurstsIsNeverRefused) {
  const std::unique_ptr<Scenario> s = Make(kQuiet);
  Result<RunResult> r = Simulate(*s, Shipped(), "shipped");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_GT(r->legit.messages, 10000);
  EXPECT_GT(r->legit.recipients, r->legit.messages);
  EXPECT_EQ(r->legit.refused(), 0);
  EXPECT_EQ(r->legit.messages_refused, 0);
  EXPECT_TRUE(r->legit_locks.empty());
  EXPECT_TRUE(r->top_refused.empty());
  EXPECT_GT(r->store.peak.subjects, 0u);
  EXPECT_GT(r->store.peak.snapshot_bytes, 0u);
}

TEST(SimulationTest, AnInvitationToEightyIsPartlyRefusedByThePerMinuteWindow) {
  const std::string text = std::string(kQuiet) +
                           "local_share = 0\n"
                           "[[burst]]\nname = \"invitation\"\nweekly_probability = 1\n"
                           "messages = 1\nrecipients = 80\nwithin = \"1m\"\n";
  const std::unique_ptr<Scenario> s = Make(text);
  Result<RunResult> r = Simulate(*s, Bare(), "bare");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_GT(r->legit.burst_messages, 0);
  // 80 external recipients against a bucket of 30: about 50 of each are tempfailed.
  EXPECT_GT(r->legit.burst_refused, r->legit.burst_messages * 40);
  // Mail right after a burst may find the bucket still empty: rare, but real.
  EXPECT_GE(r->legit.refused(), r->legit.burst_refused);
  EXPECT_LT(r->legit.refused() - r->legit.burst_refused, r->legit.burst_refused / 100);
  EXPECT_EQ(r->legit.refused_tempfail, r->legit.refused());
  EXPECT_TRUE(r->legit_locks.empty());
}

TEST(SimulationTest, RetriedRecipientsGetThroughLater) {
  const std::string text = std::string(kQuiet) +
                           "local_share = 0\n"
                           "[[burst]]\nname = \"invitation\"\nweekly_probability = 1\n"
                           "messages = 1\nrecipients = 80\nwithin = \"1m\"\n"
                           "[retry]\nattempts = 3\ndelay = \"15m\"\n";
  const std::unique_ptr<Scenario> s = Make(text);
  Result<RunResult> r = Simulate(*s, Bare(), "bare");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_GT(r->legit.refused(), 0);
  // 50 recipients retried at once meet the 30-recipient bucket again: some take a second
  // or third retry, and a few are still refused at the last one.
  EXPECT_GT(r->legit.retries, r->legit.refused());
  EXPECT_GT(r->legit.retries_refused, 0);
  EXPECT_LT(r->legit.undelivered, r->legit.refused() / 10);
}

// 12,000 recipients an hour (messages of 10, each to a new domain) from a light account.
constexpr const char* kHijack = R"(seed = 5
days = 3
[population]
accounts = 100
daily_messages = { kind = "lognormal", median = 6, sigma = 0.8, max = 40 }
[[hijack]]
name = "fast"
victim = { max_usual_day = 20 }
start_day = 1
start_time = "10:00"
duration = "2h"
rate = "12000/1h"
recipients = 10
)";

TEST(SimulationTest, TheShippedConfigLocksAFastHijackWithinMinutes) {
  const std::unique_ptr<Scenario> s = Make(kHijack);
  Result<RunResult> r = Simulate(*s, Shipped(), "shipped");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->hijacks.size(), 1u);
  const HijackResult& h = r->hijacks[0];
  ASSERT_TRUE(h.time_to_lock.has_value());
  EXPECT_LT(*h.time_to_lock, 5 * kMinuteUs);
  EXPECT_LE(h.escaped_messages, 60);
  EXPECT_EQ(h.escaped_recipients_total, h.escaped_recipients);
}

TEST(SimulationTest, TheRatesAloneLockAFastHijackAndLetLittleThrough) {
  const std::unique_ptr<Scenario> s = Make(kHijack);
  Result<RunResult> r = Simulate(*s, Bare(), "bare");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->hijacks.size(), 1u);
  const HijackResult& h = r->hijacks[0];
  EXPECT_LT(h.usual_day, 20);
  EXPECT_EQ(h.recipients, 24000);
  EXPECT_EQ(h.messages, 2400);
  ASSERT_TRUE(h.time_to_lock.has_value());
  EXPECT_LT(*h.time_to_lock, kHourUs);
  EXPECT_EQ(h.lock_reason, "burst");
  EXPECT_EQ(h.lock_subject, "account:" + h.login);
  // At most the minute bucket (30) plus 30 a minute until the lock, and nothing after it:
  // the attacker keeps sending for the rest of the two hours and is refused.
  EXPECT_GT(h.escaped_recipients, 0);
  EXPECT_LT(h.escaped_recipients, 1000);
  EXPECT_EQ(h.escaped_recipients_total, h.escaped_recipients);
  EXPECT_LE(h.escaped_messages, h.escaped_recipients);
}

TEST(SimulationTest, RecipientDomainsReachThePlanner) {
  policy::Config c = Bare();
  ASSERT_EQ(c.limits[0].name, "submission");
  c.limits[0].max_recipient_domains = {50, 3600};
  const std::unique_ptr<Scenario> s = Make(kHijack);
  Result<RunResult> r = Simulate(*s, c, "domains");
  ASSERT_TRUE(r.ok()) << r.error().message();
  const HijackResult& h = r->hijacks[0];
  ASSERT_TRUE(h.time_to_lock.has_value());
  EXPECT_EQ(h.lock_reason, "too_many_domains");
  EXPECT_LT(*h.time_to_lock, kMinuteUs);  // 51 new domains come in 15 seconds
  EXPECT_LE(h.escaped_recipients, 51);
}

TEST(SimulationTest, RunsAreDeterministicAndVariantsSeeTheSameMail) {
  const std::unique_ptr<Scenario> s = Make(kHijack);
  const policy::Config shipped = Shipped();
  Result<std::vector<Variant>> variants = ParseVariants("adaptive,bare");
  ASSERT_TRUE(variants.ok());
  Result<RunResult> a = Simulate(*s, Apply((*variants)[0], shipped), "adaptive");
  Result<RunResult> b = Simulate(*s, Apply((*variants)[1], shipped), "bare");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->legit.messages, b->legit.messages);
  EXPECT_EQ(a->legit.recipients, b->legit.recipients);
  EXPECT_EQ(a->hijacks[0].recipients, b->hijacks[0].recipients);
  // The signals stop the hijack sooner than the rates alone.
  EXPECT_LT(a->hijacks[0].escaped_recipients, b->hijacks[0].escaped_recipients);
  Result<RunResult> again = Simulate(*s, Apply((*variants)[0], shipped), "adaptive");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->hijacks[0].escaped_recipients, a->hijacks[0].escaped_recipients);
  EXPECT_EQ(again->hijacks[0].time_to_lock, a->hijacks[0].time_to_lock);
  EXPECT_EQ(again->checks, a->checks);
}

TEST(VariantsTest, ParsesKnownNamesInOrderAndRefusesOthers) {
  Result<std::vector<Variant>> v = ParseVariants("plain,adaptive");
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].name, "plain");
  EXPECT_FALSE((*v)[0].adaptive);
  EXPECT_TRUE((*v)[0].domains);
  EXPECT_FALSE(ParseVariants("adaptive,fast").ok());
  EXPECT_FALSE(ParseVariants("plain,plain").ok());
  EXPECT_FALSE(ParseVariants("").ok());
}

TEST(VariantsTest, TurnsEachSignalOffOnEveryLimit) {
  policy::Config c = Shipped();
  ASSERT_FALSE(c.limits.empty());
  for (policy::Limit& l : c.limits) {
    l.adaptive.factor_milli = 1500;
    l.max_recipient_domains.count = 20;
  }
  Result<std::vector<Variant>> v = ParseVariants("adaptive,plain,no-domains,bare");
  ASSERT_TRUE(v.ok());
  const policy::Config plain = Apply((*v)[1], c), no_domains = Apply((*v)[2], c),
                       bare = Apply((*v)[3], c), as_loaded = Apply((*v)[0], c);
  for (std::size_t i = 0; i < c.limits.size(); ++i) {
    EXPECT_EQ(as_loaded.limits[i].adaptive.factor_milli, 1500);
    EXPECT_EQ(plain.limits[i].adaptive.factor_milli, 0);
    EXPECT_EQ(plain.limits[i].max_recipient_domains.count, 20);
    EXPECT_EQ(no_domains.limits[i].adaptive.factor_milli, 1500);
    EXPECT_EQ(no_domains.limits[i].max_recipient_domains.count, 0);
    EXPECT_EQ(bare.limits[i].adaptive.factor_milli, 0);
    EXPECT_EQ(bare.limits[i].max_recipient_domains.count, 0);
  }
  EXPECT_FALSE(SameAsLoaded((*v)[1], c));
  EXPECT_TRUE(SameAsLoaded((*v)[0], Shipped()));
  EXPECT_TRUE(SameAsLoaded((*v)[1], plain));
}

}  // namespace
}  // namespace floodgate::simulate
