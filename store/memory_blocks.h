// The blocks the memory store keeps in its BlockTables: each is one allocation holding a
// small header, its elements and its key's bytes, so a key costs one malloc and no
// node, string or vector of its own.
//   CounterBlock  the windows of one limit key (state::Window, named by period)
//   SetBlock      the distinct sets (client networks, recipient domains) of one subject
//   ListBlock     a list (events, queue ids), items packed oldest first
// Thread-safety: none; the memory store guards them with its mutex.
#pragma once

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <vector>

#include "floodgate/store_layout.h"
#include "store/state_format.h"

namespace floodgate::store {

// One allocation holding a fixed header, `Elem` elements and the key's bytes after them.
template <class Block, class Elem>
inline Block* AllocateBlock(std::string_view key, std::size_t elems) {
  const std::size_t size = sizeof(Block) + elems * sizeof(Elem) + key.size();
  void* p = std::malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  auto* b = new (p) Block();
  b->key_len = static_cast<std::uint32_t>(key.size());
  auto* elem = reinterpret_cast<Elem*>(b + 1);
  for (std::size_t i = 0; i < elems; ++i) new (elem + i) Elem();
  std::memcpy(reinterpret_cast<char*>(elem + elems), key.data(), key.size());
  return b;
}

// List items are kept packed, oldest first, each as a 2-byte length and its bytes.
inline constexpr std::size_t kMaxItem = 0xffff;

// The windows of one limit key, named by period like the Redis hash fields, so that a
// limit whose numbers change keeps its history.
struct CounterBlock {
  std::uint32_t key_len = 0;
  std::uint32_t n = 0;
  state::Window* windows() { return reinterpret_cast<state::Window*>(this + 1); }
  const state::Window* windows() const { return reinterpret_cast<const state::Window*>(this + 1); }
  std::span<const state::Window> span() const { return {windows(), n}; }
  std::string_view key() const { return {reinterpret_cast<const char*>(windows() + n), key_len}; }
  state::Window* Find(Micros period) {
    for (std::uint32_t i = 0; i < n; ++i) {
      if (windows()[i].period_us == period) return &windows()[i];
    }
    return nullptr;
  }
  // A window holds something while its TAT or report time is ahead, and an adaptive one
  // while its subject's normal is remembered (layout::kLearnedKeepUs after its period).
  Micros ExpiresAt() const {
    Micros e = 0;
    for (const state::Window& w : span()) {
      e = std::max({e, w.tat, w.reported_until});
      if (w.period_end > 0) e = std::max(e, w.period_end + layout::kLearnedKeepUs);
    }
    return e;
  }
  static CounterBlock* Make(std::string_view key, std::size_t n) {
    CounterBlock* b = AllocateBlock<CounterBlock, state::Window>(key, n);
    b->n = static_cast<std::uint32_t>(n);
    return b;
  }
  static void Destroy(CounterBlock* b) { std::free(b); }
};

// The distinct sets of one subject (by its lock key) in one block: the client networks and
// the recipient domains it was seen with, each kind with its own window, entries tagged by
// kind in their hash's top bit. One block per subject rather than per set: a subject that
// has one set has the other too, and the key, the slot and the allocation are most of
// what a small set costs. Each kind keeps at most the cap its check asks for (the oldest
// go), which is all the decision needs.
enum class SetKind : std::uint8_t { kNetworks = 0, kDomains = 1 };

struct SetBlock {
  static constexpr std::uint64_t kDomainBit = 1ull << 63;

  std::uint32_t key_len = 0;
  std::uint16_t n = 0;
  std::uint16_t cap = 0;
  Micros window_us[2] = {0, 0};  // by SetKind

