// Reading the signals of a hijacked account on a limit: the distinct-count settings
// (max_networks, max_recipient_domains) and adaptive = { factor, floor }.
#include <fmt/format.h>

#include "policy/config_reader.h"
#include "policy/duration.h"

namespace floodgate::policy {

// `{ count = N, window = "1h" }` of max_networks and max_recipient_domains. The distinct
// set a store keeps holds count + 1 entries at most, so count stays small.
bool ReadDistinct(ConfigReader& r, const TomlValue& v, const std::string& key, int max_count,
                  int* count_out, std::int64_t* window_out) {
  if (!r.ExpectTable(v, key + " (e.g. { count = 5, window = \"1h\" })")) return false;
  if (!r.CheckKeys(v, {"count", "window"}, key)) return false;
  if (!r.Require(v, "count", key) || !r.Require(v, "window", key)) return false;
  const TomlValue& count = *ConfigReader::Find(v, "count");
  if (!count.is_integer() || count.as_integer() < 1 || count.as_integer() > max_count) {
    return r.Fail(count, fmt::format("{} count must be an integer from 1 to {}", key, max_count));
  }
  *count_out = static_cast<int>(count.as_integer());
  return r.GetDuration(v, "window", window_out);
}

// adaptive = { factor = 10, floor = ["10/1m", "50/1h", "200/1d"] }: each floor names one
// of the limit's windows by its period and is at most that window's amount.
bool ReadAdaptive(ConfigReader& r, const TomlValue& v, Limit* limit) {
  constexpr const char* kExample =
      "adaptive (e.g. { factor = 10, floor = [\"10/1m\", \"50/1h\", \"200/1d\"] })";
  if (!r.ExpectTable(v, kExample)) return false;
  if (!r.CheckKeys(v, {"factor", "floor"}, "adaptive")) return false;
  if (!r.Require(v, "factor", "adaptive") || !r.Require(v, "floor", "adaptive")) return false;
  const TomlValue& factor = *ConfigReader::Find(v, "factor");
  const double f = factor.is_integer()    ? static_cast<double>(factor.as_integer())
                   : factor.is_floating() ? factor.as_floating()
                                          : 0.0;
  if (!(f >= 1.0 && f <= 1000.0)) {
    return r.Fail(factor,
                  "adaptive factor must be a number from 1 to 1000 (how many times its "
                  "usual peak a subject may send)");
  }
  limit->adaptive.factor_milli = static_cast<std::int64_t>(f * 1000.0 + 0.5);
  std::vector<const TomlValue*> texts;
  if (!r.GetStringArray(v, "floor", &texts)) return false;
  if (texts.empty()) {
    return r.Fail(*ConfigReader::Find(v, "floor"),
                  "adaptive floor must name at least one rate, e.g. [\"50/1h\"]");
  }
  for (const TomlValue* t : texts) {
    Result<Rate> floor = ParseRate(t->as_string().str);
    if (!floor.ok()) return r.Fail(*t, "adaptive floor: " + floor.error().message());
    const Rate* window = nullptr;
    for (const Rate& w : limit->rates) {
      if (w.period_s == floor->period_s) window = &w;
    }
    if (window == nullptr) {
      return r.Fail(*t, fmt::format("adaptive floor \"{}\" has no window of the same period in "
                                    "rate: each floor belongs to one window",
                                    floor->text));
    }
    if (limit->adaptive.FloorFor(floor->period_s) > 0) {
      return r.Fail(*t,
                    fmt::format("adaptive floor names the period of \"{}\" twice", floor->text));
    }
    if (floor->amount > window->amount) {
      return r.Fail(*t, fmt::format("adaptive floor \"{}\" is above its window \"{}\": the "
                                    "floor is the least a subject may send, the rate the most",
                                    floor->text, window->text));
    }
    limit->adaptive.floor.push_back(std::move(floor.value()));
  }
  return true;
}

}  // namespace floodgate::policy
