// The admin's `alerts.alert_command`, run once per event (limit_exceeded, locked,
// unlocked, store_down, ...) with the event's fields in its environment:
//   FLOODGATE_EVENT=locked FLOODGATE_SUBJECT=account:alice@example.org FLOODGATE_REASON=burst
//   ... and FLOODGATE_LINE, the escaped syslog line.
// and CommandAlertSink, the daemon's event sink: it logs each event, runs alert_command
// and mails the admin (alert_mailer.h), all through one ChildRunner, so no event ever
// waits for a program on the SMTP path.
// Thread-safety: AlertEnvironment and AlertCommandJob are pure; CommandAlertSink::Emit may
// be called from any thread.
#pragma once

#include <string>
#include <vector>

#include "milter/alert_log.h"
#include "milter/alert_mailer.h"
#include "milter/child_runner.h"
#include "milter/config_holder.h"

namespace floodgate::milter {

// "FLOODGATE_" + upper-cased key + "=" + value; values keep their bytes but for NUL,
// which cannot live in an environment string and becomes '?'.
std::vector<std::string> AlertEnvironment(const policy::Alert& alert);

// The job that runs `command` (an absolute path) for `alert`.
ChildJob AlertCommandJob(const std::string& command, const policy::Alert& alert);

// An AlertSink that logs through `inner`, runs the configured alert_command and sends
// the configured alert mail. `config_path` is the daemon's -c file (named in the mail's
// commands).
class CommandAlertSink final : public AlertSink {
 public:
  CommandAlertSink(AlertSink& inner, const ConfigHolder& config, const std::string& config_path)
      : inner_(inner), config_(config), mailer_(config_path) {}
  void Emit(const policy::Alert& alert) override;
  void Info(const std::string& message) override { inner_.Info(message); }
  void Error(const std::string& message) override { inner_.Error(message); }

 private:
  AlertSink& inner_;
  const ConfigHolder& config_;
  AlertMailer mailer_;
  ChildRunner runner_;  // last, so destroyed first: its worker ends before the rest goes
};

}  // namespace floodgate::milter
