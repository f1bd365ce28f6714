#include "policy/alert_mail.h"

#include <gtest/gtest.h>

namespace floodgate::policy {
namespace {

AlertMail LockMail() {
  AlertMail m;
  m.alert = {"locked",
             {{"subject", "account:alice@example.org"},
              {"reason", "burst"},
              {"limit", "submission"},
              {"refused", "1100"},
              {"ttl", "1d"},
              {"client", "203.0.113.9"}}};
  m.mail_from = "floodgate@mx1.example.org";
  m.mail_to = {"postmaster@example.org", "oncall@example.org"};
  m.host = "mx1.example.org";
  m.config_path = "/etc/floodgate/floodgate.toml";
  m.time = 1796153663;  // 2026-12-01 19:34:23 UTC
  m.message_id = "1796153663.42.1.floodgate";
  return m;
}

std::string Headers(const std::string& message) { return message.substr(0, message.find("\n\n")); }
std::string Body(const std::string& message) { return message.substr(message.find("\n\n") + 2); }

TEST(AlertMailTest, LockMailSaysWhatHappenedWhatWasDoneAndWhatToRun) {
  const std::string m = BuildAlertMail(LockMail());
  EXPECT_EQ(CheckAlertMail(m), "") << m;
  EXPECT_EQ(Headers(m),
            "From: floodgate@mx1.example.org\n"
            "To: postmaster@example.org,\n oncall@example.org\n"
            "Subject: [floodgate] LOCKED account:alice@example.org (burst) on mx1.example.org\n"
            "Date: Tue, 01 Dec 2026 19:34:23 +0000\n"
            "Message-ID: <1796153663.42.1.floodgate@mx1.example.org>\n"
            "Auto-Submitted: auto-generated\n"
            "X-Floodgate-Event: locked\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=us-ascii\n"
            "Content-Transfer-Encoding: 7bit");
  const std::string body = Body(m);
  for (const char* words :
       {"floodgate LOCKED the account alice@example.org: no mail from it is accepted now.",
        "stolen password", "  units refused:  1100\n", "  client:         203.0.113.9\n",
        "  limit:          submission\n", "after 1d unless you unlock it",
        "       floodgatectl show account:alice@example.org\n",
        "       floodgatectl queue account:alice@example.org --delete\n",
        "       floodgatectl unlock account:alice@example.org\n", "Change its password"}) {
    EXPECT_NE(body.find(words), std::string::npos) << words << "\n" << body;
  }
  EXPECT_EQ(body.find("suppressed"), std::string::npos);
  EXPECT_EQ(body.find(" -c "), std::string::npos) << "the default config needs no -c";
}

TEST(AlertMailTest, CommandsNameAConfigThatIsNotTheDefault) {
  AlertMail mail = LockMail();
  mail.config_path = "/srv/mail/floodgate it.toml";
  mail.alert.fields.emplace_back("traffic", "submission");
  const std::string body = Body(BuildAlertMail(mail));
  EXPECT_NE(body.find("floodgatectl -c '/srv/mail/floodgate it.toml' unlock "
                      "account:alice@example.org\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("  traffic class:  submission\n"), std::string::npos) << body;
}

TEST(AlertMailTest, HostileLoginsInjectNoHeaderAndCommandsStayExact) {
  AlertMail mail = LockMail();
  const std::string login = "evil\r\nBcc: victim@example.net\r\n\r\nx'$(rm -rf /)\xff";
  mail.alert.fields[0].second = "account:" + login;
  mail.mail_to = {"a@example.org\nBcc: b@example.net"};
  mail.host = "host\nX-Injected: 1";
  const std::string m = BuildAlertMail(mail);
  EXPECT_EQ(CheckAlertMail(m), "") << m;
  EXPECT_EQ(m.find("\nBcc:"), std::string::npos) << m;
  EXPECT_EQ(m.find("\nX-Injected"), std::string::npos) << m;
  // The command, pasted into a shell, names exactly the login.
  EXPECT_NE(m.find("floodgatectl unlock $'account:evil\\x0d\\x0aBcc: victim@example.net"
                   "\\x0d\\x0a\\x0d\\x0ax\\'$(rm -rf /)\\xff'\n"),
            std::string::npos)
      << m;
}

TEST(AlertMailTest, AHoldingLockSaysTheMailIsHeldAndHowToReleaseIt) {
  AlertMail mail = LockMail();
  mail.locked_action = "hold";
  const std::string body = Body(BuildAlertMail(mail));
  EXPECT_NE(body.find("accepted and put on Postfix's hold queue"), std::string::npos) << body;
  EXPECT_EQ(body.find("550 5.7.1"), std::string::npos) << body;
  EXPECT_NE(body.find("floodgatectl queue account:alice@example.org --release\n"),
            std::string::npos)
      << body;

  mail.alert = {"limit_exceeded",
                {{"subject", "account:school@example.org"},
                 {"limit", "submission"},
                 {"window", "1h"},
                 {"count", "100"},
                 {"action", "hold"}}};
  const std::string over = Body(BuildAlertMail(mail));
  EXPECT_NE(over.find("put on Postfix's hold queue"), std::string::npos) << over;
  EXPECT_NE(over.find("floodgatectl queue account:school@example.org --release\n"),
            std::string::npos)
      << over;
  EXPECT_NE(over.find("floodgatectl queue account:school@example.org --delete\n"),
            std::string::npos)
      << over;
}

TEST(AlertMailTest, SaysHowManyMailsWereSuppressed) {
  AlertMail mail = LockMail();
  mail.suppressed = {{"limit_exceeded", 12}, {"locked", 3}};
  const std::string body = Body(BuildAlertMail(mail));
  EXPECT_NE(body.find("15 more alert mail(s) were not sent"), std::string::npos) << body;
  EXPECT_NE(body.find("12 limit_exceeded, 3 locked."), std::string::npos) << body;
}

TEST(AlertMailTest, EveryEventHasAMail) {
  for (const Alert& a : std::vector<Alert>{
           {"limit_exceeded",
            {{"subject", "ip:203.0.113.0/24"},
             {"limit", "per-ip"},
             {"window", "1h"},
             {"count", "600"},
             {"action", "tempfail"}}},
           {"unlocked", {{"subject", "account:a@example.org"}, {"by", "floodgatectl"}}},
           {"store_down", {{"store", "redis"}, {"error", "timeout"}, {"on_error", "local"}}},
           {"store_up", {{"store", "redis"}}},
           {"config_reloaded", {{"file", "/etc/floodgate/floodgate.toml"}, {"limits", "2"}}},
           {"config_rejected", {{"file", "/etc/f.toml"}, {"error", "f.toml:3: bad"}}},
           {"something_new", {}}}) {
    AlertMail mail = LockMail();
    mail.alert = a;
    const std::string m = BuildAlertMail(mail);
    EXPECT_EQ(CheckAlertMail(m), "") << m;
    EXPECT_NE(m.find("X-Floodgate-Event: " + a.event + "\n"), std::string::npos) << m;
    EXPECT_NE(m.find("What floodgate did"), std::string::npos) << m;
  }
}

TEST(AlertMailTest, LongValuesAreCutInTheSubjectAndLinesStayShort) {
  AlertMail mail = LockMail();
  mail.alert.fields[0].second = "account:" + std::string(5000, 'a') + "@example.org";
  const std::string m = BuildAlertMail(mail);
  EXPECT_EQ(CheckAlertMail(m), "");
  const std::size_t s = m.find("Subject: ");
  EXPECT_LE(m.find('\n', s) - s, 9 + 140u);
  EXPECT_NE(m.find("too long to show here"), std::string::npos);
}

TEST(AlertMailTest, CheckFindsInjections) {
  const std::string good = BuildAlertMail(LockMail());
  EXPECT_NE(CheckAlertMail("Bcc: x@example.org\n" + good), "");
  EXPECT_NE(CheckAlertMail(good + "x\r\n"), "");
  EXPECT_NE(CheckAlertMail(good + std::string(999, 'x') + "\n"), "");
  EXPECT_NE(CheckAlertMail(good.substr(0, good.find("\n\n") + 1)), "");
}

TEST(ShellWordTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(ShellWord("account:alice@example.org"), "account:alice@example.org");
  EXPECT_EQ(ShellWord("ip:2001:db8::/48"), "ip:2001:db8::/48");
  EXPECT_EQ(ShellWord("a b'c"), "'a b'\\''c'");
  EXPECT_EQ(ShellWord("a\nb\\"), "$'a\\x0ab\\\\'");
  EXPECT_EQ(ShellWord(""), "''");
}

}  // namespace
}  // namespace floodgate::policy
