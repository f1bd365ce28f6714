// MemoryStore: the embedded CounterStore. One process, no Redis, state lost on restart.
//
// It applies policy::ApplyChecks under one mutex, so every Check is atomic exactly like
// the Redis script. Keys whose windows, locks and network sets hold nothing any more are
// dropped by a sweep that runs every kSweepEvery checks, so memory stays bounded by the
// subjects active within their windows. It is also the in-process fallback when Redis is
// down (on_error = local).
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "floodgate/clock.h"
#include "floodgate/counter_store.h"
#include "policy/gcra.h"

namespace floodgate::store {

class MemoryStore final : public CounterStore {
 public:
  explicit MemoryStore(const Clock& clock) : clock_(clock) {}

  Result<CheckOutcome> Check(const std::vector<LimitCheck>& checks) override;
  Status Reset(const std::string& key) override;
  Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                Micros ttl_us) override;
  // Counts its unexpired locks: the store is the whole truth here (one host; floodgatectl
  // cannot reach it, so locks end only by expiry).
  Result<std::int64_t> CountActiveLocks() override;
  const char* name() const override { return "memory"; }
  // The list `key` (newest first), for tests and the in-process admin view.
  std::vector<std::string> List(const std::string& key) const;

  // Number of keys currently held (tests, metrics).
  std::size_t size() const;

  // The admin view (floodgatectl through the daemon's admin socket, admin/): the same
  // facts the Redis store keeps, under the same key names.
  Micros Now() const { return clock_.now(); }
  // Live keys that start with `prefix`: limit keys, lock keys, network sets (lock key +
  // ":networks", as RedisStore::NetworksKey names them) and lists.
  std::vector<std::string> Keys(const std::string& prefix) const;
  // A limit key's windows as check.lua's hash fields: t<period_us> (TAT) and, once a
  // refusal was reported, r<period_us> and n<period_us>. Empty when it holds nothing.
  std::map<std::string, std::string> Fields(const std::string& key) const;
  struct LockInfo {
    std::string reason;
    Micros until = 0;  // kNoExpiry: until unlocked
  };
  static constexpr Micros kNoExpiry = std::numeric_limits<Micros>::max();
  std::optional<LockInfo> GetLock(const std::string& lock_key) const;
  // ttl_us 0: until unlocked.
  void SetLock(const std::string& lock_key, const std::string& reason, Micros ttl_us);
  // Drops the lock and the subject's network set and forgets the refused units counted in
  // `limit_keys` (what caused the lock would lock it again); the buckets stay. True when
  // a lock was live.
  bool Unlock(const std::string& lock_key, const std::vector<std::string>& limit_keys);
  // Forgets limit keys and lists; returns how many held something.
  std::int64_t Delete(const std::vector<std::string>& keys);

 private:
  // Windows are named by period, like the Redis hash fields, so that a limit whose
  // numbers change keeps its history.
  struct Entry {
    std::vector<std::pair<Micros, policy::WindowState>> windows;  // (period, state)
    Micros expires_at = 0;
  };
  struct LockEntry {
    std::string reason;
    Micros until = 0;
  };
  // Distinct networks of one subject: network -> last seen; at most max_networks + 1
  // entries are kept (the oldest go first), which is all the decision needs.
  struct NetworkSet {
    std::map<std::string, Micros> seen;
    Micros window_us = 0;
  };
  struct ListEntry {
    std::deque<std::string> items;  // newest first
    Micros expires_at = 0;
  };
  static constexpr unsigned kSweepEvery = 4096;

  policy::WindowState& Slot(Entry& e, Micros period);
  policy::SubjectState SubjectLocked(const LimitCheck& c, Micros now);
  void Store(const LimitCheck& c, const std::vector<policy::WindowState>& states, Micros now);
  void SweepLocked(Micros now);

  const Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, LockEntry> locks_;
  std::unordered_map<std::string, NetworkSet> networks_;
  std::unordered_map<std::string, ListEntry> lists_;
  unsigned checks_since_sweep_ = 0;
};

}  // namespace floodgate::store
