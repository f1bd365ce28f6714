// MemoryStore: the embedded CounterStore. One process, no Redis.
//
// It applies policy::ApplyChecks under one mutex, so every Check is atomic exactly like
// the Redis script. What it holds, each in a compact BlockTable (one allocation per key):
// the windows of each limit key, each subject's distinct-network and recipient-domain
// sets, and the lists
// (events, queue ids); locks sit in a small map of their own. Keys that hold nothing any
// more are swept a few slots at a time as checks go by. With max_subjects > 0 each table
// holds at most that many keys: a new key then first forgets the keys that expire soonest
// (whose windows are nearest to empty); locks are never forgotten.
//
// Durability is outside this class (store/state_dir.h). Export writes every live record
// a few thousand slots per hold of the mutex (each hold well under a millisecond), so a
// check never waits for a whole snapshot; while it runs nothing moves in the tables
// (sweeps pause, deletions empty a key in place, a full table may overshoot max_subjects
// by an eighth) and a table that grows is scanned again. Import applies decoded records.
// A Journal, when set, receives each lock, unlock, list append and delete as it happens,
// under the mutex, in order. The store is also the in-process fallback when Redis is
// down (on_error = local), which keeps nothing on disk.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "floodgate/clock.h"
#include "floodgate/counter_store.h"
#include "policy/gcra.h"
#include "store/block_table.h"
#include "store/memory_blocks.h"
#include "store/state_format.h"

namespace floodgate::store {

class MemoryStore final : public CounterStore {
 public:
  struct Options {
    std::size_t max_subjects = 0;  // per table (limit keys, network sets, lists); 0: no bound
  };
  // Where journal records go (state_format.h RecordWriter payloads). Record runs under the
  // store's mutex, in the order of the changes, and only queues; Flush(ticket) runs after
  // the mutex is released and returns once that record is written, so a call that changed
  // something returns after its record reached the file but checks never wait for a write.
  class Journal {
   public:
    virtual ~Journal() = default;
    virtual std::uint64_t Record(std::string_view payload) = 0;  // its ticket
    virtual void Flush(std::uint64_t ticket) = 0;
  };

  explicit MemoryStore(const Clock& clock) : MemoryStore(clock, Options{}) {}
  MemoryStore(const Clock& clock, Options options);
  ~MemoryStore() override;

  Result<CheckOutcome> Check(const std::vector<LimitCheck>& checks) override;
  Status Reset(const std::string& key) override;
  Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                Micros ttl_us) override;
  // Counts its unexpired locks: the store is the whole truth here (one host).
  Result<std::int64_t> CountActiveLocks() override;
  const char* name() const override { return "memory"; }
  // The list `key` (newest first), for tests and the in-process admin view.
  std::vector<std::string> List(const std::string& key) const;

  // What it holds (tests, the start-up log): keys per table, and keys forgotten to stay
  // within max_subjects since the start.
  struct Sizes {
    std::size_t counters = 0;
    std::size_t locks = 0;
    std::size_t network_sets = 0;
    std::size_t domain_sets = 0;
    std::size_t lists = 0;
    std::uint64_t evicted = 0;
  };
  Sizes sizes() const;

  // The admin view (floodgatectl through the daemon's admin socket, admin/): the same
  // facts the Redis store keeps, under the same key names.
  Micros Now() const { return clock_.now(); }
  // Live keys that start with `prefix`: limit keys, lock keys, network and domain sets
  // (lock key + ":networks" / ":domains", as the Redis store names them) and lists.
  std::vector<std::string> Keys(const std::string& prefix) const;
  // How many members of a network or domain set (named as Keys() names it) were last seen
  // after `since`.
  std::int64_t Distinct(const std::string& set_key, Micros since) const;
  // A limit key's windows by period; empty when it holds nothing.
  policy::StoredWindows Windows(const std::string& key) const;
  struct LockInfo {
    std::string reason;
    Micros until = 0;  // kNoExpiry: until unlocked
  };
  static constexpr Micros kNoExpiry = state::kNever;
  std::optional<LockInfo> GetLock(const std::string& lock_key) const;
  // ttl_us 0: until unlocked.
  void SetLock(const std::string& lock_key, const std::string& reason, Micros ttl_us);
  // Drops the lock and the subject's network and domain sets and forgets the refused units counted
  // in `limit_keys` (what caused the lock would lock it again); the buckets stay. True when a lock
  // was live.
  bool Unlock(const std::string& lock_key, const std::vector<std::string>& limit_keys);
  // Forgets limit keys and lists; returns how many held something.
  std::int64_t Delete(const std::vector<std::string>& keys);

