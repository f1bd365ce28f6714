#include "policy/gcra.h"

#include <algorithm>

#include "policy/adaptive.h"

namespace floodgate::policy {
namespace {

// Fit test for one window: the TAT after charging `cost`, and whether it fits.
struct Trial {
  Micros new_tat;
  bool fits;
};

Trial Try(const WindowSpec& w, const WindowState& s, std::int64_t cost, Micros now) {
  const Micros base = std::max(s.tat, now);
  const Micros new_tat = base + cost * w.emission_us;
  return {new_tat, new_tat - now <= w.tolerance_us};
}

void Lock(LimitOutcome& lo, const char* reason) {
  lo.allowed = false;
  lo.locked = true;
  lo.newly_locked = true;
  lo.lock_reason = reason;
}

}  // namespace

CheckOutcome ApplyChecks(const std::vector<LimitCheck>& checks,
                         std::vector<std::vector<WindowState>>& states,
                         const std::vector<SubjectState>& subjects, Micros now) {
  CheckOutcome out;
  out.limits.resize(checks.size());
  std::vector<std::vector<Trial>> trials(checks.size());
  // Each window as it is judged for its subject (tightened when it adapts).
  std::vector<std::vector<WindowSpec>> judged(checks.size());

  // 1. Evaluate: locks first, then every window of every limit.
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const LimitCheck& c = checks[i];
    LimitOutcome& lo = out.limits[i];
    lo.windows.resize(c.windows.size());
    if (subjects[i].locked) {
      lo.allowed = false;
      lo.locked = true;
      lo.lock_reason = subjects[i].lock_reason;
    } else if (!c.advisory && c.max_networks > 0 &&
               subjects[i].distinct_networks > c.max_networks) {
      Lock(lo, "too_many_networks");
    } else if (!c.advisory && c.max_domains > 0 && subjects[i].distinct_domains > c.max_domains) {
      Lock(lo, "too_many_domains");
    }
    for (std::size_t j = 0; j < c.windows.size(); ++j) {
      WindowSpec w = c.windows[j];
      WindowOutcome& wo = lo.windows[j];
      wo.amount = w.amount;
      if (Adapts(w, c.adaptive_factor_milli)) {
        Roll(w, c.adaptive_factor_milli, states[i][j], now);
        wo.amount = EffectiveAmount(w, c.adaptive_factor_milli, states[i][j].usual);
        wo.adapted = wo.amount < w.amount;
        w = Tightened(w, wo.amount);
      }
      const Trial t = Try(w, states[i][j], c.cost, now);
      trials[i].push_back(t);
      judged[i].push_back(w);
      if (!t.fits) {
        wo.refused = true;
        wo.retry_after_us = t.new_tat - now - w.tolerance_us;
        lo.allowed = false;
      }
    }
    if (!lo.allowed && (!c.advisory || lo.locked)) out.allowed = false;
  }

  // 2. Charge, count refusals, and lock on bursts. A locked subject charges nothing.
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const LimitCheck& c = checks[i];
    LimitOutcome& lo = out.limits[i];
    const bool accepted = !lo.locked && out.allowed && lo.allowed;
    const bool charge = !lo.locked && (c.strict || accepted);
    for (std::size_t j = 0; j < c.windows.size(); ++j) {
      WindowState& s = states[i][j];
      const WindowSpec& w = judged[i][j];
      if (charge) s.tat = std::min(trials[i][j].new_tat, now + w.tolerance_us + w.period_us);
      // Only accepted units teach a window its subject's normal.
      if (accepted && Adapts(w, c.adaptive_factor_milli)) s.accepted += c.cost;
      WindowOutcome& wo = lo.windows[j];
      if (!wo.refused || lo.locked) continue;
      if (s.reported_until <= now) {
        wo.first_refusal = true;
        s.reported_until = now + w.period_us;
        s.refused = 0;
      }
      s.refused += c.cost;
      if (!c.advisory && w.lock_threshold > 0 && s.refused >= w.lock_threshold && !lo.locked) {
        Lock(lo, "burst");
        lo.refused_units = s.refused;
        s.refused = 0;  // a new lock (after an unlock or lock_ttl) takes a new burst
      }
    }
  }
  return out;
}

WindowLevel Inspect(const WindowSpec& w, const WindowState& s, Micros now) {
  WindowLevel level;
  const Micros ahead = std::max<Micros>(0, s.tat - now);
  const std::int64_t capacity = w.tolerance_us / w.emission_us;
  level.used = std::min<std::int64_t>(capacity, (ahead + w.emission_us - 1) / w.emission_us);
  level.idle_in_us = ahead;
  // One unit fits iff max(TAT, now) + E - now <= tolerance (the fit test of ApplyChecks).
  level.frees_in_us = std::max<Micros>(0, ahead + w.emission_us - w.tolerance_us);
  level.over = level.frees_in_us > 0;
  return level;
}

}  // namespace floodgate::policy
