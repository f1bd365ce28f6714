// AlertMailer and ChildRunner with a stand-in sendmail (a shell script that saves its
// arguments and its stdin): which events are mailed, how often, and what sendmail gets.
#include "milter/alert_mailer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy/alert_mail.h"

namespace floodgate::milter {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AlertMailerTest : public ::testing::Test {
 protected:
  AlertMailerTest() {
    char tmpl[] = "/tmp/fg-mail-XXXXXX";
    dir_ = mkdtemp(tmpl);
    // Each run saves its arguments (one a line) and its input under its own pid.
    std::ofstream(dir_ / "sendmail")
        << "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > \"" << dir_.string()
        << "/args.$$\"\ncat > \"" << dir_.string() << "/mail.$$\"\nexit ${FAKE_EXIT:-0}\n";
    chmod((dir_ / "sendmail").c_str(), 0755);
    alerts_.mail_to = {"postmaster@example.org", "-oi@example.org"};
    alerts_.mail_from = "floodgate@mx1.example.org";
    alerts_.sendmail_path = (dir_ / "sendmail").string();
  }
  ~AlertMailerTest() override { fs::remove_all(dir_); }
  std::vector<fs::path> Files(const std::string& prefix) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path());
    }
    return out;
  }
  policy::Alert Locked(const std::string& login) {
    return {"locked", {{"subject", "account:" + login}, {"reason", "burst"}}};
  }
  fs::path dir_;
  policy::Config config_;
  policy::AlertsConfig& alerts_ = config_.alerts;
};

TEST_F(AlertMailerTest, SendmailGetsTheRecipientsAfterDashDashAndTheMailOnStdin) {
  AlertMailer mailer("/srv/floodgate.toml");
  std::optional<ChildJob> job = mailer.Mail(config_, Locked("alice@example.org"));
  ASSERT_TRUE(job);
  std::atomic<int> status{-2};
  job->done = [&](int s) { status = s; };
  ChildRunner runner;
  runner.Submit(std::move(*job));
  runner.Drain();
  EXPECT_EQ(status, 0);
  ASSERT_EQ(Files("args.").size(), 1u);
  EXPECT_EQ(Read(Files("args.")[0]),
            "-i\n-f\nfloodgate@mx1.example.org\n--\npostmaster@example.org\n-oi@example.org\n");
  const std::string mail = Read(Files("mail.")[0]);
  EXPECT_EQ(policy::CheckAlertMail(mail), "") << mail;
  EXPECT_NE(mail.find("floodgatectl -c /srv/floodgate.toml unlock account:alice@example.org"),
            std::string::npos)
      << mail;
}

TEST_F(AlertMailerTest, OnlyTheConfiguredEventsAndNotTwiceAnHour) {
  AlertMailer mailer("");
  EXPECT_TRUE(mailer.Mail(config_, Locked("a@example.org")));
  EXPECT_FALSE(mailer.Mail(config_, Locked("a@example.org"))) << "same lock within the hour";
  EXPECT_FALSE(mailer.Mail(config_, {"limit_exceeded", {{"subject", "account:a@example.org"}}}))
      << "not in the default mail_events";
  // The next mail that goes out says one was held back.
  std::optional<ChildJob> down = mailer.Mail(config_, {"store_down", {{"store", "redis"}}});
  ASSERT_TRUE(down);
  EXPECT_NE(down->input->find("1 more alert mail(s) were not sent"), std::string::npos)
      << *down->input;
  std::optional<ChildJob> b = mailer.Mail(config_, Locked("b@example.org"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->input->find("were not sent"), std::string::npos) << "told once";
  alerts_.mail_to.clear();
  EXPECT_FALSE(mailer.Mail(config_, Locked("c@example.org"))) << "no mail_to, no mail";
}

TEST_F(AlertMailerTest, ALockOfAHoldingLimitSaysTheMailIsHeld) {
  policy::Limit limit;
  limit.name = "submission";
  limit.locked_action = policy::LockedAction::kHold;
  config_.limits = {limit};
  AlertMailer mailer("");
  std::optional<ChildJob> job = mailer.Mail(
      config_, {"locked", {{"subject", "account:a@example.org"}, {"limit", "submission"}}});
  ASSERT_TRUE(job);
  EXPECT_NE(job->input->find("put on Postfix's hold queue"), std::string::npos) << *job->input;
}

TEST_F(AlertMailerTest, AFailingSendmailIsReported) {
  ChildRunner runner;
  std::atomic<int> status{-2};
  ChildJob job = SendmailJob(alerts_, "Subject: x\n\ny\n");
  job.env.push_back("FAKE_EXIT=75");
  job.done = [&](int s) { status = s; };
  runner.Submit(std::move(job));
  ChildJob missing = SendmailJob(alerts_, "x");
  missing.argv[0] = (dir_ / "no-such-sendmail").string();
  std::atomic<int> missing_status{-2};
  missing.done = [&](int s) { missing_status = s; };
  runner.Submit(std::move(missing));
  runner.Drain();
  ASSERT_TRUE(WIFEXITED(status.load()));
  EXPECT_EQ(WEXITSTATUS(status.load()), 75);
  EXPECT_EQ(SendmailFailure(alerts_, status),
            "alert mail to postmaster@example.org, -oi@example.org: " + alerts_.sendmail_path +
                " exited with status 75");
  EXPECT_NE(missing_status, 0);
}

}  // namespace
}  // namespace floodgate::milter
