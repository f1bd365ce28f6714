// The only two ways tests here wait; everything else is ordered, not waited for.
//   WaitFor: polls a condition on another process (a server starting, sentinels electing
//            a master, a reconnect backoff running out) until it holds or a limit passes.
//   LetRealTimePass: for Redis, whose own clock decides expiry (TTLs, GCRA windows): the
//            wait is the condition itself, so it is slept once, exactly, not polled.
// Thread-safety: plain functions.
#pragma once

#include <chrono>
#include <thread>

namespace floodgate::testing {

// True when `done()` held before `limit` passed.
template <class F>
bool WaitFor(F done, std::chrono::milliseconds limit,
             std::chrono::milliseconds interval = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
  return true;
}

// Lets `span` of real time pass, plus a millisecond for the server's clock resolution.
inline void LetRealTimePass(std::chrono::microseconds span) {
  std::this_thread::sleep_for(span + std::chrono::milliseconds(1));
}

}  // namespace floodgate::testing
