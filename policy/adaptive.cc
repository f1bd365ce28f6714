#include "policy/adaptive.h"

#include <algorithm>
#include <cmath>

namespace floodgate::policy {
namespace {

constexpr double kMillionths = 1e6;
constexpr Micros kDayUs = 86'400'000'000;

}  // namespace

std::int64_t RisePpm(Micros period_us) {
  // ln 2 in millionths: compounded over the periods of one day, (1 + ln2 / n)^n < 2.
  return static_cast<std::int64_t>(
      std::floor(693147.0 * static_cast<double>(period_us) / static_cast<double>(kDayUs)));
}

std::int64_t RiseBase(const WindowSpec& w, std::int64_t factor_milli) {
  return static_cast<std::int64_t>(
      std::floor(static_cast<double>(w.floor_amount) * 1e9 / static_cast<double>(factor_milli)));
}

void Roll(const WindowSpec& w, std::int64_t factor_milli, WindowState& s, Micros now) {
  if (now < s.period_end) return;
  if (s.period_end > 0) {
    const std::int64_t c = s.accepted * 1'000'000;
    if (c > s.usual) {
      const std::int64_t base = std::max(s.usual, RiseBase(w, factor_milli));
      const auto step = static_cast<std::int64_t>(
          std::floor(static_cast<double>(base) * static_cast<double>(w.rise_ppm) / kMillionths));
      s.usual += std::min(c - s.usual, step);
    } else if (c < s.usual) {
      s.usual -= (s.usual - c + 7) / 8;
    }
  }
  s.accepted = 0;
  s.period_end = (now / w.period_us + 1) * w.period_us;
}

std::int64_t EffectiveAmount(const WindowSpec& w, std::int64_t factor_milli, std::int64_t usual) {
  const auto learned = static_cast<std::int64_t>(
      std::floor(static_cast<double>(usual) * static_cast<double>(factor_milli) / 1e9));
  return std::min(w.amount, std::max(w.floor_amount, learned));
}

WindowSpec Tightened(const WindowSpec& w, std::int64_t amount) {
  if (amount >= w.amount || amount <= 0) return w;
  WindowSpec t = w;
  t.emission_us = std::max<Micros>(1, w.period_us / amount);
  t.lock_threshold = w.lock_threshold / w.amount * amount;
  // The bucket holds at least one unit, whatever burst was configured.
  t.tolerance_us = std::max(w.tolerance_us, t.emission_us);
  t.amount = amount;
  return t;
}

}  // namespace floodgate::policy
