#include "tools/simulate/workload_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace floodgate::simulate {
namespace {

constexpr const char* kFull = R"(seed = 9
days = 14

[population]
accounts = 50
domain = "example.org"
local_share = 0.5
daily_messages = { kind = "pareto", min = 2, alpha = 1.5, max = 300 }
day_variation = 0
recipients = 2
domain_pool = { kind = "uniform", min = 1, max = 4 }
domain_zipf = 0.5
new_domain_share = 0.1
global_domains = 100

[rhythm]
weekday_hours = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
weekend_factor = 0

[[burst]]
name = "invitation"
weekly_probability = 0.5
messages = 2
recipients = 80
within = "2m"

[retry]
attempts = 2
delay = "30m"

[[hijack]]
name = "fast"
victim = { max_usual_day = 20 }
start_day = 10
start_time = "10:30"
duration = "2h"
rate = "600/1m"
recipients = 10
networks = 3
)";

Result<Workload> Parse(const std::string& text) { return ParseWorkload(text, "w.toml"); }

// The error message of `text`, or "" when it parses.
std::string ErrorOf(const std::string& text) {
  Result<Workload> w = Parse(text);
  return w.ok() ? "" : w.error().message();
}

TEST(WorkloadReaderTest, ReadsEveryKey) {
  Result<Workload> w = Parse(kFull);
  ASSERT_TRUE(w.ok()) << w.error().message();
  EXPECT_EQ(w->source, "w.toml");
  EXPECT_EQ(w->seed, 9u);
  EXPECT_EQ(w->days, 14);
  const Population& p = w->population;
  EXPECT_EQ(p.accounts, 50);
  EXPECT_EQ(p.local_share, 0.5);
  EXPECT_EQ(p.daily_messages.kind, Distribution::Kind::kPareto);
  EXPECT_EQ(p.daily_messages.a, 2);
  EXPECT_EQ(p.daily_messages.b, 1.5);
  EXPECT_EQ(p.daily_messages.max, 300);
  EXPECT_EQ(p.recipients.kind, Distribution::Kind::kConstant);
  EXPECT_EQ(p.recipients.a, 2);
  EXPECT_EQ(p.domain_pool.b, 4);
  EXPECT_EQ(p.global_domains, 100);
  EXPECT_EQ(w->rhythm.weekday_hours[8], 1);
  EXPECT_EQ(w->rhythm.weekend_hours, w->rhythm.weekday_hours);  // default: the same shape
  EXPECT_EQ(w->rhythm.weekend_factor, 0);
  ASSERT_EQ(w->bursts.size(), 1u);
  EXPECT_EQ(w->bursts[0].recipients, 80);
  EXPECT_EQ(w->bursts[0].within_us, 2 * kMinuteUs);
  EXPECT_EQ(w->retry.attempts, 2);
  EXPECT_EQ(w->retry.delay_us, 30 * kMinuteUs);
  ASSERT_EQ(w->hijacks.size(), 1u);
  const Hijack& h = w->hijacks[0];
  EXPECT_EQ(h.name, "fast");
  EXPECT_EQ(h.victim.max_usual_day, 20);
  EXPECT_EQ(h.start, 10 * kDayUs + 10 * kHourUs + 30 * kMinuteUs);
  EXPECT_EQ(h.duration_us, 2 * kHourUs);
  EXPECT_DOUBLE_EQ(h.recipients_per_hour, 36000);
  EXPECT_EQ(h.networks, 3);
}

TEST(WorkloadReaderTest, AnEmptyFileIsTheDefaults) {
  Result<Workload> w = Parse("");
  ASSERT_TRUE(w.ok()) << w.error().message();
  EXPECT_EQ(w->population.accounts, 1000);
  EXPECT_TRUE(w->hijacks.empty());
}

TEST(WorkloadReaderTest, RefusesUnknownKeysNamingKeyAndLine) {
  EXPECT_EQ(ErrorOf("seed = 1\ndayz = 3\n"), "w.toml:2: unknown key 'dayz'");
  EXPECT_EQ(ErrorOf("[population]\naccounts = 3\nacounts = 4\n"),
            "w.toml:3: unknown key 'acounts' in [population]");
  EXPECT_EQ(ErrorOf("[population]\ndaily_messages = { kind = \"lognormal\", median = 3, "
                    "sigma = 1, mean = 2 }\n"),
            "w.toml:2: unknown key 'mean' in population.daily_messages");
}

