#include "store/memory_store.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "floodgate/store_layout.h"

namespace floodgate::store {
namespace {

policy::WindowState ToState(const state::Window& w) {
  return {w.tat, w.reported_until, w.refused, w.period_end, w.accepted, w.usual};
}

}  // namespace

// Applies decoded records (snapshot, then journal replay) under the store's mutex.
class MemoryStore::Restorer final : public state::Visitor {
 public:
  Restorer(MemoryStore& s, Micros now) : s_(s), now_(now) {}

  void Counter(std::string_view key, std::span<const state::Window> windows) override {
    CounterBlock* b = CounterBlock::Make(key, windows.size());
    std::copy(windows.begin(), windows.end(), b->windows());
    const Micros expires = b->ExpiresAt();
    if (auto* slot = s_.counters_.Find(key)) s_.counters_.Erase(slot);
    if (expires <= now_) {
      CounterBlock::Destroy(b);
      return;
    }
    s_.MakeRoomLocked(s_.counters_);
    s_.counters_.Insert(b, CoarseSeconds(expires));
  }
  void Lock(std::string_view key, std::string_view reason, Micros until) override {
    s_.SetLockLocked(std::string(key), reason, until);
  }
  void Networks(std::string_view key, Micros window_us,
                std::span<const state::SeenNetwork> seen) override {
    s_.RestoreSetLocked(key, SetKind::kNetworks, window_us, seen, now_);
  }
  void Domains(std::string_view key, Micros window_us,
               std::span<const state::SeenNetwork> seen) override {
    s_.RestoreSetLocked(key, SetKind::kDomains, window_us, seen, now_);
  }
  void List(std::string_view key, Micros expires_at, std::uint32_t max_len, std::uint64_t seq,
            std::span<const std::string_view> items) override {
    if (auto* slot = s_.lists_.Find(key)) s_.lists_.Erase(slot);
    s_.seq_ = std::max(s_.seq_, seq);
    if (expires_at <= now_) return;
    std::size_t room = 0;
    for (std::string_view item : items) room += 2 + std::min(item.size(), kMaxItem);
    ListBlock* l = ListBlock::Make(key, room);
    l->expires_at = expires_at;
    l->max_len = max_len;
    l->seq = seq;
    for (std::string_view item : items) l = ListBlock::Push(l, item);
    s_.MakeRoomLocked(s_.lists_);
    s_.lists_.Insert(l, CoarseSeconds(expires_at));
  }
  void Unlock(std::string_view lock_key, std::span<const std::string_view> limit_keys) override {
    std::vector<std::string> keys(limit_keys.begin(), limit_keys.end());
    s_.UnlockLocked(lock_key, keys, now_);
  }
  void Append(std::string_view key, std::string_view value, std::uint32_t max_len,
              Micros expires_at, std::uint64_t seq) override {
    s_.AppendLocked(key, value, max_len, expires_at, now_, std::max<std::uint64_t>(seq, 1));
  }
  void Delete(std::span<const std::string_view> keys) override {
    std::vector<std::string> copy(keys.begin(), keys.end());
    s_.DeleteLocked(copy, now_);
  }

 private:
  MemoryStore& s_;
  Micros now_;
};

MemoryStore::MemoryStore(const Clock& clock, Options options) : clock_(clock), options_(options) {}

MemoryStore::~MemoryStore() = default;

template <class B>
void MemoryStore::MakeRoomLocked(BlockTable<B>& table) {
  // While an Export is between holds, nothing may move: up to an eighth more may come in.
  const std::size_t bound =
      options_.max_subjects + (exporting_ ? options_.max_subjects / 8 + 1 : 0);
  if (options_.max_subjects == 0 || table.size() < bound) return;
  // Forget a sixty-fourth at once: each eviction scans the table, so this keeps the cost
  // per new key constant.
  evicted_ += table.EvictSoonestExpiring(std::max<std::size_t>(
      1, table.size() - options_.max_subjects + 1 + options_.max_subjects / 64));
}

void MemoryStore::JournalLocked(const std::function<void(state::RecordWriter&)>& write) {
  Changed();
  if (journal_ == nullptr) return;
  std::string payload;
  state::RecordWriter w(&payload);
  write(w);
  ticket_ = journal_->Record(payload);
}

// The mutex, for calls that may journal: on the way out it releases the mutex and then
// waits for the call's journal record to be written.
class MemoryStore::Hold {
 public:
  explicit Hold(MemoryStore& s) : s_(s), lock_(s.mu_) {}
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;
  ~Hold() {
    Journal* journal = s_.journal_;
    const std::uint64_t ticket = std::exchange(s_.ticket_, 0);
    lock_.unlock();
    if (journal != nullptr && ticket != 0) journal->Flush(ticket);
  }

