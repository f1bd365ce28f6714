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
    if (checks[i].hold_max <= 0) continue;
    auto held = lists_.find(checks[i].held_key);
    outcome.limits[i].hold_full =
        held != lists_.end() && held->second.expires_at > now &&
        held->second.items.size() >= static_cast<std::size_t>(checks[i].hold_max);
  }
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

std::vector<std::string> MemoryStore::Keys(const std::string& prefix) const {
  std::lock_guard lock(mu_);
  const Micros now = clock_.now();
  std::vector<std::string> keys;
  auto add = [&](const std::string& key, bool live) {
    if (live && key.starts_with(prefix)) keys.push_back(key);
  };
  for (const auto& [key, e] : entries_) add(key, e.expires_at > now);
  for (const auto& [key, l] : locks_) add(key, l.until > now);
  for (const auto& [key, n] : networks_) add(key + ":networks", !n.seen.empty());
  for (const auto& [key, l] : lists_) add(key, l.expires_at > now);
  return keys;
}

std::map<std::string, std::string> MemoryStore::Fields(const std::string& key) const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> fields;
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.expires_at <= clock_.now()) return fields;
  for (const auto& [period, w] : it->second.windows) {
    const std::string p = std::to_string(period);
    fields["t" + p] = std::to_string(w.tat);
    if (w.reported_until != 0) {
      fields["r" + p] = std::to_string(w.reported_until);
      fields["n" + p] = std::to_string(w.refused);
    }
  }
  return fields;
}

std::optional<MemoryStore::LockInfo> MemoryStore::GetLock(const std::string& lock_key) const {
  std::lock_guard lock(mu_);
  auto it = locks_.find(lock_key);
  if (it == locks_.end() || it->second.until <= clock_.now()) return std::nullopt;
  return LockInfo{it->second.reason, it->second.until};
}

void MemoryStore::SetLock(const std::string& lock_key, const std::string& reason, Micros ttl_us) {
  std::lock_guard lock(mu_);
  locks_[lock_key] = {reason, ttl_us > 0 ? clock_.now() + ttl_us : kNoExpiry};
}

bool MemoryStore::Unlock(const std::string& lock_key, const std::vector<std::string>& limit_keys) {
  std::lock_guard lock(mu_);
  const Micros now = clock_.now();
  auto it = locks_.find(lock_key);
  const bool was_locked = it != locks_.end() && it->second.until > now;
  if (it != locks_.end()) locks_.erase(it);
  networks_.erase(lock_key);
  for (const std::string& key : limit_keys) {
    if (auto e = entries_.find(key); e != entries_.end()) {
      for (auto& [period, w] : e->second.windows) w.refused = 0;
    }
  }
  return was_locked;
}

std::int64_t MemoryStore::Delete(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  const Micros now = clock_.now();
  std::int64_t deleted = 0;
  for (const std::string& key : keys) {
    if (auto it = entries_.find(key); it != entries_.end()) {
      if (it->second.expires_at > now) ++deleted;
      entries_.erase(it);
    } else if (auto l = lists_.find(key); l != lists_.end()) {
      if (l->second.expires_at > now) ++deleted;
      lists_.erase(l);
    }
  }
  return deleted;
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
