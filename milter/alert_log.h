// AlertLog: where floodgate's events go — one syslog line per event, key=value fields.
// Values are escaped with policy::LogValue, so a hostile login or
// address can neither end the line nor forge a field.
// Thread-safety: Emit may be called from any thread (syslog(3) is thread-safe).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "policy/verdict.h"

namespace floodgate::milter {

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void Emit(const policy::Alert& alert) = 0;
  // Operational messages that are not events (start-up, shutdown), at LOG_INFO.
  virtual void Info(const std::string& message) = 0;
  virtual void Error(const std::string& message) = 0;
};

class SyslogAlertSink final : public AlertSink {
 public:
  // Opens syslog with ident "floodgate" and LOG_PID; `also_stderr` adds LOG_PERROR.
  // An unknown facility name (refused by config validation) falls back to mail.
  SyslogAlertSink(const std::string& facility, bool also_stderr);
  ~SyslogAlertSink() override;
  void Emit(const policy::Alert& alert) override;
  void Info(const std::string& message) override;
  void Error(const std::string& message) override;
  // A condition that does not stop floodgate but may defeat it (LOG_WARNING).
  void Warning(const std::string& message);
};

// Keeps every line in memory (tests).
class MemoryAlertSink final : public AlertSink {
 public:
  void Emit(const policy::Alert& alert) override;
  void Info(const std::string& message) override;
  void Error(const std::string& message) override;
  std::vector<std::string> lines() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// LOG_MAIL for "mail" etc.; -1 when unknown.
int SyslogFacility(const std::string& name);

}  // namespace floodgate::milter
