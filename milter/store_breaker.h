// StoreBreaker: whether a call to the primary store is worth making, so that a store
// that fails (down, frozen, answering after the deadline) costs one deadline per probe
// instead of one per SMTP event.
//
// Closed (the store answers): every call goes to the store. The first failed call opens
// it: from then on calls are skipped (the caller applies store.on_error at once) except
// one probe at a time, a real call let through once the backoff has passed. The backoff
// starts at Options::first_backoff after the failure and doubles after each failed probe
// up to Options::max_backoff. Any successful call closes the breaker and resets the
// backoff. Calls that were already on their way when it opened report their failure
// without moving the schedule; only the probe does.
// It reads the time from a Clock and never sleeps or starts anything, so it is tested
// with a FakeClock.
// Thread-safety: Admit and Record may be called from any number of threads at once; the
// closed path takes no lock.
#pragma once

#include <atomic>
#include <mutex>

#include "floodgate/clock.h"

namespace floodgate::milter {

class StoreBreaker {
 public:
  struct Options {
    Micros first_backoff_us = 50'000;
    Micros max_backoff_us = 2'000'000;
  };
  enum class Admission {
    kCall,   // the store is up: call it
    kProbe,  // the store is down and this call is the probe: call it and Record the result
    kSkip,   // the store is down: do not call it
  };

  explicit StoreBreaker(const Clock& clock) : StoreBreaker(clock, Options{}) {}
  StoreBreaker(const Clock& clock, Options options) : clock_(clock), options_(options) {}
  StoreBreaker(const StoreBreaker&) = delete;
  StoreBreaker& operator=(const StoreBreaker&) = delete;

  Admission Admit();
  // The outcome of a call Admit() let through (kCall or kProbe).
  void Record(Admission admitted, bool ok);

  bool open() const { return open_.load(std::memory_order_acquire); }
  // While open: the current backoff and when the next probe may start (tests, logs).
  Micros backoff_us() const;
  Micros next_probe_at() const;

 private:
  const Clock& clock_;
  const Options options_;
  std::atomic<bool> open_{false};
  mutable std::mutex mu_;  // guards the rest
  bool probing_ = false;
  Micros backoff_us_ = 0;
  Micros next_probe_at_ = 0;
};

}  // namespace floodgate::milter
