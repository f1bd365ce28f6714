// GCRA: the pure arithmetic behind CounterStore::Check (see counter_store.h for the
// contract). The memory store calls this under its lock; the Redis Lua script
// (store/check.lua) implements the same steps and the conformance tests hold them equal.
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <vector>

#include "floodgate/counter_store.h"

namespace floodgate::policy {

// What the store keeps per window: the theoretical arrival time and until when the last
// refusal was reported. Zero means "never".
struct WindowState {
  Micros tat = 0;
  Micros reported_until = 0;
  std::int64_t refused = 0;  // units refused since reported_until was last set
  // Adaptive windows only (policy/adaptive.h): the end of the period being counted, the
  // units accepted in it, and the usual peak per period in millionths of a unit.
  Micros period_end = 0;
  std::int64_t accepted = 0;
  std::int64_t usual = 0;
  bool operator==(const WindowState&) const = default;
};

// A limit key's windows as a store holds them, by period (us): what the admin side reads.
using StoredWindows = std::map<Micros, WindowState>;

// The read side of the arithmetic below: how full one window is at `now`.
struct WindowLevel {
  std::int64_t used = 0;   // units in the bucket (0: idle; burst: full)
  Micros frees_in_us = 0;  // until one more unit fits (0: it fits now)
  Micros idle_in_us = 0;   // until the bucket is empty again
  bool over = false;       // the next unit would be refused
};
WindowLevel Inspect(const WindowSpec& window, const WindowState& state, Micros now);

// What the store knows of a check's subject before the event: its lock, and the number of
// distinct networks seen including this event's (0 when max_networks is not used).
struct SubjectState {
  bool locked = false;
  std::string lock_reason;
  std::int64_t distinct_networks = 0;
  std::int64_t distinct_domains = 0;  // likewise for recipient domains (max_domains)
};

// One entry per LimitCheck, each with one WindowState per window (same order), and one
// SubjectState per LimitCheck. Applies the checks at `now`, updating `states` in place,
// and returns the outcome; the caller stores a lock for every newly_locked check.
CheckOutcome ApplyChecks(const std::vector<LimitCheck>& checks,
                         std::vector<std::vector<WindowState>>& states,
                         const std::vector<SubjectState>& subjects, Micros now);

}  // namespace floodgate::policy
