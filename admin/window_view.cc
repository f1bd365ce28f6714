#include "admin/window_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "policy/adaptive.h"
#include "policy/planner.h"

namespace floodgate::admin {
WindowView ViewWindow(const policy::Limit& limit, const policy::Rate& rate,
                      const policy::StoredWindows& windows, Micros now, const policy::Override* o) {
  WindowSpec w = policy::LimitWindow(limit, rate, o);
  const auto it = windows.find(w.period_us);
  policy::WindowState state = it == windows.end() ? policy::WindowState{} : it->second;
  WindowView v;
  v.amount = rate.amount;
  v.capacity = rate.burst > 0 ? rate.burst : rate.amount;
  const std::int64_t factor = policy::AdaptiveFactor(limit, o);
  if (policy::Adapts(w, factor)) {
    policy::Roll(w, factor, state, now);  // as the next check will see it
    v.adaptive = true;
    v.usual = static_cast<double>(state.usual) / 1e6;
    v.amount = policy::EffectiveAmount(w, factor, state.usual);
    w = policy::Tightened(w, v.amount);
    v.capacity = std::min(v.capacity, w.tolerance_us / w.emission_us);
  }
  const policy::WindowLevel level = policy::Inspect(w, state, now);
  v.rate = rate.text.empty() ? fmt::format("{}/{}s", rate.amount, rate.period_s) : rate.text;
  v.used = std::min(level.used, v.capacity);
  v.idle_in_us = level.idle_in_us;
  v.frees_in_us = level.frees_in_us;
  v.over = level.over;
  if (state.reported_until > now) v.refused = state.refused;
  return v;
}

std::string HumanDuration(Micros us) {
  if (us <= 0) return "now";
  std::int64_t s = (us + 999'999) / 1'000'000;
  const std::int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
  s %= 60;
  if (d) return h ? fmt::format("{}d {}h", d, h) : fmt::format("{}d", d);
  if (h) return m ? fmt::format("{}h {}m", h, m) : fmt::format("{}h", h);
  if (m) return s ? fmt::format("{}m {}s", m, s) : fmt::format("{}m", m);
  return fmt::format("{}s", s);
}

std::string DecodeKeyComponent(std::string_view e) {
  std::string out;
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (e[i] == '%' && i + 2 < e.size()) {
      const std::string hex(e.substr(i + 1, 2));
      char* end = nullptr;
      const long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += e[i];
  }
  return out;
}

}  // namespace floodgate::admin