 private:
  MemoryStore& s_;
  std::unique_lock<std::mutex> lock_;
};

std::int64_t MemoryStore::SeeLocked(const std::string& lock_key, SetKind kind,
                                    std::span<const std::uint64_t> hashes, std::int64_t cap,
                                    Micros window_us, Micros now) {
  auto* slot = sets_.Find(lock_key);
  if (slot == nullptr) {
    MakeRoomLocked(sets_);
    slot = &sets_.Insert(SetBlock::Make(lock_key, 1), 0);
  }
  std::int64_t count = 0;
  slot->block = SetBlock::See(slot->block, kind, hashes,
                              static_cast<std::size_t>(std::min<std::int64_t>(cap, 0x7fff)),
                              window_us, now, &count);
  slot->expires_s = CoarseSeconds(slot->block->ExpiresAt());
  return count;
}

void MemoryStore::RestoreSetLocked(std::string_view lock_key, SetKind kind, Micros window_us,
                                   std::span<const state::SeenNetwork> seen, Micros now) {
  auto* slot = sets_.Find(lock_key);
  SetBlock* b = SetBlock::Restored(slot != nullptr ? slot->block : nullptr, lock_key, kind,
                                   window_us, seen, now);
  if (slot != nullptr) sets_.Erase(slot);
  if (b == nullptr) return;
  MakeRoomLocked(sets_);
  sets_.Insert(b, CoarseSeconds(b->ExpiresAt()));
}

policy::SubjectState MemoryStore::SubjectLocked(const LimitCheck& c, Micros now) {
  policy::SubjectState s;
  if (c.lock_key.empty()) return s;
  if (auto it = locks_.find(c.lock_key); it != locks_.end() && it->second.until > now) {
    s.locked = true;
    s.lock_reason = it->second.reason;
  }
  if (c.max_networks > 0 && !c.network.empty()) {
    const std::uint64_t hash = state::NetworkHash(c.network);
    s.distinct_networks = SeeLocked(c.lock_key, SetKind::kNetworks, std::span(&hash, 1),
                                    c.max_networks + 1, c.networks_window_us, now);
  }
  if (c.max_domains > 0 && !c.domains.empty()) {
    std::vector<std::uint64_t> hashes;
    hashes.reserve(c.domains.size());
    for (const std::string& token : c.domains) hashes.push_back(state::TokenHash(token));
    s.distinct_domains = SeeLocked(c.lock_key, SetKind::kDomains, hashes, c.max_domains + 1,
                                   c.domains_window_us, now);
  }
  return s;
}

void MemoryStore::StoreLocked(const LimitCheck& c, const std::vector<policy::WindowState>& states,
                              Micros now) {
  auto* slot = counters_.Find(c.key);
  CounterBlock* b = slot != nullptr ? slot->block : nullptr;
  if (b != nullptr && b->ExpiresAt() <= now) {
    for (state::Window& w : std::span(b->windows(), b->n)) w = {.period_us = w.period_us};
  }
  std::size_t missing = 0;
  for (const WindowSpec& w : c.windows) missing += (b == nullptr || !b->Find(w.period_us)) ? 1 : 0;
  if (missing > 0) {
    CounterBlock* grown = CounterBlock::Make(c.key, (b != nullptr ? b->n : 0) + missing);
    std::uint32_t n = 0;
    if (b != nullptr) {
      for (const state::Window& w : b->span()) grown->windows()[n++] = w;
    }
    for (const WindowSpec& w : c.windows) {
      if (b == nullptr || !b->Find(w.period_us)) grown->windows()[n++].period_us = w.period_us;
    }
    if (slot != nullptr) CounterBlock::Destroy(std::exchange(slot->block, grown));
    b = grown;
  }
  if (b == nullptr) return;  // a check without windows (only its lock counts) stores nothing
  for (std::size_t j = 0; j < c.windows.size(); ++j) {
    state::Window* w = b->Find(c.windows[j].period_us);
    const policy::WindowState& s = states[j];
    *w = {.period_us = w->period_us,
          .tat = s.tat,
          .reported_until = s.reported_until,
          .period_end = s.period_end,
          .usual = s.usual,
          .refused = state::Saturated(s.refused),
          .accepted = state::Saturated(s.accepted)};
  }
  const Micros expires = b->ExpiresAt();
  if (slot != nullptr) {  // one that holds nothing any more goes with the sweep
    slot->expires_s = CoarseSeconds(expires);
    return;
  }
  if (expires <= now) {
    CounterBlock::Destroy(b);
    return;
  }
  MakeRoomLocked(counters_);
  counters_.Insert(b, CoarseSeconds(expires));
}

Result<CheckOutcome> MemoryStore::Check(const std::vector<LimitCheck>& checks) {
  Hold hold(*this);
  const Micros now = clock_.now();
  if (++checks_since_sweep_ >= kSweepEvery) SweepLocked(now);

  // Copy the states in, apply, copy them back: ApplyChecks works on plain vectors so
  // that the Redis script and this store share one definition of the arithmetic.
  std::vector<std::vector<policy::WindowState>> states(checks.size());
  std::vector<policy::SubjectState> subjects;
  subjects.reserve(checks.size());
  for (std::size_t i = 0; i < checks.size(); ++i) {
    auto* slot = counters_.Find(checks[i].key);
    CounterBlock* b = slot != nullptr && slot->block->ExpiresAt() > now ? slot->block : nullptr;
    states[i].reserve(checks[i].windows.size());
    for (const WindowSpec& w : checks[i].windows) {
      const state::Window* have = b != nullptr ? b->Find(w.period_us) : nullptr;
      states[i].push_back(have != nullptr ? ToState(*have) : policy::WindowState{});
    }
    subjects.push_back(SubjectLocked(checks[i], now));
  }
  CheckOutcome outcome = policy::ApplyChecks(checks, states, subjects, now);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (checks[i].hold_max <= 0) continue;
    const auto* held = lists_.Find(checks[i].held_key);
    outcome.limits[i].hold_full =
        held != nullptr && held->block->expires_at > now &&
        held->block->Visible().size() >= static_cast<std::size_t>(checks[i].hold_max);
  }
  for (std::size_t i = 0; i < checks.size(); ++i) {
    StoreLocked(checks[i], states[i], now);
    if (outcome.limits[i].newly_locked) {
      SetLockLocked(checks[i].lock_key, outcome.limits[i].lock_reason, now + checks[i].lock_ttl_us);
    }
  }
  Changed();
  return outcome;
}