  static std::uint64_t Tag(std::uint64_t hash, SetKind k) {
    return k == SetKind::kDomains ? hash | kDomainBit : hash & ~kDomainBit;
  }
  static SetKind KindOf(const state::SeenNetwork& e) {
    return (e.hash & kDomainBit) != 0 ? SetKind::kDomains : SetKind::kNetworks;
  }
  Micros Window(SetKind k) const { return window_us[static_cast<int>(k)]; }
  state::SeenNetwork* seen() { return reinterpret_cast<state::SeenNetwork*>(this + 1); }
  const state::SeenNetwork* seen() const {
    return reinterpret_cast<const state::SeenNetwork*>(this + 1);
  }
  std::span<const state::SeenNetwork> span() const { return {seen(), n}; }
  std::string_view key() const { return {reinterpret_cast<const char*>(seen() + cap), key_len}; }
  Micros ExpiresAt() const {
    Micros e = 0;
    for (const state::SeenNetwork& s : span()) e = std::max(e, s.seen + Window(KindOf(s)));
    return e;
  }
  // Entries of kind `k` seen after `since`.
  std::int64_t Count(SetKind k, Micros since) const {
    return std::count_if(span().begin(), span().end(),
                         [&](const auto& s) { return KindOf(s) == k && s.seen > since; });
  }
  // The live entries of kind `k` with their tag removed (as a state file holds them).
  std::vector<state::SeenNetwork> Entries(SetKind k, Micros now) const {
    std::vector<state::SeenNetwork> out;
    for (const state::SeenNetwork& s : span()) {
      if (KindOf(s) == k && s.seen > now - Window(k)) out.push_back({s.hash & ~kDomainBit, s.seen});
    }
    return out;
  }
  static SetBlock* Make(std::string_view key, std::size_t cap) {
    SetBlock* b = AllocateBlock<SetBlock, state::SeenNetwork>(key, cap);
    b->cap = static_cast<std::uint16_t>(cap);
    return b;
  }
  static void Destroy(SetBlock* b) { std::free(b); }

  // Adds `hashes` to the `kind` set of `set`: forgets what left its window, keeps at most
  // `cap` entries of the kind (the oldest go) and sets *count to how many it holds. Returns
  // the block, reallocated (and the old one destroyed) when it had to grow.
  static SetBlock* See(SetBlock* set, SetKind kind, std::span<const std::uint64_t> hashes,
                       std::size_t cap, Micros window_us, Micros now, std::int64_t* count) {
    set->window_us[static_cast<int>(kind)] = window_us;
    std::uint16_t kept = 0;
    std::size_t of_kind = 0;
    for (std::uint16_t i = 0; i < set->n; ++i) {
      const state::SeenNetwork& e = set->seen()[i];
      if (e.seen <= now - set->Window(KindOf(e))) continue;
      of_kind += KindOf(e) == kind ? 1 : 0;
      set->seen()[kept++] = e;
    }
    set->n = kept;
    for (const std::uint64_t raw : hashes) {
      const std::uint64_t hash = Tag(raw, kind);
      state::SeenNetwork* entry = nullptr;
      for (std::uint16_t i = 0; i < set->n; ++i) {
        if (set->seen()[i].hash == hash) entry = &set->seen()[i];
      }
      if (entry == nullptr) {
        for (; of_kind >= cap; --of_kind) {  // the oldest of this kind goes
          state::SeenNetwork* oldest = set->OldestOf(kind);
          *oldest = set->seen()[set->n - 1];
          --set->n;
        }
        if (set->n == set->cap) set = set->Grown();
        entry = &set->seen()[set->n++];
        ++of_kind;
      }
      *entry = {hash, now};
    }
    *count = static_cast<std::int64_t>(of_kind);
    return set;
  }

  // `old` (may be null) with its `kind` entries replaced by the live ones of `seen` (a
  // state file's record), as a new block; null when nothing is left. `old` stays as it is.
  static SetBlock* Restored(const SetBlock* old, std::string_view key, SetKind kind,
                            Micros window_us, std::span<const state::SeenNetwork> seen,
                            Micros now) {
    std::vector<state::SeenNetwork> entries;
    Micros windows[2] = {0, 0};
    if (old != nullptr) {
      for (const state::SeenNetwork& e : old->span()) {
        if (KindOf(e) != kind) entries.push_back(e);
      }
      std::copy(std::begin(old->window_us), std::end(old->window_us), windows);
    }
    windows[static_cast<int>(kind)] = window_us;
    for (const state::SeenNetwork& e : seen) {
      if (entries.size() >= 0xffff) break;
      if (e.seen > now - window_us) entries.push_back({Tag(e.hash, kind), e.seen});
    }
    if (entries.empty()) return nullptr;
    SetBlock* b = Make(key, entries.size());
    std::copy(std::begin(windows), std::end(windows), b->window_us);
    b->n = static_cast<std::uint16_t>(entries.size());
    std::copy(entries.begin(), entries.end(), b->seen());
    if (b->ExpiresAt() > now) return b;
    Destroy(b);
    return nullptr;
  }

