// Adaptive windows: each subject's own usual volume tightens a limit for that subject.
//
// Per window (period T) the store keeps three numbers per subject: the end of the period
// being counted (periods are aligned to multiples of T on the store's clock), the units
// accepted in it, and the usual peak, in millionths of a unit. When a period ends (seen at
// the subject's next check, so idle periods cost nothing and change nothing), its total c
// moves the usual peak u:
//   c > u:  u rises toward c, by at most max(u, floor / factor) x RisePpm(T) / 10^6;
//           RisePpm(T) = ln 2 x T / 1 day, so however hard it is pushed, in every period,
//           the usual peak (and the amount it allows) at most doubles per day;
//   c < u:  u falls an eighth of the way toward c (rounded up).
// Only accepted units count: refused or held mail teaches nothing. The amount a window is
// judged by is clamp(factor x u, floor, the window's own amount); a new subject (u = 0)
// starts at the floor. The emission scales with that amount, the tolerance in time stays
// (so the burst scales too) and so does the lock threshold (lock_after x the amount).
//
// The arithmetic is defined here; store/check.lua repeats it operation for operation
// (doubles where the products can pass 2^53, so both sides round alike) and the
// conformance suite holds the two equal. Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "floodgate/counter_store.h"
#include "policy/gcra.h"

namespace floodgate::policy {

// How far the usual peak of a window of `period_us` may rise per period, in millionths.
std::int64_t RisePpm(Micros period_us);

// The floor divided by the factor, in millionths of a unit: the least the usual peak rises
// from, so that a new subject can learn.
std::int64_t RiseBase(const WindowSpec& w, std::int64_t factor_milli);

// True when `w` of a check with `factor_milli` adapts.
inline bool Adapts(const WindowSpec& w, std::int64_t factor_milli) {
  return factor_milli > 0 && w.floor_amount > 0 && w.amount > 0;
}

// Ends the counted period when `now` is past it: folds its total into the usual peak and
// starts the period `now` is in.
void Roll(const WindowSpec& w, std::int64_t factor_milli, WindowState& s, Micros now);

// The amount the window allows the subject: clamp(factor x usual, floor, amount).
std::int64_t EffectiveAmount(const WindowSpec& w, std::int64_t factor_milli, std::int64_t usual);

// `w` judged by `amount` (<= w.amount): emission and lock threshold scaled, tolerance kept
// (but never below one unit's emission).
WindowSpec Tightened(const WindowSpec& w, std::int64_t amount);

}  // namespace floodgate::policy
