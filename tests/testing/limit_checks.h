// Small builders for store tests: a one-window LimitCheck, and how many of N checks a
// store allows. Shared by the Redis, Sentinel and conformance-style integration tests.
// Thread-safety: plain functions (CountAllowed reports failures through gtest).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "floodgate/counter_store.h"

namespace floodgate::testing {

// `amount` units per `period` (no burst beyond the amount), charged to `key`.
inline LimitCheck Limit(const std::string& key, std::int64_t amount, Micros period) {
  LimitCheck c;
  c.key = key;
  c.windows.push_back(WindowSpec{period, period / amount, period, 0, amount, 0, 0});
  return c;
}

// Runs `attempts` checks of `c`; every one must succeed; returns how many were allowed.
inline int CountAllowed(CounterStore& store, const LimitCheck& c, int attempts) {
  int allowed = 0;
  for (int i = 0; i < attempts; ++i) {
    auto r = store.Check({c});
    EXPECT_TRUE(r.ok()) << r.error().message();
    if (r.ok() && r->allowed) ++allowed;
  }
  return allowed;
}

}  // namespace floodgate::testing