void MemoryStore::SetLockLocked(const std::string& lock_key, std::string_view reason,
                                Micros until) {
  locks_[lock_key] = {std::string(reason), until};
  JournalLocked([&](state::RecordWriter& w) { w.Lock(lock_key, reason, until); });
}

bool MemoryStore::UnlockLocked(std::string_view lock_key, std::span<const std::string> limit_keys,
                               Micros now) {
  auto it = locks_.find(std::string(lock_key));
  const bool was_locked = it != locks_.end() && it->second.until > now;
  if (it != locks_.end()) locks_.erase(it);
  if (auto* slot = sets_.Find(lock_key)) {
    if (exporting_) {  // emptied in place; the sweep takes it
      slot->block->n = 0;
      slot->expires_s = 0;
    } else {
      sets_.Erase(slot);
    }
  }
  for (const std::string& key : limit_keys) {
    if (auto* slot = counters_.Find(key)) {
      for (state::Window& w : std::span(slot->block->windows(), slot->block->n)) w.refused = 0;
    }
  }
  JournalLocked([&](state::RecordWriter& w) { w.Unlock(lock_key, limit_keys); });
  return was_locked;
}

void MemoryStore::AppendLocked(std::string_view key, std::string_view value, std::size_t max_len,
                               Micros expires_at, Micros now, std::uint64_t seq) {
  const bool replayed = seq != 0;
  seq = replayed ? seq : seq_ + 1;
  seq_ = std::max(seq_, seq);
  if (expires_at <= now) return;
  auto* slot = lists_.Find(key);
  if (replayed && slot != nullptr && slot->block->seq >= seq) return;  // the list holds it
  if (slot == nullptr) {
    MakeRoomLocked(lists_);
    slot = &lists_.Insert(ListBlock::Make(key, 2 + std::min(value.size(), kMaxItem)), 0);
  }
  ListBlock* l = slot->block;
  if (l->expires_at <= now) l->Clear();
  l->seq = seq;
  l->max_len = static_cast<std::uint32_t>(std::min<std::size_t>(max_len, 1u << 30));
  l = slot->block = ListBlock::Push(l, value);
  l->expires_at = expires_at;
  slot->expires_s = CoarseSeconds(expires_at);
  JournalLocked([&](state::RecordWriter& w) {
    w.Append(key, value.substr(0, kMaxItem), l->max_len, expires_at, seq);
  });
}

