// The memory store's own behaviour beyond the CounterStore contract (which
// tests/integration/store_conformance_test.cc holds it to): the max_subjects bound, and
// Export/Import keeping everything it holds.
#include "store/memory_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace floodgate::store {
namespace {

constexpr Micros kSecond = 1'000'000;
constexpr Micros kHour = 3600 * kSecond;

LimitCheck Account(const std::string& who, std::int64_t amount = 10, Micros period = kHour) {
  LimitCheck c;
  c.key = "fg:{account:" + who + "}:submission";
  c.lock_key = "fg:{account:" + who + "}!lock";
  c.windows = {WindowSpec{period, period / amount, period, 0, amount, 0, 0}};
  return c;
}

// Decodes what `from` exports into `to`, as a restart does.
void CopyState(MemoryStore& from, MemoryStore& to, state::Stamp stamp) {
  std::string file;
  state::StartSnapshot(&file, 1, stamp);
  const std::size_t records = from.Export(&file, nullptr, /*slots_per_hold=*/7);
  state::FinishSnapshot(&file, records);
  to.Import([&](state::Visitor& v) {
    Result<state::SnapshotInfo> info = state::DecodeSnapshot(file, stamp, v);
    ASSERT_TRUE(info.ok()) << info.error().message();
  });
}

TEST(MemoryStoreTest, AFullStoreForgetsTheSubjectsNearestToIdleFirst) {
  FakeClock clock;
  MemoryStore store(clock, {.max_subjects = 128});
  // "busy-N" used N+1 units of 10/h: the more used, the later its window empties.
  for (int i = 0; i < 128; ++i) {
    LimitCheck c = Account("busy-" + std::to_string(i));
    c.cost = 1 + i % 9;
    ASSERT_TRUE(store.Check({c}).ok());
  }
  EXPECT_EQ(store.sizes().counters, 128u);
  // New subjects arrive: the store stays bounded and the most idle (cost 1) go first.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store.Check({Account("new-" + std::to_string(i))}).ok());
  const MemoryStore::Sizes sizes = store.sizes();
  EXPECT_LE(sizes.counters, 128u);
  EXPECT_GT(sizes.evicted, 0u);
  for (int i = 0; i < 128; ++i) {
    const bool kept = !store.Windows(Account("busy-" + std::to_string(i)).key).empty();
    if (i % 9 >= 1) {
      EXPECT_TRUE(kept) << "busy-" << i << " used " << 1 + i % 9 << " units";
    }
  }
  EXPECT_FALSE(store.Windows(Account("new-19").key).empty()) << "the newest key is kept";
}

TEST(MemoryStoreTest, EvictionNeverForgetsALock) {
  FakeClock clock;
  MemoryStore store(clock, {.max_subjects = 16});
  store.SetLock(Account("locked").lock_key, "admin", 0);
  store.SetLock(Account("locked-1h").lock_key, "burst", kHour);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(store.Check({Account(std::to_string(i))}).ok());
  EXPECT_LE(store.sizes().counters, 16u);
  EXPECT_EQ(store.sizes().locks, 2u);
  ASSERT_TRUE(store.GetLock(Account("locked").lock_key).has_value());
  EXPECT_EQ(store.GetLock(Account("locked").lock_key)->until, MemoryStore::kNoExpiry);
  EXPECT_TRUE(store.Check({Account("locked")})->limits[0].locked);
}

TEST(MemoryStoreTest, NetworkSetsAndListsAreBoundedToo) {
  FakeClock clock;
  MemoryStore store(clock, {.max_subjects = 32});
  for (int i = 0; i < 500; ++i) {
    LimitCheck c = Account(std::to_string(i));
    c.max_networks = 3;
    c.networks_window_us = kHour;
    c.network = "198.51.100.0/24";
    ASSERT_TRUE(store.Check({c}).ok());
    ASSERT_TRUE(store
                    .Append("fg:{account:" + std::to_string(i) + "}!queue", "Q" + std::to_string(i),
                            10, kHour)
                    .ok());
  }
  const MemoryStore::Sizes sizes = store.sizes();
  EXPECT_LE(sizes.counters, 32u);
  EXPECT_LE(sizes.network_sets, 32u);
  EXPECT_LE(sizes.lists, 32u);
  EXPECT_EQ(store.List("fg:{account:499}!queue"), std::vector<std::string>{"Q499"});
}

TEST(MemoryStoreTest, ACheckWithoutWindowsStoresNothingButSeesTheLock) {
  FakeClock clock;
  MemoryStore store(clock);
  LimitCheck c = Account("free");
  c.windows.clear();
  ASSERT_TRUE(store.Check({c}).ok());
  EXPECT_EQ(store.sizes().counters, 0u);
  store.SetLock(c.lock_key, "admin", 0);
  EXPECT_TRUE(store.Check({c})->limits[0].locked);
}

TEST(MemoryStoreTest, ListsKeepTheNewestMaxLenItems) {
  FakeClock clock;
  MemoryStore store(clock);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store.Append("l", std::to_string(i), 8, kHour).ok());
  EXPECT_EQ(store.List("l"),
            (std::vector<std::string>{"99", "98", "97", "96", "95", "94", "93", "92"}));
}

