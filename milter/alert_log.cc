#include "milter/alert_log.h"

#include <syslog.h>

#include "policy/escape.h"

namespace floodgate::milter {
namespace {

// Operational messages may quote config file text or store errors: keep them one line.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

}  // namespace

int SyslogFacility(const std::string& name) {
  static const std::pair<const char*, int> kFacilities[] = {
      {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},
      {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
  for (const auto& [n, f] : kFacilities) {
    if (name == n) return f;
  }
  return -1;
}

SyslogAlertSink::SyslogAlertSink(const std::string& facility, bool also_stderr) {
  int f = SyslogFacility(facility);
  if (f < 0) f = LOG_MAIL;
  openlog("floodgate", LOG_PID | LOG_NDELAY | (also_stderr ? LOG_PERROR : 0), f);
}

SyslogAlertSink::~SyslogAlertSink() { closelog(); }

void SyslogAlertSink::Emit(const policy::Alert& alert) {
  syslog(LOG_WARNING, "%s", policy::FormatAlert(alert).c_str());
}

void SyslogAlertSink::Info(const std::string& message) {
  syslog(LOG_INFO, "%s", OneLine(message).c_str());
}

void SyslogAlertSink::Warning(const std::string& message) {
  syslog(LOG_WARNING, "%s", OneLine(message).c_str());
}

void SyslogAlertSink::Error(const std::string& message) {
  syslog(LOG_ERR, "%s", OneLine(message).c_str());
}

void MemoryAlertSink::Emit(const policy::Alert& alert) {
  std::lock_guard lock(mu_);
  lines_.push_back(policy::FormatAlert(alert));
}

void MemoryAlertSink::Info(const std::string& message) {
  std::lock_guard lock(mu_);
  lines_.push_back(message);
}

void MemoryAlertSink::Error(const std::string& message) { Info(message); }

std::vector<std::string> MemoryAlertSink::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

}  // namespace floodgate::milter
