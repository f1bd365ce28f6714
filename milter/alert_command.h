// AlertCommand: runs the admin's `alerts.alert_command` once per event (limit_exceeded,
// locked, unlocked, store_down, ...) with the event's fields in its environment:
//   FLOODGATE_EVENT=locked FLOODGATE_SUBJECT=account:alice@example.org FLOODGATE_REASON=burst
//   ... and FLOODGATE_LINE, the escaped syslog line.
// It never blocks the SMTP session: events are queued to one worker thread, which runs
// at most kMaxInFlight commands at once, kills a command still running after kTimeout,
// and drops (and counts) events when kMaxQueued are already waiting.
// Thread-safety: Submit may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "milter/alert_log.h"
#include "milter/config_holder.h"

namespace floodgate::milter {

// "FLOODGATE_" + upper-cased key + "=" + value; values keep their bytes but for NUL,
// which cannot live in an environment string and becomes '?'.
std::vector<std::string> AlertEnvironment(const policy::Alert& alert);

class AlertCommand {
 public:
  static constexpr std::size_t kMaxInFlight = 4;
  static constexpr std::size_t kMaxQueued = 256;
  static constexpr std::chrono::seconds kTimeout{30};

  AlertCommand();
  ~AlertCommand();  // waits for running commands (killing those past their timeout)

  // Queues `alert` for `command` (an absolute path; empty: nothing to do).
  void Submit(const std::string& command, const policy::Alert& alert);
  // Blocks until nothing is queued or running (tests, floodgatectl before it exits).
  void Drain();
  std::size_t dropped() const;

 private:
  struct Running {
    pid_t pid;
    std::chrono::steady_clock::time_point started;
  };
  void Work();
  void Reap(bool block);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, policy::Alert>> queue_;
  std::vector<Running> running_;
  std::size_t dropped_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

// An AlertSink that logs through `inner` and runs the configured alert_command.
class CommandAlertSink final : public AlertSink {
 public:
  CommandAlertSink(AlertSink& inner, const ConfigHolder& config) : inner_(inner), config_(config) {}
  void Emit(const policy::Alert& alert) override;
  void Info(const std::string& message) override { inner_.Info(message); }
  void Error(const std::string& message) override { inner_.Error(message); }

 private:
  AlertSink& inner_;
  const ConfigHolder& config_;
  AlertCommand runner_;
};

}  // namespace floodgate::milter
