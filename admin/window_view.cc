#include "admin/window_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "floodgate/store_layout.h"
#include "policy/planner.h"

namespace floodgate::admin {
namespace {

std::int64_t Field(const std::map<std::string, std::string>& hash, const std::string& name) {
  auto it = hash.find(name);
  if (it == hash.end()) return 0;
  try {
    return static_cast<std::int64_t>(std::stod(it->second));
  } catch (...) {
    return 0;
  }
}

}  // namespace

WindowView ViewWindow(const policy::Rate& rate, const std::map<std::string, std::string>& hash,
                      Micros now) {
  const WindowSpec w = policy::ToWindow(rate);
  const Micros tat = Field(hash, layout::Field(layout::kTatField, w.period_us));
  WindowView v;
  v.rate = rate.text.empty() ? fmt::format("{}/{}s", rate.amount, rate.period_s) : rate.text;
  v.capacity = rate.burst > 0 ? rate.burst : rate.amount;
  const Micros ahead = std::max<Micros>(0, tat - now);
  v.used = std::min<std::int64_t>(v.capacity, (ahead + w.emission_us - 1) / w.emission_us);
  v.idle_in_us = ahead;
  v.frees_in_us = std::max<Micros>(0, ahead + w.emission_us - w.tolerance_us);
  v.over = v.frees_in_us > 0;
  if (Field(hash, layout::Field(layout::kReportedField, w.period_us)) > now) {
    v.refused = Field(hash, layout::Field(layout::kRefusedField, w.period_us));
  }
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
