// OneShot<T>: one value handed from the thread that completes a call to the thread that
// waits for it with a deadline.
//
// It does what std::promise/std::future (or a mutex and condition variable) do, at the
// cost the Redis hot path needs: Set() makes no system call when nobody sleeps on it yet
// (the reply came before its caller waited, or the caller read it itself) and one futex
// wake when somebody does; Wait() one futex wait only when the value is not there yet.
// Measured per RCPT decision under load, libstdc++'s promise adds a futex call on every
// set_value (its std::call_once) and a condition variable one on every wake-up (glibc
// re-locks the mutex as contended).
// Shared by both sides through a shared_ptr: the waiter may give up at its deadline and
// return while the other side still completes it. Linux only (futex(2)).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>
#include <optional>
#include <utility>

namespace floodgate::store {

template <typename T>
class OneShot {
 public:
  // Stores `value` and wakes the waiter. At most once.
  void Set(T value) {
    value_.emplace(std::move(value));
    if (state_.exchange(kSet, std::memory_order_acq_rel) == kSleeping) {
      Futex(FUTEX_WAKE_PRIVATE, INT_MAX, nullptr);
    }
  }

  // The value once Set(), or nullopt when `deadline` passed first. One waiter at most.
  std::optional<T> WaitUntil(std::chrono::steady_clock::time_point deadline) {
    using std::chrono::steady_clock;
    std::uint32_t s = state_.load(std::memory_order_acquire);
    while (s != kSet) {
      if (s == kEmpty && !state_.compare_exchange_weak(s, kSleeping, std::memory_order_acq_rel)) {
        continue;  // s now holds what is there
      }
      // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, which is what
      // steady_clock reads on Linux.
      const auto ns = std::chrono::nanoseconds(deadline.time_since_epoch()).count();
      if (steady_clock::now() >= deadline) break;
      const timespec at{static_cast<time_t>(ns / 1'000'000'000),
                        static_cast<long>(ns % 1'000'000'000)};
      if (Futex(FUTEX_WAIT_BITSET_PRIVATE, kSleeping, &at) != 0 && errno == ETIMEDOUT) break;
      s = state_.load(std::memory_order_acquire);
    }
    if (state_.load(std::memory_order_acquire) != kSet) return std::nullopt;
    return std::move(value_);
  }

 private:
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::uint32_t kSleeping = 1;  // empty, and the waiter sleeps on it
  static constexpr std::uint32_t kSet = 2;

  long Futex(int op, std::uint32_t val, const timespec* at) {
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), op, val, at, nullptr,
                     FUTEX_BITSET_MATCH_ANY);
  }

  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  std::atomic<std::uint32_t> state_{kEmpty};
  std::optional<T> value_;  // written by Set() before kSet, read after seeing it
};

}  // namespace floodgate::store
