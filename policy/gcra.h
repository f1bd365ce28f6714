// GCRA: the pure arithmetic behind CounterStore::Check (see counter_store.h for the
// contract). The memory store calls this under its lock; the Redis Lua script
// (store/check.lua) implements the same steps and the conformance tests hold them equal.
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include "floodgate/counter_store.h"

namespace floodgate::policy {

// What the store keeps per window: the theoretical arrival time and until when the last
// refusal was reported. Zero means "never".
struct WindowState {
  Micros tat = 0;
  Micros reported_until = 0;
  std::int64_t refused = 0;  // units refused since reported_until was last set
};

// What the store knows of a check's subject before the event: its lock, and the number of
// distinct networks seen including this event's (0 when max_networks is not used).
struct SubjectState {
  bool locked = false;
  std::string lock_reason;
  std::int64_t distinct_networks = 0;
};

// One entry per LimitCheck, each with one WindowState per window (same order), and one
// SubjectState per LimitCheck. Applies the checks at `now`, updating `states` in place,
// and returns the outcome; the caller stores a lock for every newly_locked check.
CheckOutcome ApplyChecks(const std::vector<LimitCheck>& checks,
                         std::vector<std::vector<WindowState>>& states,
                         const std::vector<SubjectState>& subjects, Micros now);

}  // namespace floodgate::policy
