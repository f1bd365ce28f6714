#include "store/state_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>

namespace floodgate::store {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

Result<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Error(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kUnavailable,
                 Errno("cannot open " + path));
  }
  std::string data;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) data.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e(ErrorKind::kUnavailable, Errno("cannot read " + path));
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return data;
}

Status FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error(ErrorKind::kUnavailable, Errno("cannot open " + dir));
  const bool ok = ::fsync(fd) == 0;
  Error e(ErrorKind::kUnavailable, ok ? "" : Errno("cannot fsync " + dir));
  ::close(fd);
  if (!ok) return e;
  return OkStatus();
}

// Temp file, fsync, rename over `name`, fsync of the directory: a crash leaves the old
// file or the new one, never a mix.
Status WriteAtomically(const std::string& dir, const std::string& name, std::string_view data) {
  const std::string path = dir + "/" + name;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error(ErrorKind::kUnavailable, Errno("cannot create " + tmp));
  if (!WriteAll(fd, data) || ::fsync(fd) != 0) {
    Error e(ErrorKind::kUnavailable, Errno("cannot write " + tmp));
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e(ErrorKind::kUnavailable, Errno("cannot rename " + tmp + " to " + path));
    ::unlink(tmp.c_str());
    return e;
  }
  return FsyncDir(dir);
}

std::string UtcTime(Micros unix_us) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     fmt::gmtime(static_cast<std::time_t>(unix_us / 1'000'000)));
}

// Renames `name` to `name.refused-<UTC time>` (a number added if that exists).
Result<std::string> MoveAside(const std::string& dir, const std::string& name, Micros unix_us) {
  const std::string from = dir + "/" + name;
  std::string to = from + ".refused-" + UtcTime(unix_us);
  for (int i = 1; ::access(to.c_str(), F_OK) == 0; ++i) {
    to = from + ".refused-" + UtcTime(unix_us) + "." + std::to_string(i);
  }
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Error(ErrorKind::kUnavailable, Errno("cannot move " + from + " aside"));
  }
  return to;
}

// journal-<generation> files, oldest first.
std::vector<std::pair<std::uint64_t, std::string>> ListJournals(const std::string& dir) {
  std::vector<std::pair<std::uint64_t, std::string>> journals;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return journals;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (!name.starts_with(state::kJournalPrefix)) continue;
    const std::string_view digits = name.substr(state::kJournalPrefix.size());
    if (digits.empty() || digits.size() > 19 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos) {
      continue;
    }
    journals.emplace_back(std::stoull(std::string(digits)), std::string(name));
  }
  ::closedir(d);
  std::sort(journals.begin(), journals.end());
  return journals;
}

}  // namespace

Micros UnixClock::now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The journal's open file. Record runs under the store's mutex and queues the frame;
// Flush writes what is queued (in order, whoever comes first writes for all); Swap runs
// under the store's mutex (from Export); Sync from the background thread. mu_ guards the
// descriptor and the queue between them.
class StateDir::JournalFile final : public MemoryStore::Journal {
 public:
  ~JournalFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  std::uint64_t Record(std::string_view payload) override {
    const std::string frame = state::JournalFrame(payload);
    std::lock_guard lock(mu_);
    pending_ += frame;
    return ++queued_;
  }
  void Flush(std::uint64_t ticket) override {
    std::lock_guard lock(mu_);
    if (written_ < ticket) WriteOutLocked();
  }
  // Writes what is queued to the current file and installs `fd` as the journal; returns
  // the previous descriptor (or -1).
  int Swap(int fd) {
    std::lock_guard lock(mu_);
    WriteOutLocked();
    broken_ = false;
    dirty_ = false;
    return std::exchange(fd_, fd);
  }
  Status Sync() {
    int fd = -1;
    {
      std::lock_guard lock(mu_);
      if (!error_.empty()) return Error(ErrorKind::kUnavailable, std::exchange(error_, {}));
      if (!dirty_ || fd_ < 0) return OkStatus();
      dirty_ = false;
      fd = ::dup(fd_);
    }
    if (fd < 0) return Error(ErrorKind::kUnavailable, Errno("cannot sync the journal"));
    const bool ok = ::fdatasync(fd) == 0;
    Error e(ErrorKind::kUnavailable, ok ? "" : Errno("cannot sync the journal"));
    ::close(fd);
    if (!ok) return e;
    return OkStatus();
  }