TEST(MemoryStoreTest, ExportAndImportKeepEverythingItHolds) {
  FakeClock clock;
  MemoryStore a(clock);
  LimitCheck c = Account("alice@example.org", 3);
  c.max_networks = 1;
  c.networks_window_us = kHour;
  c.network = "203.0.113.0/24";
  c.lock_ttl_us = kHour;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a.Check({c}).ok());  // 3 allowed, 2 refused
  a.SetLock("fg:{account:bob@example.org}!lock", "admin", 0);
  a.SetLock("fg:{account:carol@example.org}!lock", "hijacked", kHour);
  ASSERT_TRUE(a.Append("fg:{account:alice@example.org}!queue", "4QID1", 5000, 6 * kHour).ok());
  ASSERT_TRUE(a.Append("fg:{account:alice@example.org}!queue", "4QID2", 5000, 6 * kHour).ok());
  ASSERT_TRUE(a.Append("fg:events", "event=locked subject=bob", 1000, 24 * kHour).ok());

  MemoryStore b(clock);
  CopyState(a, b, {clock.now(), 1'700'000'000'000'000});
  std::vector<std::string> keys = a.Keys(""), restored = b.Keys("");
  std::sort(keys.begin(), keys.end());
  std::sort(restored.begin(), restored.end());
  EXPECT_EQ(restored, keys);
  EXPECT_EQ(keys.size(), 6u);
  for (const std::string& key : keys) {
    EXPECT_EQ(b.Windows(key), a.Windows(key)) << key;
    EXPECT_EQ(b.List(key), a.List(key)) << key;
  }
  ASSERT_TRUE(b.GetLock("fg:{account:bob@example.org}!lock").has_value());
  EXPECT_EQ(b.GetLock("fg:{account:bob@example.org}!lock")->until, MemoryStore::kNoExpiry);
  EXPECT_EQ(b.GetLock("fg:{account:carol@example.org}!lock")->until,
            a.GetLock("fg:{account:carol@example.org}!lock")->until);
  // The restored network set still holds alice's network: a second one is one too many.
  c.network = "198.51.100.0/24";
  const CheckOutcome o = *b.Check({c});
  EXPECT_TRUE(o.limits[0].newly_locked);
  EXPECT_EQ(o.limits[0].lock_reason, "too_many_networks");
}

// Keeps journal payloads in memory, and where the snapshot's rotation fell among them.
class MemoryJournal final : public MemoryStore::Journal {
 public:
  std::uint64_t Record(std::string_view payload) override {
    payloads.emplace_back(payload);
    return payloads.size();
  }
  void Flush(std::uint64_t) override {}
  std::vector<std::string> payloads;
};

// Export runs a few slots per hold while checks add keys (the table grows under it) and
// appends go on: the snapshot plus the journal after its rotation point rebuild exactly
// the store as it ended, with no append lost or doubled.
TEST(MemoryStoreTest, AnExportInManyHoldsPlusItsJournalRebuildsTheStoreExactly) {
  FakeClock clock;
  MemoryStore a(clock);
  MemoryJournal journal;
  a.SetJournal(&journal);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(a.Check({Account("old-" + std::to_string(i))}).ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(a.Append("fg:{account:old-" + std::to_string(i % 20) + "}!queue",
                         "q" + std::to_string(i), 50, kHour)
                    .ok());
  }
  std::atomic<bool> started{false};
  std::thread writer([&] {
    while (!started.load()) std::this_thread::yield();
    for (int i = 0; i < 3000; ++i) {
      ASSERT_TRUE(a.Check({Account("new-" + std::to_string(i))}).ok());
      ASSERT_TRUE(a.Append("fg:{account:old-" + std::to_string(i % 20) + "}!queue",
                           "w" + std::to_string(i), 50, kHour)
                      .ok());
      if (i % 100 == 0) a.SetLock("fg:{account:new-" + std::to_string(i) + "}!lock", "admin", 0);
    }
  });
  const state::Stamp stamp{clock.now(), 1'700'000'000'000'000};
  std::string file;
  state::StartSnapshot(&file, 1, stamp);
  std::size_t rotation = 0;
  const std::size_t records = a.Export(
      &file,
      [&] {
        rotation = journal.payloads.size();
        started = true;
      },
      /*slots_per_hold=*/16);
  writer.join();
  state::FinishSnapshot(&file, records);

  std::string journal_file = state::JournalHeader(2, stamp);
  for (std::size_t i = rotation; i < journal.payloads.size(); ++i) {
    journal_file += state::JournalFrame(journal.payloads[i]);
  }
  MemoryStore b(clock);
  b.Import([&](state::Visitor& v) {
    ASSERT_TRUE(state::DecodeSnapshot(file, stamp, v).ok());
    ASSERT_TRUE(state::DecodeJournal(journal_file, stamp, v).ok());
  });
  for (int i = 0; i < 20; ++i) {
    const std::string key = "fg:{account:old-" + std::to_string(i) + "}!queue";
    EXPECT_EQ(b.List(key), a.List(key)) << key;
  }
  for (int i = 0; i < 2000; ++i) {
    const std::string key = Account("old-" + std::to_string(i)).key;
    ASSERT_EQ(b.Windows(key), a.Windows(key)) << key;
  }
  for (int i = 0; i < 3000; i += 100) {
    const std::string key = "fg:{account:new-" + std::to_string(i) + "}!lock";
    EXPECT_TRUE(b.GetLock(key).has_value()) << key;
  }
}

}  // namespace
}  // namespace floodgate::store
