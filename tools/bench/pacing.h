// Open-loop pacing for floodgate-bench --rate: message n (numbered in the order sessions
// claim them from the WorkQueue, over all sessions and threads) is due n / rate seconds
// after the run's start, whether or not the milter has answered the messages before it. A session
// that claims a message waits until it is due; one that claims it late (every session was still
// busy) starts it at once, and the difference is its lag.
//
// Header-only. Thread-safety: pure functions and a value type; nothing shared.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

namespace floodgate::bench {

// When message n is due, relative to the start of the run: n / rate seconds, rounded to
// the nearest nanosecond. rate in messages per second, > 0.
inline std::chrono::nanoseconds ScheduleOffset(std::uint64_t message, double rate) {
  if (!(rate > 0)) return std::chrono::nanoseconds(0);
  // In long double: n * 1e9 stays exact far beyond any run's message count.
  const long double ns = static_cast<long double>(message) * 1e9L / static_cast<long double>(rate);
  constexpr long double kMax = static_cast<long double>(std::numeric_limits<std::int64_t>::max());
  if (ns >= kMax) return std::chrono::nanoseconds::max();
  return std::chrono::nanoseconds(std::llround(ns));
}

// How many messages are due within the first `seconds` of a run at `rate`: those with
// offset < seconds, i.e. ceil(seconds * rate). 0 when either is not positive.
inline std::int64_t MessagesDueWithin(double seconds, double rate) {
  if (!(seconds > 0) || !(rate > 0)) return 0;
  const long double x = static_cast<long double>(seconds) * rate;
  // 0.3 s at 10/s is 3 messages, though 0.3 * 10 comes out a hair above 3 in binary.
  const long double nearest = std::round(x);
  const long double n =
      std::fabs(x - nearest) <= 1e-9L * std::fmax(1.0L, x) ? nearest : std::ceil(x);
  constexpr long double kMax = static_cast<long double>(std::numeric_limits<std::int64_t>::max());
  return n >= kMax ? std::numeric_limits<std::int64_t>::max() : static_cast<std::int64_t>(n);
}

// The rate at which messages actually started: the number of intervals between the first
// start (offset 0) and the last, per second. On schedule this is the offered rate; behind
// schedule it is less. 0 for fewer than two starts.
inline double AchievedRate(std::uint64_t starts, std::chrono::nanoseconds last_start) {
  if (starts < 2 || last_start.count() <= 0) return 0;
  return static_cast<double>(starts - 1) * 1e9 / static_cast<double>(last_start.count());
}

// The schedule of one run (rate 0: closed loop, every message is due at once).
struct Pacing {
  using Clock = std::chrono::steady_clock;
  double rate = 0;          // offered messages per second over all sessions
  Clock::time_point start;  // when message 0 is due

  bool paced() const { return rate > 0; }
  // When message n is due (start itself when not paced).
  Clock::time_point Due(std::uint64_t message) const {
    if (!paced()) return start;
    const std::chrono::nanoseconds offset = ScheduleOffset(message, rate);
    if (offset >= Clock::time_point::max() - start) return Clock::time_point::max();
    return start + std::chrono::duration_cast<Clock::duration>(offset);
  }
};

}  // namespace floodgate::bench
