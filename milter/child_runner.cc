#include "milter/child_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

namespace floodgate::milter {
namespace {

// Writes all of `data` to a socket the child reads as stdin, giving up after `timeout`
// (a program that does not read its input must not hold the worker). MSG_NOSIGNAL: a
// program that exits early gives EPIPE, not a SIGPIPE that would end floodgate.
void WriteAll(int fd, const std::string& data, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLOUT, 0};
    poll(&p, 1, static_cast<int>(left.count()));
  }
}

}  // namespace

ChildRunner::ChildRunner() : worker_([this] { Work(); }) {}

ChildRunner::~ChildRunner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void ChildRunner::Submit(ChildJob job) {
  if (job.argv.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
}

std::size_t ChildRunner::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void ChildRunner::Drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] {
    return queue_.empty() && running_.empty() && starting_ == 0 && finishing_ == 0;
  });
}

void ChildRunner::Reap() {
  // Called by the worker only, without mu_ held; running_ is guarded by mu_ for Drain's
  // sake, and `done` runs outside the lock.
  std::vector<std::pair<std::function<void(int)>, int>> ended;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(running_, [&](Running& r) {
      if (now - r.started > kTimeout) kill(r.pid, SIGKILL);
      int status = 0;
      if (waitpid(r.pid, &status, WNOHANG) == 0) return false;
      ended.emplace_back(std::move(r.done), status);
      return true;
    });
    finishing_ += ended.size();  // Drain waits for their `done` too
  }
  for (auto& [done, status] : ended) {
    if (done) done(status);
  }
  std::lock_guard lock(mu_);
  finishing_ -= ended.size();
}

std::optional<ChildRunner::Running> ChildRunner::Start(ChildJob job) {
  std::vector<char*> argv, envp;
  for (auto& a : job.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : job.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int fds[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (job.input) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      posix_spawn_file_actions_destroy(&actions);
      if (job.done) job.done(-1);
      return std::nullopt;
    }
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (job.input) {
    close(fds[0]);
    if (rc == 0) {
      shutdown(fds[1], SHUT_RD);
      WriteAll(fds[1], *job.input, std::chrono::seconds(5));
    }
    close(fds[1]);
  }
  if (rc != 0) {
    if (job.done) job.done(-1);
    return std::nullopt;
  }
  return Running{pid, std::chrono::steady_clock::now(), std::move(job.done)};
}

void ChildRunner::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    // Wake for new work, and every 100 ms while programs run, to reap and time them out.
    cv_.wait_for(lock, std::chrono::milliseconds(100),
                 [this] { return stop_ || (!queue_.empty() && running_.size() < kMaxInFlight); });
    lock.unlock();
    Reap();
    lock.lock();
    if (stop_ && queue_.empty() && running_.empty()) return;
    if (stop_) queue_.clear();
    while (!queue_.empty() && running_.size() < kMaxInFlight) {
      ChildJob job = std::move(queue_.front());
      queue_.pop_front();
      ++starting_;  // neither queued nor running while it starts: Drain must still wait
      lock.unlock();
      std::optional<Running> started = Start(std::move(job));
      lock.lock();
      --starting_;
      if (started) running_.push_back(std::move(*started));
    }
    cv_.notify_all();
  }
}

}  // namespace floodgate::milter