 private:
  state::SeenNetwork* OldestOf(SetKind kind) {
    state::SeenNetwork* oldest = nullptr;
    for (std::uint16_t i = 0; i < n; ++i) {
      state::SeenNetwork* e = &seen()[i];
      if (KindOf(*e) == kind && (oldest == nullptr || e->seen < oldest->seen)) oldest = e;
    }
    return oldest;
  }
  // A copy with twice the room (at most 0xffff entries); destroys this one.
  SetBlock* Grown() {
    SetBlock* bigger =
        Make(key(), std::min<std::size_t>(std::max<std::size_t>(2u * cap, 1), 0xffff));
    std::copy(std::begin(window_us), std::end(window_us), bigger->window_us);
    bigger->n = n;
    std::copy(seen(), seen() + n, bigger->seen());
    Destroy(this);
    return bigger;
  }
};

// A list (events, queue ids) in one allocation: header, key, then the items packed oldest
// first, each as a 2-byte length and its bytes; it grows by reallocation.
struct ListBlock {
  std::uint32_t key_len = 0;
  std::uint32_t count = 0;  // items packed; Visible() shows the newest max_len
  std::uint32_t max_len = 0;
  std::uint32_t used = 0;  // bytes of packed items
  Micros expires_at = 0;
  std::uint64_t seq = 0;  // of its last append

  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  char* data() { return reinterpret_cast<char*>(this + 1); }
  std::string_view key() const { return {data(), key_len}; }
  const char* items() const { return data() + key_len; }
  char* items() { return data() + key_len; }

  static ListBlock* Make(std::string_view key, std::size_t room) {
    void* p = std::malloc(sizeof(ListBlock) + key.size() + room);
    if (p == nullptr) throw std::bad_alloc();
    auto* b = new (p) ListBlock();
    b->key_len = static_cast<std::uint32_t>(key.size());
    std::memcpy(b->data(), key.data(), key.size());
    return b;
  }
  static void Destroy(ListBlock* b) { std::free(b); }

  void Clear() {
    count = 0;
    used = 0;
  }
  // Appends `item` to `b` (reallocated when full) and returns the block.
  static ListBlock* Push(ListBlock* b, std::string_view item) {
    item = item.substr(0, kMaxItem);
    const std::size_t need = sizeof(ListBlock) + b->key_len + b->used + 2 + item.size();
    if (need > malloc_usable_size(b)) {
      const std::size_t grown = std::max(need, sizeof(ListBlock) + b->key_len + b->used * 3 / 2);
      void* p = std::realloc(b, grown);
      if (p == nullptr) throw std::bad_alloc();
      b = static_cast<ListBlock*>(p);
    }
    char* at = b->items() + b->used;
    at[0] = static_cast<char>(item.size() & 0xff);
    at[1] = static_cast<char>(item.size() >> 8);
    std::memcpy(at + 2, item.data(), item.size());
    b->used += static_cast<std::uint32_t>(2 + item.size());
    ++b->count;
    // Trimmed in batches (an eighth of max_len), so appending to a full list is amortised
    // O(1); Visible() shows only the newest max_len.
    if (b->count > b->max_len + b->max_len / 8) b->DropOldest(b->count - b->max_len);
    return b;
  }
  void DropOldest(std::uint32_t k) {
    std::size_t at = 0;
    for (std::uint32_t i = 0; i < k; ++i) at += 2 + ItemLength(at);
    std::memmove(items(), items() + at, used - at);
    used -= static_cast<std::uint32_t>(at);
    count -= k;
  }
  std::size_t ItemLength(std::size_t at) const {
    return static_cast<unsigned char>(items()[at]) |
           (static_cast<std::size_t>(static_cast<unsigned char>(items()[at + 1])) << 8);
  }
  // The newest max_len items, oldest first.
  std::vector<std::string_view> Visible() const {
    std::vector<std::string_view> out;
    const std::uint32_t skip = count > max_len ? count - max_len : 0;
    out.reserve(count - skip);
    std::size_t at = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::size_t len = ItemLength(at);
      if (i >= skip) out.emplace_back(items() + at + 2, len);
      at += 2 + len;
    }
    return out;
  }
};

}  // namespace floodgate::store
