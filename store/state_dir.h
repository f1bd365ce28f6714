// StateDir: keeps the embedded store's state (store.state_dir) across restarts and crashes.
//
// Two files (format: state_format.h). `state` is a snapshot of everything the store holds,
// rewritten atomically (temp file, fsync, rename, fsync of the directory) every
// save_every_us while something changes (or ten times as long as the last snapshot took
// to write, if that is longer: a large state is not rewritten back to back), and on Close
// (SIGTERM). `journal-<generation>` receives
// every lock, unlock, list append (queue ids, events) and delete as it happens, written
// before the call returns; a snapshot starts the next journal under the store's mutex, so
// snapshot and journal meet exactly. After kill -9 the journal brings back every lock and
// queue id (the kernel still has the writes); counts go back to the last snapshot. The
// background thread also fsyncs the journal once a second, which bounds what a power cut
// loses.
//
// A file that cannot be read (damaged, cut short, another format version) is moved aside
// as `<name>.refused-<UTC time>`, never deleted, and reported; the store then starts
// without it. A lock file (`lock`, flock) keeps two floodgates from sharing a directory.
// Thread-safety: Open, Close and Save from one thread (the daemon's); the background
// thread is internal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "floodgate/clock.h"
#include "floodgate/result.h"
#include "store/memory_store.h"

namespace floodgate::store {

// The Unix time in microseconds (what the state files record beside the store clock, to
// learn how long floodgate was down).
class UnixClock final : public Clock {
 public:
  Micros now() const override;
};

class StateDir {
 public:
  struct Options {
    std::string dir;
    Micros save_every_us = 2'000'000;  // least snapshot interval while something changes
    const Clock* wall = nullptr;       // Unix time; null: UnixClock
    // Problems found later (a snapshot or journal write that failed), and their recovery.
    std::function<void(const std::string&)> log;
  };
  // What Open found, for the start-up log.
  struct Loaded {
    std::string summary;                // what was loaded, from where
    std::vector<std::string> problems;  // files refused and moved aside, torn journal tails
  };

  // Creates the directory when missing (0750), takes its lock, loads what it holds into
  // `store` (which should be empty), writes a fresh snapshot and from then on journals the
  // store's changes. An Error means the directory is unusable (state is then not kept);
  // what could be loaded before that stays in the store.
  static Result<std::unique_ptr<StateDir>> Open(Options options, MemoryStore& store,
                                                const Clock& clock, Loaded* loaded);
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;
  // Stops the background thread and detaches the journal; no final snapshot (see Close).
  ~StateDir();

  // Snapshots every save_every_us while something changes, and fsyncs the journal.
  void StartBackground();
  // Stops the background thread and writes a last snapshot: nothing is lost on SIGTERM.
  Status Close();
  // Writes a snapshot now.
  Status Save();

  const std::string& dir() const { return options_.dir; }

 private:
  class JournalFile;
  StateDir(Options options, MemoryStore& store, const Clock& clock, int lock_fd);
  Status Load(Loaded* loaded);
  void Run();
  void Stop();

  Options options_;
  MemoryStore& store_;
  const Clock& clock_;
  UnixClock unix_clock_;
  const Clock& wall_;
  int lock_fd_ = -1;
  std::unique_ptr<JournalFile> journal_;
  std::uint64_t generation_ = 0;
  std::uint64_t saved_changes_ = 0;
  std::size_t last_size_ = 0;
  std::mutex save_mu_;  // one Save at a time (background thread, Close)

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace floodgate::store
