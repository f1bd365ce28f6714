// What the loader accepts and what it makes of it; the refusals are in
// config_refusal_test.cc, one fixture each.
#include "policy/config_loader.h"

#include <gtest/gtest.h>

#include <string>

namespace floodgate::policy {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(FLOODGATE_TEST_DATA) + "/" + name;
}

Config MustLoad(const std::string& path) {
  Result<Config> c = LoadConfig(path);
  if (!c.ok()) ADD_FAILURE() << c.error().message();
  return c.ok() ? c.value() : Config{};
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ConfigLoaderTest, ReadsEveryKeyOfAFullConfig) {
  const Config c = MustLoad(Fixture("good_full.toml"));
  EXPECT_EQ(c.source, Fixture("good_full.toml"));
  EXPECT_EQ(c.milter.socket, "unix:/var/spool/postfix/floodgate/floodgate.sock");
  EXPECT_EQ(c.milter.user, "floodgate");
  EXPECT_EQ(c.milter.umask, 027);
  EXPECT_EQ(c.milter.timeout_s, 60);
  EXPECT_EQ(c.store.backend, Backend::kRedis);
  EXPECT_EQ(c.store.url, "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster");
  EXPECT_EQ(c.store.key_prefix, "fg:prod:");
  EXPECT_EQ(c.store.timeout_ms, 80);
  EXPECT_EQ(c.store.on_error, OnError::kTempfail);
  EXPECT_EQ(c.alerts.syslog_facility, "local3");
  EXPECT_EQ(c.alerts.alert_command, "/usr/local/bin/notify-admin");
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9187");
  ASSERT_EQ(c.limits.size(), 3u);

  const Limit& sub = c.limits[0];
  EXPECT_EQ(sub.name, "submission");
  EXPECT_EQ(sub.line, 22);
  EXPECT_EQ(sub.subject, SubjectKind::kAccount);
  EXPECT_EQ(sub.count, CountKind::kRecipients);
  ASSERT_EQ(sub.rates.size(), 3u);
  EXPECT_EQ(sub.rates[0].amount, 30);
  EXPECT_EQ(sub.rates[0].period_s, 60);
  EXPECT_EQ(sub.rates[0].burst, 60);
  EXPECT_EQ(sub.rates[0].text, "30/1m");
  EXPECT_EQ(sub.rates[2].period_s, 86400);
  EXPECT_EQ(sub.rates[2].burst, 2000);
  EXPECT_EQ(sub.mode, Mode::kStrict);
  EXPECT_EQ(sub.reply, "you are sending too fast, slow down");
  EXPECT_EQ(sub.lock_after, 10);
  EXPECT_EQ(sub.max_networks.count, 5);
  EXPECT_EQ(sub.max_networks.window_s, 3600);
  EXPECT_EQ(sub.lock_ttl_s, 2 * 86400);

  const Limit& ip = c.limits[1];
  EXPECT_EQ(ip.subject, SubjectKind::kIp);
  EXPECT_EQ(ip.count, CountKind::kMessages);
  EXPECT_EQ(ip.action, Action::kReject);
  EXPECT_EQ(ip.ipv4_prefix, 24);
  EXPECT_EQ(ip.ipv6_prefix, 48);
  ASSERT_EQ(ip.rates.size(), 2u);
  EXPECT_EQ(ip.rates[0].burst, 50);  // one integer applies to every window
  EXPECT_EQ(ip.rates[1].burst, 50);
  EXPECT_EQ(ip.rates[1].period_s, 60);
  EXPECT_EQ(c.limits[2].action, Action::kMonitor);

  ASSERT_EQ(c.overrides.size(), 3u);
  EXPECT_EQ(c.overrides[0].exact, "newsletter@example.org");
  EXPECT_EQ(c.overrides[0].domain, "");
  EXPECT_EQ(c.overrides[0].action, Action::kMonitor);
  EXPECT_EQ(c.overrides[1].exact, "");
  EXPECT_EQ(c.overrides[1].domain, "lists.example.org");
  EXPECT_EQ(c.overrides[1].rates[0].burst, 2000);
  EXPECT_FALSE(c.overrides[1].action.has_value());
  EXPECT_EQ(c.overrides[2].subject, SubjectKind::kSenderDomain);
  EXPECT_EQ(c.overrides[2].exact, "partner.example");

  ASSERT_EQ(c.exempt.networks.size(), 2u);
  EXPECT_EQ(c.exempt.networks[1].ToString(), "2001:db8::/32");
  EXPECT_EQ(c.exempt.accounts, std::vector<std::string>{"monitoring@example.org"});
  EXPECT_EQ(c.exempt.domains, std::vector<std::string>{"internal.example.org"});
}

