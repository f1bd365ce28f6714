#include "milter/alert_mailer.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "policy/alert_mail.h"

namespace floodgate::milter {

std::string HostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

AlertMailer::AlertMailer(std::string config_path)
    : config_path_(std::move(config_path)), host_(HostName()) {}

std::optional<ChildJob> AlertMailer::Mail(const policy::Config& config,
                                          const policy::Alert& alert) {
  const policy::AlertsConfig& alerts = config.alerts;
  if (alerts.mail_to.empty() || std::find(alerts.mail_events.begin(), alerts.mail_events.end(),
                                          alert.event) == alerts.mail_events.end()) {
    return std::nullopt;
  }
  std::string subject, limit;
  for (const auto& [k, v] : alert.fields) {
    if (k == "subject") subject = v;
    if (k == "limit") limit = v;
  }
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
  policy::AlertMail mail;
  {
    std::lock_guard lock(mu_);
    policy::MailThrottle::Decision d = throttle_.Admit(alert.event, subject, now_s);
    if (!d.send) return std::nullopt;
    mail.suppressed = std::move(d.suppressed);
    mail.message_id = fmt::format("{}.{}.{}.floodgate", std::time(nullptr), getpid(), ++sequence_);
  }
  mail.alert = alert;
  mail.mail_from = alerts.mail_from;
  mail.mail_to = alerts.mail_to;
  mail.host = host_;
  mail.config_path = config_path_;
  for (const policy::Limit& l : config.limits) {
    if (l.name == limit) mail.locked_action = policy::ToString(l.locked_action);
  }
  mail.time = std::time(nullptr);
  return SendmailJob(alerts, policy::BuildAlertMail(mail));
}

ChildJob SendmailJob(const policy::AlertsConfig& alerts, std::string message) {
  ChildJob job;
  // -i: a line of a single "." does not end the message; "--": no recipient is an option.
  job.argv = {alerts.sendmail_path, "-i", "-f", alerts.mail_from, "--"};
  job.argv.insert(job.argv.end(), alerts.mail_to.begin(), alerts.mail_to.end());
  job.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  job.input = std::move(message);
  return job;
}

std::string SendmailFailure(const policy::AlertsConfig& alerts, int status) {
  std::string to;
  for (const std::string& a : alerts.mail_to) to += (to.empty() ? "" : ", ") + a;
  const std::string what =
      status == -1          ? "could not be started"
      : WIFEXITED(status)   ? fmt::format("exited with status {}", WEXITSTATUS(status))
      : WIFSIGNALED(status) ? fmt::format("was killed by signal {}", WTERMSIG(status))
                            : "failed";
  return fmt::format("alert mail to {}: {} {}", to, alerts.sendmail_path, what);
}

}  // namespace floodgate::milter
