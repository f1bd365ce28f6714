#include "store/memory_store.h"

namespace floodgate::store {

policy::WindowState& MemoryStore::Slot(Entry& e, Micros period) {
  for (auto& [p, state] : e.windows) {
    if (p == period) return state;
  }
  return e.windows.emplace_back(period, policy::WindowState{}).second;
}

Result<CheckOutcome> MemoryStore::Check(const std::vector<LimitCheck>& checks) {
  std::lock_guard lock(mu_);
  const Micros now = clock_.now();
  if (++checks_since_sweep_ >= kSweepEvery) SweepLocked(now);

  // Copy the states in, apply, copy them back: ApplyChecks works on plain vectors so
  // that the Redis script and this store share one definition of the arithmetic.
  std::vector<std::vector<policy::WindowState>> states(checks.size());
  for (std::size_t i = 0; i < checks.size(); ++i) {
    auto it = entries_.find(checks[i].key);
    for (const WindowSpec& w : checks[i].windows) {
      policy::WindowState s;
      if (it != entries_.end() && it->second.expires_at > now) s = Slot(it->second, w.period_us);
      states[i].push_back(s);
    }
  }
  CheckOutcome outcome = policy::ApplyChecks(checks, states, now);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    Entry& e = entries_[checks[i].key];
    if (e.expires_at <= now) e.windows.clear();
    for (std::size_t j = 0; j < checks[i].windows.size(); ++j) {
      Slot(e, checks[i].windows[j].period_us) = states[i][j];
    }
    Micros expires = 0;
    for (const auto& [period, state] : e.windows) {
      expires = std::max(expires, policy::ExpiresAt({state}));
    }
    e.expires_at = expires;
    if (expires <= now) entries_.erase(checks[i].key);
  }
  return outcome;
}

Status MemoryStore::Reset(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
  return OkStatus();
}

std::size_t MemoryStore::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void MemoryStore::SweepLocked(Micros now) {
  checks_since_sweep_ = 0;
  std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires_at <= now; });
}

}  // namespace floodgate::store
