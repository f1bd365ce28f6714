#include "milter/alert_command.h"

#include <algorithm>

namespace floodgate::milter {
namespace {

std::string EnvName(std::string_view key) {
  std::string name = "FLOODGATE_";
  for (char c : key) {
    name += (c >= 'a' && c <= 'z')                               ? static_cast<char>(c - 'a' + 'A')
            : ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c
                                                                 : '_';
  }
  return name;
}

std::string EnvValue(std::string v) {
  std::replace(v.begin(), v.end(), '\0', '?');
  return v;
}

}  // namespace

std::vector<std::string> AlertEnvironment(const policy::Alert& alert) {
  std::vector<std::string> env = {"FLOODGATE_EVENT=" + EnvValue(alert.event),
                                  "FLOODGATE_LINE=" + policy::FormatAlert(alert),
                                  "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  for (const auto& [key, value] : alert.fields) env.push_back(EnvName(key) + "=" + EnvValue(value));
  return env;
}

ChildJob AlertCommandJob(const std::string& command, const policy::Alert& alert) {
  ChildJob job;
  job.argv = {command};
  job.env = AlertEnvironment(alert);
  return job;
}

void CommandAlertSink::Emit(const policy::Alert& alert) {
  inner_.Emit(alert);
  const auto config = config_.get();
  if (!config->alerts.alert_command.empty()) {
    runner_.Submit(AlertCommandJob(config->alerts.alert_command, alert));
  }
  if (std::optional<ChildJob> mail = mailer_.Mail(*config, alert)) {
    mail->done = [this, alerts = config->alerts](int status) {
      if (status != 0) inner_.Error(SendmailFailure(alerts, status));
    };
    runner_.Submit(std::move(*mail));
  }
}

}  // namespace floodgate::milter
