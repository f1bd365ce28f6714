// BlockTable<B>: the memory store's hash table. An open-addressing (linear probing) table of
// pointers to blocks that carry their own key, so one key costs one allocation (the block)
// plus a 16-byte slot, instead of a node, a string and a vector as in std::unordered_map.
//
// B is a block type with `std::string_view key() const` and `static void Destroy(B*)`; the
// table owns its blocks. Each slot also keeps 32 bits of the key's hash (probes compare it
// before touching the block) and a coarse expiry in whole seconds, rounded up, so sweeping
// and eviction scan the slot array alone. Deletion shifts the rest of a cluster back, so
// there are no tombstones and a lookup never scans more than its cluster. The table grows
// (doubling) beyond seven eighths full: linear probing stays short there thanks to the
// inline hash tags, and the slot array costs 16 to 37 bytes per key.
// Thread-safety: none; the memory store guards it with its mutex.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "floodgate/clock.h"

namespace floodgate::store {

// Whole seconds, rounded up, clamped to 32 bits: an entry whose coarse expiry is at or
// before the current whole second has certainly expired.
inline std::uint32_t CoarseSeconds(Micros t) {
  if (t <= 0) return 0;
  const Micros s = (t - 1) / 1'000'000 + 1;
  return s >= std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                        : static_cast<std::uint32_t>(s);
}

template <class B>
class BlockTable {
 public:
  struct Slot {
    B* block = nullptr;
    std::uint32_t hash = 0;
    std::uint32_t expires_s = 0;
  };

  BlockTable() = default;
  BlockTable(const BlockTable&) = delete;
  BlockTable& operator=(const BlockTable&) = delete;
  ~BlockTable() { Clear(); }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return slots_.size(); }
  // Changes whenever an entry moves to another slot (growth, erasure): a scan in several
  // steps (ForEachIn) is complete only if it did not change in between.
  std::uint64_t layout() const { return layout_; }

  // The slot holding `key`, or nullptr. Valid until the next Insert or Erase.
  Slot* Find(std::string_view key) {
    if (slots_.empty()) return nullptr;
    const std::uint64_t h = Hash(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.block == nullptr) return nullptr;
      if (s.hash == Tag(h) && s.block->key() == key) return &s;
    }
  }
  const Slot* Find(std::string_view key) const { return const_cast<BlockTable*>(this)->Find(key); }

  // Adds `block`, whose key must not be in the table yet; returns its slot.
  Slot& Insert(B* block, std::uint32_t expires_s) {
    if ((size_ + 1) * 8 > slots_.size() * 7) Grow();
    const std::uint64_t h = Hash(block->key());
    std::size_t i = h & mask_;
    while (slots_[i].block != nullptr) i = (i + 1) & mask_;
    slots_[i] = Slot{block, Tag(h), expires_s};
    ++size_;
    return slots_[i];
  }

  // Destroys the block of `slot` (from Find) and closes the gap.
  void Erase(Slot* slot) { EraseAt(static_cast<std::size_t>(slot - slots_.data())); }

  // Destroys every block for which pred(const Slot&) holds; returns how many.
  template <class Pred>
  std::size_t EraseIf(Pred pred) {
    std::size_t erased = 0;
    for (std::size_t i = 0; i < slots_.size();) {
      // A later entry may shift into i: look at i again after erasing.
      if (slots_[i].block != nullptr && pred(std::as_const(slots_[i]))) {
        EraseAt(i);
        ++erased;
      } else {
        ++i;
      }
    }
    return erased;
  }

  // Erases the entries of up to `count` slots from `*cursor` on whose coarse expiry is at
  // or before `now_s`; advances the cursor (an incremental sweep).
  std::size_t SweepSome(std::size_t* cursor, std::size_t count, std::uint32_t now_s) {
    if (slots_.empty()) return 0;
    std::size_t erased = 0;
    std::size_t i = *cursor & mask_;
    for (std::size_t n = 0; n < count; ++n) {
      if (slots_[i].block != nullptr && slots_[i].expires_s <= now_s) {
        EraseAt(i);
        ++erased;
      } else {
        i = (i + 1) & mask_;
      }
    }
    *cursor = i;
    return erased;
  }

  // Forgets the `count` entries that expire soonest (they hold the least: their windows are
  // nearest to empty). Returns how many were erased.
  std::size_t EvictSoonestExpiring(std::size_t count) {
    if (count == 0 || size_ == 0) return 0;
    if (count >= size_) {
      const std::size_t n = size_;
      Clear();
      return n;
    }
    std::vector<std::uint32_t> expiries;
    expiries.reserve(size_);
    for (const Slot& s : slots_) {
      if (s.block != nullptr) expiries.push_back(s.expires_s);
    }
    std::nth_element(expiries.begin(), expiries.begin() + static_cast<std::ptrdiff_t>(count - 1),
                     expiries.end());
    const std::uint32_t threshold = expiries[count - 1];
    const std::size_t below = static_cast<std::size_t>(
        std::count_if(expiries.begin(), expiries.end(), [&](auto e) { return e < threshold; }));
    std::size_t at_threshold = count - below;  // of those expiring at `threshold`
    return EraseIf([&](const Slot& s) {
      if (s.expires_s < threshold) return true;
      if (s.expires_s == threshold && at_threshold > 0) {
        --at_threshold;
        return true;
      }
      return false;
    });
  }

  template <class F>
  void ForEach(F f) const {
    for (const Slot& s : slots_) {
      if (s.block != nullptr) f(s);
    }
  }
  // f(slot) for the occupied slots among [begin, begin + count); returns where it stopped
  // (capacity() at the end).
  template <class F>
  std::size_t ForEachIn(std::size_t begin, std::size_t count, F f) const {
    const std::size_t end = std::min(slots_.size(), begin + count);
    for (std::size_t i = begin; i < end; ++i) {
      if (slots_[i].block != nullptr) f(slots_[i]);
    }
    return end;
  }

  void Clear() {
    for (Slot& s : slots_) {
      if (s.block != nullptr) B::Destroy(s.block);
    }
    slots_.clear();
    slots_.shrink_to_fit();
    mask_ = 0;
    size_ = 0;
    ++layout_;
  }

 private:
  static std::uint64_t Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }
  static std::uint32_t Tag(std::uint64_t h) { return static_cast<std::uint32_t>(h >> 32); }
  std::size_t Home(const Slot& s) const {
    return static_cast<std::size_t>(Hash(s.block->key())) & mask_;
  }

  void Grow() {
    ++layout_;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.block == nullptr) continue;
      std::size_t i = Hash(s.block->key()) & mask_;
      while (slots_[i].block != nullptr) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  // Backward-shift deletion: later members of the cluster that may live at `hole` move
  // into it, so every key stays reachable from its home slot.
  void EraseAt(std::size_t hole) {
    ++layout_;
    B::Destroy(slots_[hole].block);
    slots_[hole] = Slot{};
    --size_;
    for (std::size_t j = (hole + 1) & mask_; slots_[j].block != nullptr; j = (j + 1) & mask_) {
      const std::size_t home = Home(slots_[j]);
      // j may move to hole iff home is not cyclically within (hole, j].
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      slots_[j] = Slot{};
      hole = j;
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::uint64_t layout_ = 0;
};

}  // namespace floodgate::store
