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
#include <map>
#include <mutex>
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