std::int64_t MemoryStore::DeleteLocked(std::span<const std::string> keys, Micros now) {
  std::int64_t deleted = 0;
  for (const std::string& key : keys) {
    if (auto* slot = counters_.Find(key)) {
      if (slot->block->ExpiresAt() > now) ++deleted;
      if (exporting_) {  // emptied in place; the sweep takes it
        for (state::Window& w : std::span(slot->block->windows(), slot->block->n)) {
          w = {.period_us = w.period_us};
        }
        slot->expires_s = 0;
      } else {
        counters_.Erase(slot);
      }
    } else if (auto* list = lists_.Find(key)) {
      if (list->block->expires_at > now) ++deleted;
      if (exporting_) {
        list->block->Clear();
        list->block->expires_at = 0;
        list->expires_s = 0;
      } else {
        lists_.Erase(list);
      }
    }
  }
  JournalLocked([&](state::RecordWriter& w) { w.Delete(keys); });
  return deleted;
}

Status MemoryStore::Reset(const std::string& key) {
  Hold hold(*this);
  DeleteLocked(std::span(&key, 1), clock_.now());
  return OkStatus();
}

Status MemoryStore::Append(const std::string& key, const std::string& value, std::size_t max_len,
                           Micros ttl_us) {
  Hold hold(*this);
  const Micros now = clock_.now();
  AppendLocked(key, value, max_len, now + ttl_us, now, 0);
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
  const auto* slot = lists_.Find(key);
  if (slot == nullptr || slot->block->expires_at <= clock_.now()) return {};
  const std::vector<std::string_view> items = slot->block->Visible();
  return {items.rbegin(), items.rend()};
}

MemoryStore::Sizes MemoryStore::sizes() const {
  std::lock_guard lock(mu_);
  const Micros now = clock_.now();
  std::size_t networks = 0, domains = 0;
  sets_.ForEach([&](const auto& s) {
    networks += s.block->Count(SetKind::kNetworks, now - s.block->Window(SetKind::kNetworks)) > 0;
    domains += s.block->Count(SetKind::kDomains, now - s.block->Window(SetKind::kDomains)) > 0;
  });
  return {counters_.size(), locks_.size(), networks, domains, lists_.size(), evicted_};
}

std::vector<std::string> MemoryStore::Keys(const std::string& prefix) const {
  std::lock_guard lock(mu_);
  const Micros now = clock_.now();
  std::vector<std::string> keys;
  auto add = [&](std::string_view key, bool live, std::string_view suffix = {}) {
    std::string k = std::string(key) + std::string(suffix);
    if (live && k.starts_with(prefix)) keys.push_back(std::move(k));
  };
  counters_.ForEach([&](const auto& s) { add(s.block->key(), s.block->ExpiresAt() > now); });
  for (const auto& [key, l] : locks_) add(key, l.until > now);
  sets_.ForEach([&](const auto& s) {
    for (const auto& [kind, suffix] : {std::pair{SetKind::kNetworks, layout::kNetworksSuffix},
                                       std::pair{SetKind::kDomains, layout::kDomainsSuffix}}) {
      add(s.block->key(), s.block->Count(kind, now - s.block->Window(kind)) > 0, suffix);
    }
  });
  lists_.ForEach([&](const auto& s) { add(s.block->key(), s.block->expires_at > now); });
  return keys;
}

std::int64_t MemoryStore::Distinct(const std::string& set_key, Micros since) const {
  std::lock_guard lock(mu_);
  std::string_view key = set_key;
  std::optional<SetKind> kind;
  for (const auto& [k, suffix] : {std::pair{SetKind::kNetworks, layout::kNetworksSuffix},
                                  std::pair{SetKind::kDomains, layout::kDomainsSuffix}}) {
    if (key.ends_with(suffix)) {
      key.remove_suffix(suffix.size());
      kind = k;
    }
  }
  if (!kind) return 0;
  const auto* slot = sets_.Find(key);
  return slot == nullptr ? 0 : slot->block->Count(*kind, since);
}

policy::StoredWindows MemoryStore::Windows(const std::string& key) const {
  std::lock_guard lock(mu_);
  policy::StoredWindows windows;
  const auto* slot = counters_.Find(key);
  if (slot == nullptr || slot->block->ExpiresAt() <= clock_.now()) return windows;
  for (const state::Window& w : slot->block->span()) {
    windows[w.period_us] = ToState(w);
  }
  return windows;
}

std::optional<MemoryStore::LockInfo> MemoryStore::GetLock(const std::string& lock_key) const {
  std::lock_guard lock(mu_);
  auto it = locks_.find(lock_key);
  if (it == locks_.end() || it->second.until <= clock_.now()) return std::nullopt;
  return LockInfo{it->second.reason, it->second.until};
}

