#include "milter/alert_command.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

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

AlertCommand::AlertCommand() : worker_([this] { Work(); }) {}

AlertCommand::~AlertCommand() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void AlertCommand::Submit(const std::string& command, const policy::Alert& alert) {
  if (command.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      return;
    }
    queue_.emplace_back(command, alert);
  }
  cv_.notify_all();
}

std::size_t AlertCommand::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void AlertCommand::Drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && running_.empty(); });
}

void AlertCommand::Reap(bool block) {
  // Called by the worker only; running_ is guarded by mu_ for Drain's sake.
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(running_, [&](const Running& r) {
    if (now - r.started > kTimeout) kill(r.pid, SIGKILL);
    int status = 0;
    return waitpid(r.pid, &status, block ? 0 : WNOHANG) != 0;
  });
}

void AlertCommand::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    // Wake for new work, and every 100 ms while commands run, to reap and time them out.
    cv_.wait_for(lock, std::chrono::milliseconds(100),
                 [this] { return stop_ || (!queue_.empty() && running_.size() < kMaxInFlight); });
    lock.unlock();
    Reap(false);
    lock.lock();
    if (stop_ && queue_.empty() && running_.empty()) return;
    if (stop_) queue_.clear();
    while (!queue_.empty() && running_.size() < kMaxInFlight) {
      auto [command, alert] = std::move(queue_.front());
      queue_.pop_front();
      std::vector<std::string> env = AlertEnvironment(alert);
      std::vector<char*> envp;
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      char* argv[] = {command.data(), nullptr};
      pid_t pid = 0;
      if (posix_spawn(&pid, command.c_str(), nullptr, nullptr, argv, envp.data()) == 0) {
        running_.push_back({pid, std::chrono::steady_clock::now()});
      }
    }
    cv_.notify_all();
  }
}

void CommandAlertSink::Emit(const policy::Alert& alert) {
  inner_.Emit(alert);
  runner_.Submit(config_.get()->alerts.alert_command, alert);
}

}  // namespace floodgate::milter