 private:
  void WriteOutLocked() {
    if (fd_ >= 0 && !broken_ && !pending_.empty()) {
      if (!WriteAll(fd_, pending_)) {
        // A torn frame ends what replay reads: write nothing more to this file; the next
        // snapshot starts a new one.
        broken_ = true;
        error_ = Errno("cannot write the journal");
      }
      dirty_ = true;
    }
    pending_.clear();
    written_ = queued_;
  }

  std::mutex mu_;
  int fd_ = -1;
  std::string pending_;        // frames queued, not written yet
  std::uint64_t queued_ = 0;   // tickets handed out
  std::uint64_t written_ = 0;  // tickets written (or dropped with a broken file)
  bool dirty_ = false;
  bool broken_ = false;
  std::string error_;
};

StateDir::StateDir(Options options, MemoryStore& store, const Clock& clock, int lock_fd)
    : options_(std::move(options)),
      store_(store),
      clock_(clock),
      wall_(options_.wall != nullptr ? *options_.wall : unix_clock_),
      lock_fd_(lock_fd),
      journal_(std::make_unique<JournalFile>()) {}

StateDir::~StateDir() {
  Stop();
  store_.SetJournal(nullptr);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<StateDir>> StateDir::Open(Options options, MemoryStore& store,
                                                 const Clock& clock, Loaded* loaded) {
  const std::string& dir = options.dir;
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return Error(ErrorKind::kUnavailable, Errno("cannot create state_dir " + dir));
  }
  const std::string lock_path = dir + "/lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return Error(ErrorKind::kUnavailable, Errno("cannot open " + lock_path));
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return Error(ErrorKind::kUnavailable, "state_dir " + dir + " is in use by another floodgate (" +
                                              lock_path +
                                              " is locked): give each floodgate its own state_dir");
  }
  std::unique_ptr<StateDir> s(new StateDir(std::move(options), store, clock, lock_fd));
  Loaded ignored;
  if (Status st = s->Load(loaded != nullptr ? loaded : &ignored); !st.ok()) return st.error();
  if (Status st = s->Save(); !st.ok()) {
    return Error(ErrorKind::kUnavailable,
                 "cannot write state in " + dir + ": " + st.error().message());
  }
  store.SetJournal(s->journal_.get());
  return s;
}

Status StateDir::Load(Loaded* loaded) {
  const std::string& dir = options_.dir;
  const state::Stamp now{clock_.now(), wall_.now()};
  std::uint64_t generation = 0;
  bool have_snapshot = false;
  std::string from = "nothing to load (no state file yet)";
  std::size_t replayed = 0;
  std::optional<Error> fatal;
  const auto journals = ListJournals(dir);

  store_.Import([&](state::Visitor& v) {
    const std::string path = dir + "/" + std::string(state::kSnapshotFile);
    Result<std::string> bytes = ReadFile(path);
    if (!bytes.ok() && bytes.error().kind() != ErrorKind::kNotFound) {
      fatal = bytes.error();  // neither readable nor to be overwritten
      return;
    }
    if (bytes.ok()) {
      Result<state::SnapshotInfo> snap = state::DecodeSnapshot(*bytes, now, v);
      if (snap.ok()) {
        have_snapshot = true;
        generation = snap->generation;
        from = fmt::format("{} (saved {}, {} records)", path, UtcTime(snap->saved_wall),
                           snap->records);
      } else {
        Result<std::string> moved = MoveAside(dir, std::string(state::kSnapshotFile), now.wall);
        if (!moved.ok()) {
          fatal = moved.error();
          return;
        }
        loaded->problems.push_back(fmt::format(
            "state file {} refused: {}; moved to {}. floodgate starts without it: the locks, "
            "counts, queue ids and events it held are not restored (journaled locks and queue "
            "ids still are). If a newer floodgate wrote it, that version can read it; "
            "otherwise delete it",
            path, snap.error().message(), *moved));
      }
    }
    for (const auto& [gen, name] : journals) {
      const std::string jpath = dir + "/" + name;
      if (have_snapshot && gen < generation) {  // already in the snapshot
        ::unlink(jpath.c_str());
        continue;
      }
      Result<std::string> jbytes = ReadFile(jpath);
      Result<state::JournalInfo> info = jbytes.ok() ? state::DecodeJournal(*jbytes, now, v)
                                                    : Result<state::JournalInfo>(jbytes.error());
      if (!info.ok()) {
        Result<std::string> moved = MoveAside(dir, name, now.wall);
        loaded->problems.push_back(fmt::format(
            "journal {} refused: {}; {}. The locks and queue ids it held are not restored", jpath,
            info.error().message(), moved.ok() ? "moved to " + *moved : moved.error().message()));
        continue;
      }
      replayed += info->records;
      if (info->torn_bytes > 0) {
        loaded->problems.push_back(
            fmt::format("journal {}: ignored its last {} bytes, a record that a crash interrupted",
                        jpath, info->torn_bytes));
      }
    }
  });
  if (fatal) return *fatal;
  for (const auto& [gen, name] : journals) generation = std::max(generation, gen);
  const MemoryStore::Sizes sizes = store_.sizes();
  loaded->summary = fmt::format(
      "state_dir {}: loaded {}; {} journal records replayed: {} counters, {} locks, {} network "
      "sets, {} lists",
      dir, from, replayed, sizes.counters, sizes.locks, sizes.network_sets, sizes.lists);
  generation_ = generation;
  return OkStatus();
}