TEST(ConfigLoaderTest, FillsDefaultsForOmittedKeys) {
  Result<Config> c =
      ParseConfig("[[limit]]\nname = \"a\"\nsubject = \"ip\"\nrate = [\"5/30s\"]\n", "mini.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  const Limit& l = c->limits.at(0);
  EXPECT_EQ(l.count, CountKind::kRecipients);
  EXPECT_EQ(l.action, Action::kTempfail);
  EXPECT_EQ(l.mode, Mode::kLeaky);
  EXPECT_EQ(l.ipv4_prefix, 32);
  EXPECT_EQ(l.ipv6_prefix, 64);
  EXPECT_EQ(l.lock_after, 0);
  EXPECT_EQ(l.max_networks.count, 0);
  EXPECT_EQ(l.lock_ttl_s, 86400);
  EXPECT_FALSE(l.reply.has_value());
  EXPECT_EQ(l.rates.at(0).burst, 5);
  EXPECT_EQ(l.rates.at(0).period_s, 30);
  EXPECT_EQ(c->store.backend, Backend::kMemory);
  EXPECT_EQ(c->milter.socket, "inet:8899@127.0.0.1");
  EXPECT_EQ(c->metrics_listen, "");
}

TEST(ConfigLoaderTest, AcceptsUmaskAsOctalString) {
  Result<Config> c = ParseConfig("[milter]\numask = \"0007\"\n", "u.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->milter.umask, 07);
}

TEST(ConfigLoaderTest, AcceptsOverrideBeforeItsLimit) {
  const Config c = MustLoad(Fixture("good_override_before_limit.toml"));
  ASSERT_EQ(c.overrides.size(), 1u);
  EXPECT_EQ(c.overrides[0].subject, SubjectKind::kSender);
  EXPECT_EQ(c.overrides[0].domain, "example.org");
  EXPECT_EQ(c.overrides[0].limit, "per-sender");
}

TEST(ConfigLoaderTest, EmptyFileCountsNothing) {
  const Config c = MustLoad(Fixture("good_empty.toml"));
  EXPECT_TRUE(c.limits.empty());
  EXPECT_TRUE(Contains(DescribeConfig(c), "no limits: floodgate counts nothing"));
}

TEST(ConfigLoaderTest, ShippedExampleConfigLoads) {
  const Config c = MustLoad(std::string(FLOODGATE_TEST_DATA) + "/../../deploy/floodgate.toml");
  EXPECT_FALSE(c.limits.empty());
}

TEST(ConfigLoaderTest, ReadsBothSignalsOfAHijackedAccount) {
  Result<Config> c = ParseConfig(R"([[limit]]
name = "submission"
subject = "account"
rate = ["30/1m", "300/1h", "2000/1d"]
max_recipient_domains = { count = 30, window = "1h" }
adaptive = { factor = 2.5, floor = ["10/1m", "200/1d"] }
)",
                                 "signals.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  const Limit& l = c->limits.at(0);
  EXPECT_EQ(l.max_recipient_domains.count, 30);
  EXPECT_EQ(l.max_recipient_domains.window_s, 3600);
  EXPECT_EQ(l.adaptive.factor_milli, 2500);
  EXPECT_EQ(l.adaptive.FloorFor(60), 10);
  EXPECT_EQ(l.adaptive.FloorFor(3600), 0);  // the 1h window does not adapt
  EXPECT_EQ(l.adaptive.FloorFor(86400), 200);
}

TEST(ConfigLoaderTest, AnOverrideMaySetItsOwnDomainCountAndTurnAdaptiveOff) {
  Result<Config> c = ParseConfig(R"([[limit]]
name = "submission"
subject = "account"
rate = ["300/1h"]
max_recipient_domains = { count = 30, window = "1h" }
adaptive = { factor = 10, floor = ["50/1h"] }

[[override]]
subject = "account:news@example.org"
limit = "submission"
rate = ["5000/1h"]
max_recipient_domains = { count = 5000, window = "1h" }
adaptive = false
)",
                                 "override.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  const Override& o = c->overrides.at(0);
  ASSERT_TRUE(o.max_recipient_domains.has_value());
  EXPECT_EQ(o.max_recipient_domains->count, 5000);
  EXPECT_FALSE(o.adaptive);
  for (const char* bad : {"adaptive = true", "adaptive = 3"}) {
    Result<Config> r = ParseConfig(std::string(R"([[limit]]
name = "submission"
subject = "account"
rate = ["300/1h"]
[[override]]
subject = "account:news@example.org"
limit = "submission"
rate = ["5000/1h"]
)") + bad + "\n",
                                   "bad.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(
        Contains(r.error().message(), "bad.toml:9: adaptive in an override can only be false"))
        << r.error().message();
  }
}

TEST(ConfigLoaderTest, TheShippedAccountLimitUsesBothSignals) {
  const Config c = MustLoad(std::string(FLOODGATE_TEST_DATA) + "/../../deploy/floodgate.toml");
  const Limit& l = c.limits.at(0);
  EXPECT_EQ(l.subject, SubjectKind::kAccount);
  EXPECT_GT(l.max_recipient_domains.count, 0);
  EXPECT_GT(l.adaptive.factor_milli, 0);
  for (const Rate& r : l.rates) EXPECT_GT(l.adaptive.FloorFor(r.period_s), 0) << r.text;
}

TEST(ConfigLoaderTest, MissingFileIsNotFound) {
  Result<Config> c = LoadConfig(Fixture("no_such_file.toml"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(Contains(c.error().message(), "no_such_file.toml")) << c.error().message();
}

TEST(ConfigLoaderTest, SyntaxErrorKeepsToml11LocationText) {
  Result<Config> c = ParseConfig("a = [1,\n2\nb = 3\n", "syn.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Contains(c.error().message(), "syn.toml:")) << c.error().message();
  EXPECT_TRUE(Contains(c.error().message(), "--> syn.toml")) << c.error().message();
}

TEST(ConfigLoaderTest, RefusesDeepNestingBeforeParsing) {
  Result<Config> arrays = ParseConfig("x = " + std::string(100000, '['), "deep.toml");
  ASSERT_FALSE(arrays.ok());
  EXPECT_TRUE(Contains(arrays.error().message(), "deep.toml:1: nested more than"));
  std::string dotted = "a";
  for (int i = 0; i < 100000; ++i) dotted += ".a";
  Result<Config> keys = ParseConfig("\n" + dotted + " = 1\n", "dots.toml");
  ASSERT_FALSE(keys.ok());
  EXPECT_TRUE(Contains(keys.error().message(), "dots.toml:2: nested more than"));
  // Brackets and dots inside strings and comments are not nesting.
  Result<Config> quoted = ParseConfig(
      "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
      "[alerts]\nalert_command = \"/bin/" +
          std::string(100, '[') + std::string(100, '.') + "\"\n",
      "quoted.toml");
  EXPECT_TRUE(quoted.ok()) << quoted.error().message();
}

TEST(ConfigLoaderTest, AlertMailHasDefaultsAndExemptsItsOwnSender) {
  Result<Config> none = ParseConfig("[alerts]\nsyslog_facility = \"mail\"\n", "none.toml");
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_TRUE(none->alerts.mail_to.empty());
  EXPECT_EQ(none->alerts.mail_events, (std::vector<std::string>{"locked", "store_down"}));
  EXPECT_EQ(none->alerts.sendmail_path, "/usr/sbin/sendmail");
  EXPECT_TRUE(none->alerts.mail_from.starts_with("floodgate@")) << none->alerts.mail_from;
  EXPECT_TRUE(none->exempt.local_senders.empty()) << "no mail, nothing to exempt";

  Result<Config> c = ParseConfig(
      "[alerts]\nmail_to = [\"postmaster@example.org\", \"oncall@example.org\"]\n"
      "mail_events = [\"unlocked\", \"locked\", \"locked\"]\n"
      "mail_from = \"Floodgate@MX1.example.org\"\nsendmail_path = \"/usr/lib/sendmail\"\n",
      "mail.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->alerts.mail_to,
            (std::vector<std::string>{"postmaster@example.org", "oncall@example.org"}));
  EXPECT_EQ(c->alerts.mail_events, (std::vector<std::string>{"unlocked", "locked"}));
  EXPECT_EQ(c->alerts.mail_from, "Floodgate@MX1.example.org");
  EXPECT_EQ(c->alerts.sendmail_path, "/usr/lib/sendmail");
  EXPECT_EQ(c->exempt.local_senders, (std::vector<std::string>{"floodgate@mx1.example.org"}));
  EXPECT_TRUE(Contains(DescribeConfig(*c),
                       "mail to postmaster@example.org, oncall@example.org on unlocked, locked, "
                       "from Floodgate@MX1.example.org via /usr/lib/sendmail\n"))
      << DescribeConfig(*c);
}

TEST(ConfigLoaderTest, NeverThrowsOnJunk) {
  for (const std::string& text :
       {std::string("\0\xff\xfe", 3), std::string("[[limit]]\n[limit]\n"),
        std::string("a = 1\na = 2\n"), std::string("x = 99999999999999999999999\n"),
        std::string("[milter]\ntimeout = 1e400\n"), std::string("limit = [1, 2]\n"),
        std::string("override = [{}]\n")}) {
    Result<Config> c = ParseConfig(text, "junk.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_TRUE(Contains(c.error().message(), "junk.toml")) << c.error().message();
  }
}

TEST(ConfigLoaderTest, DescribeExplainsGcraWindows) {
  const std::string d = DescribeConfig(MustLoad(Fixture("good_full.toml")));
  EXPECT_TRUE(Contains(d,
                       "30/1m: refills 30 per 1m smoothly; bucket holds 60; from idle at most "
                       "90 pass within the first 1m"))
      << d;
  EXPECT_TRUE(Contains(d,
                       "300/1h: refills 300 per 1h smoothly; bucket holds 300; from idle at "
                       "most 600 pass within the first 1h"))
      << d;
  EXPECT_TRUE(Contains(d, "account:newsletter@example.org on limit submission")) << d;
  EXPECT_TRUE(Contains(d, "more than 5 networks")) << d;
  EXPECT_TRUE(Contains(d, "192.0.2.10")) << d;
  EXPECT_TRUE(Contains(d, "umask 0027")) << d;
  EXPECT_TRUE(Contains(d, "http://127.0.0.1:9187/metrics")) << d;
}

TEST(ConfigLoaderTest, DescribeHidesRedisPassword) {
  Result<Config> c = ParseConfig(
      "[store]\nbackend = \"redis\"\nurl = \"redis://:hunter2@10.0.0.5:6379/0\"\n", "pw.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  const std::string d = DescribeConfig(*c);
  EXPECT_FALSE(Contains(d, "hunter2")) << d;
  EXPECT_TRUE(Contains(d, "redis://***@10.0.0.5:6379/0")) << d;
}

TEST(ConfigLoaderTest, RedactUrlHidesEveryPassword) {
  EXPECT_EQ(RedactUrl("redis://u:p@h:1/0"), "redis://***@h:1/0");
  EXPECT_EQ(RedactUrl("unix:///run/redis.sock"), "unix:///run/redis.sock");
  EXPECT_EQ(RedactUrl("redis+sentinel://:pw@s1:26379,s2:26379/m?sentinel_password=sp&"
                      "sentinel_user=u"),
            "redis+sentinel://***@s1:26379,s2:26379/m?sentinel_password=***&sentinel_user=u");
  EXPECT_EQ(RedactUrl("redis+sentinel://s1:26379/m?sentinel_user=u&sentinel_password=sp"),
            "redis+sentinel://s1:26379/m?sentinel_user=u&sentinel_password=***");
}

TEST(ConfigLoaderTest, AdminSocketMayBeTurnedOff) {
  Result<Config> c = ParseConfig("[store]\nadmin_socket = \"\"\n", "a.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->store.admin_socket, "");
  EXPECT_TRUE(Contains(DescribeConfig(*c), "admin socket: (none")) << DescribeConfig(*c);
  EXPECT_EQ(DefaultConfig().store.admin_socket, "/run/floodgate/admin.sock");
}

TEST(ConfigLoaderTest, StateDirAndMaxSubjectsAreReadAndPrinted) {
  EXPECT_EQ(DefaultConfig().store.state_dir, "/var/lib/floodgate");
  EXPECT_EQ(DefaultConfig().store.max_subjects, 1'000'000);
  EXPECT_TRUE(Contains(DescribeConfig(DefaultConfig()), "state kept in /var/lib/floodgate"));
  Result<Config> c =
      ParseConfig("[store]\nstate_dir = \"/srv/fg\"\nmax_subjects = 5000\n", "a.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->store.state_dir, "/srv/fg");
  EXPECT_EQ(c->store.max_subjects, 5000);
  EXPECT_TRUE(Contains(DescribeConfig(*c), "state kept in /srv/fg")) << DescribeConfig(*c);
  EXPECT_TRUE(Contains(DescribeConfig(*c), "max_subjects 5000 ")) << DescribeConfig(*c);
  Result<Config> none = ParseConfig("[store]\nstate_dir = \"\"\n", "a.toml");
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_TRUE(Contains(DescribeConfig(*none), "everything is lost on restart"))
      << DescribeConfig(*none);
}

TEST(ConfigLoaderTest, DefaultConfigIsOneAccountLimit) {
  const Config c = DefaultConfig();
  EXPECT_EQ(c.source, "(built-in defaults)");
  EXPECT_EQ(c.store.backend, Backend::kMemory);
  ASSERT_EQ(c.limits.size(), 1u);
  const Limit& l = c.limits[0];
  EXPECT_EQ(l.name, "default-account");
  EXPECT_EQ(l.subject, SubjectKind::kAccount);
  EXPECT_EQ(l.count, CountKind::kRecipients);
  EXPECT_EQ(l.action, Action::kTempfail);
  EXPECT_EQ(l.mode, Mode::kLeaky);
  ASSERT_EQ(l.rates.size(), 3u);
  EXPECT_EQ(l.rates[0].text, "30/1m");
  EXPECT_EQ(l.rates[1].amount, 300);
  EXPECT_EQ(l.rates[1].period_s, 3600);
  EXPECT_EQ(l.rates[2].burst, 2000);
  EXPECT_EQ(l.rates[2].period_s, 86400);
  EXPECT_TRUE(Contains(DescribeConfig(c), "(built-in defaults)"));
}

TEST(ConfigLoaderTest, EnumNamesAreTheConfigSpelling) {
  EXPECT_STREQ(ToString(SubjectKind::kSenderDomain), "sender_domain");
  EXPECT_STREQ(ToString(CountKind::kMessages), "messages");
  EXPECT_STREQ(ToString(Action::kMonitor), "monitor");
  EXPECT_STREQ(ToString(Mode::kStrict), "strict");
  EXPECT_STREQ(ToString(Backend::kRedis), "redis");
  EXPECT_STREQ(ToString(OnError::kLocal), "local");
}

}  // namespace
}  // namespace floodgate::policy

namespace floodgate::policy {
namespace {

TEST(ConfigLoaderTrafficTest, DefaultsNeverCountInboundMail) {
  Result<Config> c = ParseConfig(
      "[[limit]]\nname = \"a\"\nsubject = \"account\"\nrate = [\"5/1m\"]\n"
      "[[limit]]\nname = \"i\"\nsubject = \"ip\"\nrate = [\"5/1m\"]\n"
      "[[limit]]\nname = \"s\"\nsubject = \"sender\"\nrate = [\"5/1m\"]\n"
      "[[limit]]\nname = \"d\"\nsubject = \"sender_domain\"\nrate = [\"5/1m\"]\n",
      "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->limits[0].traffic, (TrafficSet{Traffic::kSubmission}));
  EXPECT_EQ(c->limits[1].traffic, (TrafficSet{Traffic::kSubmission, Traffic::kRelay}));
  const TrafficSet outgoing{Traffic::kSubmission, Traffic::kRelay, Traffic::kLocal};
  EXPECT_EQ(c->limits[2].traffic, outgoing);
  EXPECT_EQ(c->limits[3].traffic, outgoing);
  for (const Limit& l : c->limits) EXPECT_FALSE(l.traffic.Has(Traffic::kInbound)) << l.name;
  EXPECT_EQ(DefaultConfig().limits[0].traffic, (TrafficSet{Traffic::kSubmission}));
  // Loopback (webmail relaying without AUTH) is trusted by default.
  ASSERT_EQ(c->traffic.trusted_networks.size(), 2u);
  EXPECT_EQ(c->traffic.trusted_networks[0].ToString(), "127.0.0.0/8");
  EXPECT_EQ(c->traffic.trusted_networks[1].ToString(), "::1");
}

TEST(ConfigLoaderTrafficTest, ReadsTrafficDestinationsAndTheSiteTable) {
  Result<Config> c = ParseConfig(
      "[traffic]\ntrusted_networks = [\"192.0.2.0/24\"]\n"
      "local_domains = [\"Example.ORG\", \"example.net\"]\n"
      "[[limit]]\nname = \"out\"\nsubject = \"sender\"\nrate = [\"5/1m\"]\n"
      "traffic = [\"relay\", \"local\"]\ndestinations = \"external\"\n"
      "[[limit]]\nname = \"mx\"\nsubject = \"ip\"\nrate = [\"500/1m\"]\ntraffic = [\"inbound\"]\n",
      "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_EQ(c->traffic.trusted_networks.size(), 1u) << "the list replaces the default";
  EXPECT_EQ(c->traffic.local_domains, (std::vector<std::string>{"example.org", "example.net"}));
  EXPECT_EQ(c->limits[0].traffic, (TrafficSet{Traffic::kRelay, Traffic::kLocal}));
  EXPECT_EQ(c->limits[0].destinations, Destinations::kExternal);
  EXPECT_EQ(c->limits[1].traffic, (TrafficSet{Traffic::kInbound}));
  EXPECT_TRUE(c->notices.empty()) << "every limit says what it is for";
  const std::string d = DescribeConfig(*c);
  EXPECT_TRUE(Contains(d, "trusted_networks: 192.0.2.0/24")) << d;
  EXPECT_TRUE(Contains(d, "local_domains: example.org example.net")) << d;
  EXPECT_TRUE(Contains(d, "traffic: local, relay; recipients: only those outside local_domains"))
      << d;
  EXPECT_TRUE(Contains(d, "inbound only: buckets of its own, throttles but never locks")) << d;
}

// A config written before traffic classes existed loads, keeps its meaning for outgoing
// mail, and says once, in words, which limits no longer see inbound mail.
TEST(ConfigLoaderTrafficTest, APreviousReleasesConfigLoadsAndSaysWhatChanged) {
  const Config c = MustLoad(Fixture("good_previous_release.toml"));
  ASSERT_EQ(c.limits.size(), 2u);
  EXPECT_EQ(c.limits[0].name, "submission");
  EXPECT_EQ(c.limits[0].traffic, (TrafficSet{Traffic::kSubmission}));
  EXPECT_EQ(c.limits[1].name, "per-ip");
  EXPECT_EQ(c.limits[1].traffic, (TrafficSet{Traffic::kSubmission, Traffic::kRelay}));
  ASSERT_EQ(c.notices.size(), 1u) << "account limits count what they always did";
  EXPECT_TRUE(Contains(c.notices[0], "limit \"per-ip\" (line 141) has no traffic setting"))
      << c.notices[0];
  EXPECT_TRUE(Contains(c.notices[0],
                       "inbound mail (unauthenticated SMTP from outside [traffic] "
                       "trusted_networks) is no longer counted"))
      << c.notices[0];
  EXPECT_TRUE(Contains(DescribeConfig(c), "notices:\n  limit \"per-ip\"")) << DescribeConfig(c);
}

}  // namespace
}  // namespace floodgate::policy

namespace floodgate::policy {
namespace {

TEST(ConfigLoaderHoldTest, ReadsHoldSettings) {
  Result<Config> c = ParseConfig(
      "[[limit]]\nname = \"a\"\nsubject = \"account\"\nrate = [\"5/1m\"]\naction = \"hold\"\n"
      "locked_action = \"hold\"\nhold_max = 20\nlock_after = 10\n"
      "[[limit]]\nname = \"b\"\nsubject = \"account\"\nrate = [\"5/1m\"]\n",
      "h.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->limits[0].action, Action::kHold);
  EXPECT_EQ(c->limits[0].locked_action, LockedAction::kHold);
  EXPECT_EQ(c->limits[0].hold_max, 20);
  EXPECT_EQ(c->limits[1].locked_action, LockedAction::kReject);
  EXPECT_EQ(c->limits[1].hold_max, 500);
  const std::string d = DescribeConfig(*c);
  EXPECT_TRUE(Contains(d, "action hold")) << d;
  EXPECT_TRUE(Contains(d, "over the limit, mail goes to Postfix's hold queue")) << d;
  EXPECT_TRUE(Contains(d, "a locked account's mail goes to the hold queue")) << d;
}

}  // namespace
}  // namespace floodgate::policy
