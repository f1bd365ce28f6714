#include "milter/store_breaker.h"

#include <algorithm>

namespace floodgate::milter {

StoreBreaker::Admission StoreBreaker::Admit() {
  if (!open()) return Admission::kCall;
  std::lock_guard lock(mu_);
  if (!open_.load(std::memory_order_relaxed)) return Admission::kCall;
  if (probing_ || clock_.now() < next_probe_at_) return Admission::kSkip;
  probing_ = true;
  return Admission::kProbe;
}

void StoreBreaker::Record(Admission admitted, bool ok) {
  if (ok && admitted == Admission::kCall && !open()) return;  // the hot path: no lock
  std::lock_guard lock(mu_);
  if (admitted == Admission::kProbe) probing_ = false;
  if (ok) {
    open_.store(false, std::memory_order_release);
    backoff_us_ = 0;
    return;
  }
  if (!open_.load(std::memory_order_relaxed)) {
    backoff_us_ = options_.first_backoff_us;
  } else if (admitted == Admission::kProbe) {
    backoff_us_ = std::min(2 * backoff_us_, options_.max_backoff_us);
  } else {
    return;  // a call sent before the breaker opened: the schedule stands
  }
  next_probe_at_ = clock_.now() + backoff_us_;
  open_.store(true, std::memory_order_release);
}

Micros StoreBreaker::backoff_us() const {
  std::lock_guard lock(mu_);
  return backoff_us_;
}

Micros StoreBreaker::next_probe_at() const {
  std::lock_guard lock(mu_);
  return next_probe_at_;
}

}  // namespace floodgate::milter