Status StateDir::Save() {
  std::lock_guard save_lock(save_mu_);
  const std::string& dir = options_.dir;
  const std::uint64_t next = generation_ + 1;
  const state::Stamp stamp{clock_.now(), wall_.now()};
  // The next journal is ready before the store's mutex is taken.
  const std::string jpath = dir + "/" + std::string(state::kJournalPrefix) + std::to_string(next);
  const int fd = ::open(jpath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Error(ErrorKind::kUnavailable, Errno("cannot create " + jpath));
  if (!WriteAll(fd, state::JournalHeader(next, stamp))) {
    Error e(ErrorKind::kUnavailable, Errno("cannot write " + jpath));
    ::close(fd);
    ::unlink(jpath.c_str());
    return e;
  }
  std::string out;
  out.reserve(last_size_ + last_size_ / 8 + 4096);
  state::StartSnapshot(&out, next, stamp);
  int old_fd = -1;
  std::uint64_t changes = 0;
  const std::size_t records = store_.Export(&out, [&] {
    old_fd = journal_->Swap(fd);
    changes = store_.changes();
  });
  if (old_fd >= 0) {
    ::fdatasync(old_fd);  // it holds what came before this snapshot until the rename
    ::close(old_fd);
  }
  state::FinishSnapshot(&out, records);
  // On failure the old snapshot and every journal since stay, which load in order.
  if (Status s = WriteAtomically(dir, std::string(state::kSnapshotFile), out); !s.ok()) return s;
  generation_ = next;
  saved_changes_ = changes;
  last_size_ = out.size();
  for (const auto& [gen, name] : ListJournals(dir)) {
    if (gen < next) ::unlink((dir + "/" + name).c_str());
  }
  return OkStatus();
}

void StateDir::StartBackground() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void StateDir::Run() {
  using std::chrono::steady_clock;
  const auto every = std::chrono::microseconds(options_.save_every_us);
  auto last_save = steady_clock::now();
  steady_clock::duration took{};  // by the last snapshot
  std::string last_error;
  auto report = [&](const Status& s) {
    if (!options_.log) return;
    if (!s.ok() && s.error().message() != last_error) {
      last_error = s.error().message();
      options_.log("state_dir " + options_.dir + ": " + last_error +
                   " (state may not survive a restart until this is fixed)");
    } else if (s.ok() && !last_error.empty()) {
      last_error.clear();
      options_.log("state_dir " + options_.dir + ": writing state works again");
    }
  };
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Status synced = journal_->Sync();
    // A large state waits longer: writing it takes at most a tenth of the time.
    if (store_.changes() != saved_changes_ &&
        steady_clock::now() - last_save >= std::max<steady_clock::duration>(every, 10 * took)) {
      last_save = steady_clock::now();
      Status saved = Save();
      took = steady_clock::now() - last_save;
      report(saved.ok() ? synced : saved);
    } else {
      report(synced);
    }
    lock.lock();
  }
}

void StateDir::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status StateDir::Close() {
  Stop();
  Status s = Save();
  store_.SetJournal(nullptr);
  return s;
}

}  // namespace floodgate::store
