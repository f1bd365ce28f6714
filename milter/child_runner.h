// ChildRunner: runs the short programs floodgate starts for its notifications (the
// admin's alert_command, sendmail for alert mails) without ever blocking the caller: jobs
// are queued to one worker thread, which runs at most kMaxInFlight programs at once,
// kills one still running after kTimeout, and drops (and counts) jobs when kMaxQueued
// are already waiting. Programs are started with posix_spawn, never through a shell.
// Thread-safety: Submit, Drain and dropped may be called from any thread; a job's `done`
// runs on the worker thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace floodgate::milter {

struct ChildJob {
  std::vector<std::string> argv;  // argv[0]: the program's absolute path
  std::vector<std::string> env;   // its whole environment
  // Written to the program's stdin, which is then closed; none: stdin is inherited.
  std::optional<std::string> input;
  // With the waitpid status when it ended (or was killed), or -1 when it did not start.
  std::function<void(int status)> done;
};

class ChildRunner {
 public:
  static constexpr std::size_t kMaxInFlight = 4;
  static constexpr std::size_t kMaxQueued = 256;
  static constexpr std::chrono::seconds kTimeout{30};

  ChildRunner();
  ~ChildRunner();  // waits for running programs (killing those past their timeout)
  ChildRunner(const ChildRunner&) = delete;
  ChildRunner& operator=(const ChildRunner&) = delete;

  void Submit(ChildJob job);
  // Blocks until nothing is queued or running (tests, floodgatectl before it exits).
  void Drain();
  std::size_t dropped() const;

 private:
  struct Running {
    pid_t pid;
    std::chrono::steady_clock::time_point started;
    std::function<void(int)> done;
  };
  void Work();
  void Reap();
  // Spawns the job's program and feeds its input (without mu_ held).
  std::optional<Running> Start(ChildJob job);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ChildJob> queue_;
  std::vector<Running> running_;
  std::size_t starting_ = 0;   // taken from the queue, not yet running
  std::size_t finishing_ = 0;  // reaped, their `done` not yet returned
  std::size_t dropped_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace floodgate::milter
