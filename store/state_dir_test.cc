// StateDir on a real directory: what survives a graceful stop, what survives kill -9 (the
// StateDir destroyed without Close, as a killed process writes nothing more), and what
// happens to files it cannot read.
#include "store/state_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace floodgate::store {
namespace {

namespace fs = std::filesystem;

constexpr Micros kSecond = 1'000'000;
constexpr Micros kHour = 3600 * kSecond;
const std::string kAlice = "fg:{account:alice@example.org}";

LimitCheck AliceCheck() {
  LimitCheck c;
  c.key = kAlice + ":submission";
  c.lock_key = kAlice + "!lock";
  c.windows = {WindowSpec{kHour, kHour / 3, kHour, 0, 3, 0, 0}};  // 3/1h
  return c;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fg-state-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<StateDir> Open(MemoryStore& store, StateDir::Loaded* loaded = nullptr) {
    StateDir::Options o;
    o.dir = dir_ + "/state";  // created by Open
    o.wall = &wall_;
    Result<std::unique_ptr<StateDir>> s = StateDir::Open(o, store, clock_, loaded);
    EXPECT_TRUE(s.ok()) << s.error().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::vector<std::string> Files() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ + "/state")) {
      names.push_back(e.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  // Everything a store shows the admin, as one comparable text.
  static std::string View(const MemoryStore& s) {
    std::string out;
    std::vector<std::string> keys = s.Keys("");
    std::sort(keys.begin(), keys.end());
    for (const std::string& key : keys) {
      out += key + ":";
      for (const auto& [period, w] : s.Windows(key)) {
        out += " " + std::to_string(period) + "=" + std::to_string(w.tat) + "/" +
               std::to_string(w.reported_until) + "/" + std::to_string(w.refused);
      }
      for (const std::string& item : s.List(key)) out += " [" + item + "]";
      if (auto lock = s.GetLock(key))
        out += " lock=" + lock->reason + "@" + std::to_string(lock->until);
      out += "\n";
    }
    return out;
  }

  std::string dir_;
  FakeClock clock_;
  FakeClock wall_{1'700'000'000'000'000};
};

TEST_F(StateDirTest, AGracefulStopKeepsLocksCountsQueueIdsAndEventsExactly) {
  std::string before;
  {
    MemoryStore store(clock_);
    auto state = Open(store);
    ASSERT_NE(state, nullptr);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(store.Check({AliceCheck()}).ok());
    store.SetLock(kAlice + "!lock", "hijacked", 0);  // until unlocked
    ASSERT_TRUE(store.Append(kAlice + "!queue", "4QID1", 5000, 6 * 24 * kHour).ok());
    ASSERT_TRUE(store.Append("fg:events", "event=locked", 1000, 7 * 24 * kHour).ok());
    before = View(store);
    ASSERT_TRUE(state->Close().ok());
  }
  MemoryStore store(clock_);
  StateDir::Loaded loaded;
  auto state = Open(store, &loaded);
  EXPECT_EQ(View(store), before);
  EXPECT_TRUE(loaded.problems.empty());
  EXPECT_NE(loaded.summary.find("1 counters, 1 locks, 0 network sets, 2 lists"), std::string::npos)
      << loaded.summary;
  EXPECT_EQ(store.GetLock(kAlice + "!lock")->until, MemoryStore::kNoExpiry);
  EXPECT_TRUE(store.Check({AliceCheck()})->limits[0].locked);
}

TEST_F(StateDirTest, AfterKillNineLocksAndQueueIdsComeBackFromTheJournal) {
  {
    MemoryStore store(clock_);
    auto state = Open(store);
    ASSERT_NE(state, nullptr);
    ASSERT_TRUE(store.Check({AliceCheck()}).ok());
    store.SetLock(kAlice + "!lock", "hijacked", 0);
    store.SetLock("fg:{account:bob@example.org}!lock", "burst", kHour);
    ASSERT_TRUE(store.Unlock("fg:{account:bob@example.org}!lock", {}));
    ASSERT_TRUE(store.Append(kAlice + "!queue", "4QID1", 5000, 6 * 24 * kHour).ok());
    ASSERT_TRUE(store.Append(kAlice + "!queue", "4QID2", 5000, 6 * 24 * kHour).ok());
    // No Close: a killed process writes no snapshot.
  }
  MemoryStore store(clock_);
  StateDir::Loaded loaded;
  auto state = Open(store, &loaded);
  EXPECT_EQ(store.GetLock(kAlice + "!lock")->reason, "hijacked");
  EXPECT_FALSE(store.GetLock("fg:{account:bob@example.org}!lock").has_value()) << "unlocked";
  EXPECT_EQ(store.List(kAlice + "!queue"), (std::vector<std::string>{"4QID2", "4QID1"}));
  // The count came after the last snapshot: counts may lose the last few seconds.
  EXPECT_TRUE(store.Windows(kAlice + ":submission").empty());
  EXPECT_TRUE(loaded.problems.empty());
}

TEST_F(StateDirTest, ATornJournalTailIsReportedAndWhatCameBeforeIsKept) {
  {
    MemoryStore store(clock_);
    auto state = Open(store);
    store.SetLock(kAlice + "!lock", "hijacked", 0);
  }
  std::string journal;
  for (const std::string& f : Files()) {
    if (f.starts_with("journal-")) journal = dir_ + "/state/" + f;
  }
  ASSERT_FALSE(journal.empty());
  std::ofstream(journal, std::ios::app | std::ios::binary) << std::string("\x40\0\0\0\x12", 5);
  MemoryStore store(clock_);
  StateDir::Loaded loaded;
  auto state = Open(store, &loaded);
  ASSERT_TRUE(store.GetLock(kAlice + "!lock").has_value());
  ASSERT_EQ(loaded.problems.size(), 1u);
  EXPECT_NE(loaded.problems[0].find("ignored its last 5 bytes"), std::string::npos)
      << loaded.problems[0];
}

TEST_F(StateDirTest, ACorruptStateFileIsMovedAsideAndTheStoreStartsEmpty) {
  fs::create_directory(dir_ + "/state");
  const std::string garbage = "FGSTATE\nthis was never written by floodgate, padding......";
  std::ofstream(dir_ + "/state/state", std::ios::binary) << garbage;
  MemoryStore store(clock_);
  StateDir::Loaded loaded;
  auto state = Open(store, &loaded);
  ASSERT_NE(state, nullptr) << "floodgate starts, empty";
  EXPECT_EQ(store.Keys(""), std::vector<std::string>{});
  ASSERT_EQ(loaded.problems.size(), 1u);
  EXPECT_NE(loaded.problems[0].find("refused"), std::string::npos) << loaded.problems[0];
  EXPECT_NE(loaded.problems[0].find("moved to"), std::string::npos) << loaded.problems[0];
  std::string moved;
  for (const std::string& f : Files()) {
    if (f.starts_with("state.refused-")) moved = f;
  }
  ASSERT_FALSE(moved.empty());
  EXPECT_EQ(ReadAll(dir_ + "/state/" + moved), garbage) << "kept as it was";
  EXPECT_NE(loaded.problems[0].find(moved), std::string::npos);
}

TEST_F(StateDirTest, AStateFileOfAnotherVersionIsMovedAsideWithItsVersionNamed) {
  {
    MemoryStore store(clock_);
    auto state = Open(store);
    store.SetLock(kAlice + "!lock", "hijacked", 0);
    ASSERT_TRUE(state->Close().ok());
  }
  std::string file = ReadAll(dir_ + "/state/state");
  file[8] = 9;
  std::ofstream(dir_ + "/state/state", std::ios::binary | std::ios::trunc) << file;
  MemoryStore store(clock_);
  StateDir::Loaded loaded;
  auto state = Open(store, &loaded);
  ASSERT_NE(state, nullptr);
  ASSERT_FALSE(loaded.problems.empty());
  EXPECT_NE(loaded.problems[0].find("format version 9, but this floodgate reads versions 1 to 2"),
            std::string::npos)
      << loaded.problems[0];
}

TEST_F(StateDirTest, DowntimeCountsAgainstTimedLocksButNotUntilUnlocked) {
  {
    MemoryStore store(clock_);
    auto state = Open(store);
    store.SetLock(kAlice + "!lock", "admin", 0);
    store.SetLock("fg:{account:bob@example.org}!lock", "burst", kHour);
    ASSERT_TRUE(state->Close().ok());
  }
  wall_.Advance(2 * kHour);  // down for two hours; the store clock restarted at boot
  FakeClock rebooted(5 * kSecond);
  MemoryStore store(rebooted);
  StateDir::Options o;
  o.dir = dir_ + "/state";
  o.wall = &wall_;
  auto state = StateDir::Open(o, store, rebooted, nullptr);
  ASSERT_TRUE(state.ok()) << state.error().message();
  EXPECT_TRUE(store.GetLock(kAlice + "!lock").has_value());
  EXPECT_FALSE(store.GetLock("fg:{account:bob@example.org}!lock").has_value())
      << "its hour passed while floodgate was down";
}

TEST_F(StateDirTest, TwoFloodgatesCannotShareADirectory) {
  MemoryStore a(clock_), b(clock_);
  auto first = Open(a);
  ASSERT_NE(first, nullptr);
  StateDir::Options o;
  o.dir = dir_ + "/state";
  Result<std::unique_ptr<StateDir>> second = StateDir::Open(o, b, clock_, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("in use by another floodgate"), std::string::npos);
}

// Appends from two threads while snapshots rotate the journal under them, then kill -9:
// every queue id comes back, once, in the order each list got them.
TEST_F(StateDirTest, AppendsDuringSnapshotsAllComeBackAfterKillNine) {
  std::vector<std::string> before[2];
  {
    MemoryStore store(clock_);
    auto state = Open(store);
    ASSERT_NE(state, nullptr);
    std::atomic<bool> done{false};
    std::thread writers[2];
    for (int t = 0; t < 2; ++t) {
      writers[t] = std::thread([&, t] {
        for (int i = 0; i < 2000; ++i) {
          ASSERT_TRUE(
              store.Append("list" + std::to_string(t), std::to_string(i), 5000, kHour).ok());
        }
      });
    }
    std::thread saver([&] {
      while (!done.load()) ASSERT_TRUE(state->Save().ok());
    });
    for (std::thread& w : writers) w.join();
    done = true;
    saver.join();
    for (int t = 0; t < 2; ++t) before[t] = store.List("list" + std::to_string(t));
  }
  MemoryStore store(clock_);
  auto state = Open(store);
  for (int t = 0; t < 2; ++t) {
    ASSERT_EQ(before[t].size(), 2000u);
    EXPECT_EQ(store.List("list" + std::to_string(t)), before[t]) << "list" << t;
  }
}

TEST_F(StateDirTest, OnlyTheNewestSnapshotAndItsJournalRemain) {
  MemoryStore store(clock_);
  auto state = Open(store);
  for (int i = 0; i < 3; ++i) {
    store.SetLock(kAlice + "!lock", "x" + std::to_string(i), 0);
    ASSERT_TRUE(state->Save().ok());
  }
  EXPECT_EQ(Files(), (std::vector<std::string>{"journal-4", "lock", "state"}));
}

}  // namespace
}  // namespace floodgate::store
