// Clock: where the memory store and the in-process fallback read the time.
//
// The Redis store never reads this: Redis' own TIME decides there, so hosts with skewed
// clocks agree. Times are microseconds on an arbitrary epoch (monotonic for SystemClock).
// Thread-safety: now() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace floodgate {

using Micros = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Micros now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// A clock tests move by hand.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Micros start = 1'000'000'000'000) : now_(start) {}
  Micros now() const override { return now_.load(); }
  void Advance(Micros us) { now_ += us; }

 private:
  std::atomic<Micros> now_;
};

}  // namespace floodgate
