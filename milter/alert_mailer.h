// AlertMailer: whether an event is mailed to the admin — alerts.mail_to is set, the event
// is in mail_events, and MailThrottle lets it go (one per event and subject an hour, 20
// an hour in all; the next mail counts those held back) — and the sendmail job that
// mails it: `sendmail_path -i -f mail_from -- mail_to...`, the message on stdin
// (policy/alert_mail.h builds it).
// Thread-safety: Mail may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "milter/child_runner.h"
#include "policy/config.h"
#include "policy/mail_throttle.h"
#include "policy/verdict.h"

namespace floodgate::milter {

class AlertMailer {
 public:
  // `config_path`: the config file the daemon (or floodgatectl) was started with.
  explicit AlertMailer(std::string config_path);

  // The job that mails `alert` as `config` says, or nullopt when it is not to be mailed
  // (now).
  std::optional<ChildJob> Mail(const policy::Config& config, const policy::Alert& alert);

 private:
  const std::string config_path_;
  const std::string host_;
  std::mutex mu_;
  policy::MailThrottle throttle_;
  std::uint64_t sequence_ = 0;
};

// The job that submits `message` (headers and body) to every mail_to address.
ChildJob SendmailJob(const policy::AlertsConfig& alerts, std::string message);

// "alert mail to a@example.org: /usr/sbin/sendmail exited with status 75" and the like,
// for a waitpid status that is not 0 (-1: it did not start).
std::string SendmailFailure(const policy::AlertsConfig& alerts, int status);

// This host's name as gethostname(2) gives it ("localhost" when it fails).
std::string HostName();

}  // namespace floodgate::milter
