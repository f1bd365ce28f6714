// WindowView: what `floodgatectl show` and `top` say about one window of one limit,
// computed from the window's stored state and the limit's rate, at the store's time (the
// arithmetic is policy::Inspect, beside the check's own).
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>

#include "floodgate/clock.h"
#include "policy/config.h"
#include "policy/gcra.h"

namespace floodgate::admin {

struct WindowView {
  std::string rate;           // "300/1h"
  std::int64_t capacity = 0;  // burst
  std::int64_t used = 0;      // units in the bucket now (0 = idle, capacity = full)
  Micros frees_in_us = 0;     // until the next unit fits (0: it fits now)
  Micros idle_in_us = 0;      // until the bucket is empty again
  std::int64_t refused = 0;   // units refused since the last reported refusal
  bool over = false;          // the next unit would be refused
  // Adaptive limits: the subject's usual peak per period (units) and the amount it allows
  // now (the rate's amount when the limit does not adapt, or the window has no floor).
  bool adaptive = false;
  double usual = 0;
  std::int64_t amount = 0;
  double fill() const { return capacity ? static_cast<double>(used) / capacity : 0.0; }
};

// One window of `limit` at its `rate` (the limit's own or an override's), judged as the
// check judges it (policy::LimitWindow, and the adaptive amount).
// `o` (may be null) is the override that applies to the subject.
WindowView ViewWindow(const policy::Limit& limit, const policy::Rate& rate,
                      const policy::StoredWindows& windows, Micros now,
                      const policy::Override* o = nullptr);

// "1h 2m", "36s", "now": a short human duration.
std::string HumanDuration(Micros us);

// Undoes policy::KeyComponent's %XX encoding (for display; hashed long values stay so).
std::string DecodeKeyComponent(std::string_view encoded);

}  // namespace floodgate::admin
