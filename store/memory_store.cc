#include "store/memory_store.h"

#include <algorithm>

namespace floodgate::store {

policy::WindowState& MemoryStore::Slot(Entry& e, Micros period) {
  for (auto& [p, state] : e.windows) {
    if (p == period) return state;
  }
  return e.windows.emplace_back(period, policy::WindowState{}).second;
}

policy::SubjectState MemoryStore::SubjectLocked(const LimitCheck& c, Micros now) {
  policy::SubjectState s;
  if (c.lock_key.empty()) return s;
  if (auto it = locks_.find(c.lock_key); it != locks_.end() && it->second.until > now) {
    s.locked = true;
    s.lock_reason = it->second.reason;
  }
  if (c.max_networks > 0 && !c.network.empty()) {
    NetworkSet& set = networks_[c.lock_key];
    set.window_us = c.networks_window_us;
    auto& seen = set.seen;
    std::erase_if(seen, [&](const auto& kv) { return kv.second <= now - set.window_us; });
    seen[c.network] = now;
    while (seen.size() > static_cast<std::size_t>(c.max_networks) + 1) {
      seen.erase(std::min_element(seen.begin(), seen.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      }));
    }
    s.distinct_networks = static_cast<std::int64_t>(seen.size());
  }
  return s;
}

void MemoryStore::Store(const LimitCheck& c, const std::vector<policy::WindowState>& states,
                        Micros now) {
  Entry& e = entries_[c.key];
  if (e.expires_at <= now) e.windows.clear();
  for (std::size_t j = 0; j < c.windows.size(); ++j) Slot(e, c.windows[j].period_us) = states[j];
  Micros expires = 0;
  for (const auto& [period, s] : e.windows) expires = std::max({expires, s.tat, s.reported_until});
  e.expires_at = expires;
  if (expires <= now) entries_.erase(c.key);
}

Result<CheckOutcome> MemoryStore::Check(const std::vector<LimitCheck>& checks) {
  std::lock_guard lock(mu_);
  const Micros now = clock_.now();
  if (++checks_since_sweep_ >= kSweepEvery) SweepLocked(now);

  // Copy the states in, apply, copy them back: ApplyChecks works on plain vectors so
  // that the Redis script and this store share one definition of the arithmetic.
  std::vector<std::vector<policy::WindowState>> states(checks.size());
  std::vector<policy::SubjectState> subjects;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    auto it = entries_.find(checks[i].key);
    const bool live = it != entries_.end() && it->second.expires_at > now;
    for (const WindowSpec& w : checks[i].windows) {
      states[i].push_back(live ? Slot(it->second, w.period_us) : policy::WindowState{});
    }
    subjects.push_back(SubjectLocked(checks[i], now));
  }
  CheckOutcome outcome = policy::ApplyChecks(checks, states, subjects, now);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    Store(checks[i], states[i], now);
    if (outcome.limits[i].newly_locked) {
      locks_[checks[i].lock_key] = {outcome.limits[i].lock_reason, now + checks[i].lock_ttl_us};
    }
  }
  return outcome;
}

Status MemoryStore::Reset(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
  return OkStatus();
}

Status MemoryStore::Append(const std::string& key, const std::string& value, std::size_t max_len,
                           Micros ttl_us) {
  std::lock_guard lock(mu_);
  const Micros now = clock_.now();
  ListEntry& l = lists_[key];
  if (l.expires_at <= now) l.items.clear();
  l.items.push_front(value);
  while (l.items.size() > max_len) l.items.pop_back();
  l.expires_at = now + ttl_us;
  return OkStatus();
}

Result<std::int64_t> MemoryStore::CountActiveLocks() {
  std::lock_guard lock(mu_);
  const Micros now = clock_.now();
  return static_cast<std::int64_t>(std::count_if(
      locks_.begin(), locks_.end(), [now](const auto& kv) { return kv.second.until > now; }));
}

std::vector<std::string> MemoryStore::List(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = lists_.find(key);
  if (it == lists_.end() || it->second.expires_at <= clock_.now()) return {};
  return {it->second.items.begin(), it->second.items.end()};
}

std::size_t MemoryStore::size() const {
  std::lock_guard lock(mu_);
  return entries_.size() + locks_.size() + networks_.size() + lists_.size();
}

void MemoryStore::SweepLocked(Micros now) {
  checks_since_sweep_ = 0;
  std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires_at <= now; });
  std::erase_if(locks_, [now](const auto& kv) { return kv.second.until <= now; });
  std::erase_if(lists_, [now](const auto& kv) { return kv.second.expires_at <= now; });
  // A network set holds nothing once its newest entry is older than its window.
  std::erase_if(networks_, [now](const auto& kv) {
    Micros newest = 0;
    for (const auto& [net, seen] : kv.second.seen) newest = std::max(newest, seen);
    return newest <= now - kv.second.window_us;
  });
}

}  // namespace floodgate::store
