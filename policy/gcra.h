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
};

// One entry per LimitCheck, each with one WindowState per window (same order). Applies
// the checks at `now`, updating `states` in place, and returns the outcome.
CheckOutcome ApplyChecks(const std::vector<LimitCheck>& checks,
                         std::vector<std::vector<WindowState>>& states, Micros now);

// The time after which `windows` hold no information (every TAT and report time passed).
Micros ExpiresAt(const std::vector<WindowState>& windows);

}  // namespace floodgate::policy