  // Persistence (store/state_dir.h). `journal` may be null (none); it must outlive its use.
  void SetJournal(Journal* journal);
  // Appends every live record to *out. `under_lock` runs in the first hold of the mutex,
  // with the locks (it starts the next journal: locks and journal meet exactly; the rest
  // is written in later holds, and replay of the journal over it is idempotent). Returns
  // the number of records. One Export at a time.
  std::size_t Export(std::string* out, const std::function<void()>& under_lock,
                     std::size_t slots_per_hold = 4096);
  // Under the mutex: `decode` feeds records (a snapshot, then journals) to the visitor it
  // is given, which applies them; nothing is journaled meanwhile.
  void Import(const std::function<void(state::Visitor&)>& decode);
  // Grows with every change; equal values mean nothing changed in between.
  std::uint64_t changes() const { return changes_.load(std::memory_order_relaxed); }

 private:
  struct LockEntry {
    std::string reason;
    Micros until = 0;
  };
  class Restorer;
  class Hold;
  static constexpr unsigned kSweepEvery = 64;  // checks between two incremental sweeps

  policy::SubjectState SubjectLocked(const LimitCheck& c, Micros now);
  // Adds `hashes` to the `kind` set of the subject `lock_key` (entries seen within
  // window_us, at most `cap`, the oldest go) and returns how many it holds.
  std::int64_t SeeLocked(const std::string& lock_key, SetKind kind,
                         std::span<const std::uint64_t> hashes, std::int64_t cap, Micros window_us,
                         Micros now);
  void RestoreSetLocked(std::string_view lock_key, SetKind kind, Micros window_us,
                        std::span<const state::SeenNetwork> seen, Micros now);
  void StoreLocked(const LimitCheck& c, const std::vector<policy::WindowState>& states, Micros now);
  void SetLockLocked(const std::string& lock_key, std::string_view reason, Micros until);
  bool UnlockLocked(std::string_view lock_key, std::span<const std::string> limit_keys, Micros now);
  // seq 0: a new append (numbered here); else a replayed one, skipped if the list has it.
  void AppendLocked(std::string_view key, std::string_view value, std::size_t max_len,
                    Micros expires_at, Micros now, std::uint64_t seq);
  std::int64_t DeleteLocked(std::span<const std::string> keys, Micros now);
  void SweepLocked(Micros now);
  template <class B>
  void MakeRoomLocked(BlockTable<B>& table);
  void JournalLocked(const std::function<void(state::RecordWriter&)>& write);
  void Changed() { changes_.fetch_add(1, std::memory_order_relaxed); }

  const Clock& clock_;
  const Options options_;
  mutable std::mutex mu_;
  BlockTable<CounterBlock> counters_;
  BlockTable<SetBlock> sets_;  // by lock key
  BlockTable<ListBlock> lists_;
  std::unordered_map<std::string, LockEntry> locks_;
  Journal* journal_ = nullptr;
  std::uint64_t ticket_ = 0;  // of the last record journaled under the current hold
  unsigned checks_since_sweep_ = 0;
  unsigned sweeps_ = 0;
  std::size_t counter_cursor_ = 0, set_cursor_ = 0, list_cursor_ = 0;
  std::uint64_t evicted_ = 0;
  std::uint64_t seq_ = 0;   // of the last append
  bool exporting_ = false;  // an Export is between two holds of the mutex
  std::atomic<std::uint64_t> changes_{0};
};

}  // namespace floodgate::store