void MemoryStore::SetLock(const std::string& lock_key, const std::string& reason, Micros ttl_us) {
  Hold hold(*this);
  SetLockLocked(lock_key, reason, ttl_us > 0 ? clock_.now() + ttl_us : kNoExpiry);
}

bool MemoryStore::Unlock(const std::string& lock_key, const std::vector<std::string>& limit_keys) {
  Hold hold(*this);
  return UnlockLocked(lock_key, limit_keys, clock_.now());
}

std::int64_t MemoryStore::Delete(const std::vector<std::string>& keys) {
  Hold hold(*this);
  return DeleteLocked(keys, clock_.now());
}

void MemoryStore::SweepLocked(Micros now) {
  checks_since_sweep_ = 0;
  if (exporting_) return;  // nothing moves while an Export is between holds
  // A few slots of each table per sweep: a sweep never scans a large table at once.
  const auto now_s = static_cast<std::uint32_t>(std::clamp<Micros>(now / 1'000'000, 0, UINT32_MAX));
  counters_.SweepSome(&counter_cursor_, 1024, now_s);
  sets_.SweepSome(&set_cursor_, 256, now_s);
  lists_.SweepSome(&list_cursor_, 256, now_s);
  if (++sweeps_ % 64 == 0) {  // locks are few
    std::erase_if(locks_, [now](const auto& kv) { return kv.second.until <= now; });
  }
}

void MemoryStore::SetJournal(Journal* journal) {
  std::lock_guard lock(mu_);
  journal_ = journal;
}

std::size_t MemoryStore::Export(std::string* out, const std::function<void()>& under_lock,
                                std::size_t slots_per_hold) {
  // Each hold writes into `chunk`, appended to *out after the mutex is released: growing
  // *out copies it, which must not happen under the mutex.
  std::string chunk;
  state::RecordWriter w(&chunk);
  std::uint64_t layouts[3];
  {
    std::lock_guard lock(mu_);
    const Micros now = clock_.now();
    exporting_ = true;
    for (const auto& [key, l] : locks_) {
      if (l.until > now) w.Lock(key, l.reason, l.until);
    }
    layouts[0] = counters_.layout();
    layouts[1] = sets_.layout();
    layouts[2] = lists_.layout();
    if (under_lock) under_lock();
  }
  out->append(chunk);
  chunk.clear();
  // Scans `table` a few slots per hold. If entries moved in between (the table grew),
  // it scans again from the start: a key written twice loads as its later copy. After
  // three such restarts the rest is written in one hold.
  auto scan = [&](const auto& table, std::uint64_t layout, auto emit) {
    std::size_t at = 0;
    int restarts = 0;
    for (bool done = false; !done;) {
      {
        std::lock_guard lock(mu_);
        if (table.layout() != layout) {
          layout = table.layout();
          at = 0;
          ++restarts;
        }
        const Micros now = clock_.now();
        at = table.ForEachIn(at, restarts >= 3 ? table.capacity() : slots_per_hold,
                             [&](const auto& s) { emit(*s.block, now); });
        done = at >= table.capacity();
      }
      out->append(chunk);
      chunk.clear();
    }
  };
  scan(counters_, layouts[0], [&](const CounterBlock& b, Micros now) {
    if (b.ExpiresAt() > now) w.Counter(b.key(), b.span());
  });
  scan(sets_, layouts[1], [&](const SetBlock& b, Micros now) {
    if (const auto nets = b.Entries(SetKind::kNetworks, now); !nets.empty()) {
      w.Networks(b.key(), b.Window(SetKind::kNetworks), nets);
    }
    if (const auto domains = b.Entries(SetKind::kDomains, now); !domains.empty()) {
      w.Domains(b.key(), b.Window(SetKind::kDomains), domains);
    }
  });
  scan(lists_, layouts[2], [&](const ListBlock& b, Micros now) {
    if (b.expires_at <= now) return;
    const std::vector<std::string_view> items = b.Visible();
    w.ListHeader(b.key(), b.expires_at, b.max_len, b.seq, static_cast<std::uint32_t>(items.size()));
    for (std::string_view item : items) w.ListItem(item);
  });
  std::lock_guard lock(mu_);
  exporting_ = false;
  return w.records();
}

void MemoryStore::Import(const std::function<void(state::Visitor&)>& decode) {
  std::lock_guard lock(mu_);
  Journal* journal = std::exchange(journal_, nullptr);
  Restorer restorer(*this, clock_.now());
  decode(restorer);
  journal_ = journal;
  Changed();
}

}  // namespace floodgate::store