TEST(WorkloadReaderTest, RefusesBadValuesNamingTheKey) {
  EXPECT_EQ(ErrorOf("days = 0\n"), "w.toml:1: days must be from 1 to 3660 (got 0)");
  EXPECT_EQ(ErrorOf("[population]\nlocal_share = 1.5\n"),
            "w.toml:2: population.local_share must be from 0 to 1 (got 1.5)");
  EXPECT_EQ(ErrorOf("[population]\naccounts = \"many\"\n"),
            "w.toml:2: population.accounts must be an integer");
  EXPECT_EQ(ErrorOf("[population]\ndaily_messages = { kind = \"lognormal\", median = 0, sigma "
                    "= 1 }\n"),
            "w.toml:2: population.daily_messages.median must be > 0 (got 0)");
  EXPECT_EQ(ErrorOf("[population]\nrecipients = { kind = \"normal\", mean = 2 }\n"),
            "w.toml:2: population.recipients.kind must be one of \"constant\", \"uniform\", "
            "\"lognormal\", \"pareto\", \"geometric\" (got \"normal\")");
  EXPECT_EQ(ErrorOf("[population]\nrecipients = { kind = \"lognormal\", median = 2 }\n"),
            "w.toml:2: population.recipients needs 'sigma'");
  EXPECT_EQ(ErrorOf("[rhythm]\nweekday_hours = [1, 2]\n"),
            "w.toml:2: rhythm.weekday_hours must be an array of 24 numbers (00-01 first)");
  EXPECT_EQ(ErrorOf("[retry]\ndelay = \"15 minutes\"\n"),
            "w.toml:2: retry.delay must be a duration like \"90s\", \"30m\", \"2h\", \"1d\" (got "
            "\"15 minutes\")");
}

TEST(WorkloadReaderTest, RefusesBadHijacks) {
  const std::string base = "days = 5\n[[hijack]]\nname = \"h\"\nvictim = {}\n";
  EXPECT_EQ(ErrorOf(base + "start_day = 1\n"), "w.toml:2: hijack[1] needs 'rate'");
  EXPECT_EQ(ErrorOf(base + "start_day = 5\nrate = \"1/1h\"\n"),
            "w.toml:5: hijack[1].start_day must be from 0 to 4 (got 5)");
  EXPECT_EQ(ErrorOf(base + "start_day = 1\nrate = \"fast\"\n"),
            "w.toml:6: hijack[1].rate (recipients per period): invalid rate 'fast': expected "
            "N/T, e.g. \"300/1h\"");
  EXPECT_EQ(ErrorOf(base + "start_day = 1\nrate = \"1/1h\"\nstart_time = \"25:00\"\n"),
            "w.toml:7: hijack[1].start_time must be \"HH:MM\" (got \"25:00\")");
  EXPECT_EQ(ErrorOf(base + "start_day = 4\nrate = \"1/1h\"\nstart_time = \"23:00\"\n"
                           "duration = \"2h\"\n"),
            "w.toml:2: hijack[1] ends after the last simulated day (days = 5)");
  EXPECT_EQ(ErrorOf(base + "start_day = 1\nrate = \"1/1h\"\n" +
                    "[[hijack]]\nname = \"h\"\n"
                    "victim = {}\nstart_day = 1\nrate = \"1/1h\"\n"),
            "w.toml:7: hijack[2].name \"h\" is used twice");
  EXPECT_EQ(ErrorOf("[[hijack]]\nname = \"h\"\nvictim = { min_usual_day = 5, max_usual_day = 2 }\n"
                    "start_day = 1\nrate = \"1/1h\"\n"),
            "w.toml:3: hijack[1].victim.max_usual_day must be above min_usual_day");
}

TEST(WorkloadReaderTest, ReportsTomlSyntaxErrorsWithTheirLine) {
  const std::string e = ErrorOf("seed = 1\n[population\n");
  EXPECT_EQ(e.rfind("w.toml:2: ", 0), 0u) << e;
}

TEST(WorkloadReaderTest, AMissingFileIsNotFound) {
  Result<Workload> w = LoadWorkload("/nonexistent/w.toml");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace floodgate::simulate
