#include "tools/simulate/workload_reader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <toml.hpp>

#include "policy/duration.h"

namespace floodgate::simulate {
namespace {

using TomlValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Typed accessors that record the first error as "FILE:LINE: where.key message" and
// return false; callers stop at the first false.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  const std::optional<Error>& error() const { return error_; }

  static int Line(const TomlValue& v) { return static_cast<int>(v.location().line()); }

  bool Fail(const TomlValue& at, const std::string& message) {
    if (!error_) {
      error_ = Error(ErrorKind::kInvalid, fmt::format("{}:{}: {}", source_, Line(at), message));
    }
    return false;
  }

  static const TomlValue* Find(const TomlValue& table, const std::string& key) {
    const auto& t = table.as_table();
    const auto it = t.find(key);
    return it == t.end() ? nullptr : &it->second;
  }

  static std::string Name(std::string_view where, std::string_view key) {
    return where.empty() ? std::string(key) : fmt::format("{}.{}", where, key);
  }

  bool Table(const TomlValue& v, std::string_view what) {
    return v.is_table() || Fail(v, fmt::format("{} must be a table", what));
  }

  // The first unknown key by line, so the same one is reported every time.
  bool Keys(const TomlValue& table, std::initializer_list<std::string_view> allowed,
            std::string_view where) {
    const std::string* first = nullptr;
    const TomlValue* first_value = nullptr;
    for (const auto& [key, value] : table.as_table()) {
      bool known = false;
      for (std::string_view a : allowed) known = known || key == a;
      if (!known && (first_value == nullptr || Line(value) < Line(*first_value))) {
        first = &key;
        first_value = &value;
      }
    }
    if (first == nullptr) return true;
    return Fail(*first_value, where.empty() ? fmt::format("unknown key '{}'", *first)
                                            : fmt::format("unknown key '{}' in {}", *first, where));
  }

  bool Require(const TomlValue& table, const std::string& key, std::string_view where) {
    return Find(table, key) != nullptr || Fail(table, fmt::format("{} needs '{}'", where, key));
  }

  bool Int(const TomlValue& table, const std::string& key, std::string_view where, std::int64_t min,
           std::int64_t max, std::int64_t* out) {
    const TomlValue* v = Find(table, key);
    if (v == nullptr) return true;
    if (!v->is_integer()) return Fail(*v, Name(where, key) + " must be an integer");
    const std::int64_t n = v->as_integer();
    if (n < min || n > max) {
      return Fail(*v,
                  fmt::format("{} must be from {} to {} (got {})", Name(where, key), min, max, n));
    }
    *out = n;
    return true;
  }

  // An integer or a float in [min, max] (or (min, max] when min_open).
  bool Number(const TomlValue& table, const std::string& key, std::string_view where, double min,
              double max, bool min_open, double* out) {
    const TomlValue* v = Find(table, key);
    if (v == nullptr) return true;
    double x = 0;
    if (v->is_integer()) {
      x = static_cast<double>(v->as_integer());
    } else if (v->is_floating()) {
      x = v->as_floating();
    } else {
      return Fail(*v, Name(where, key) + " must be a number");
    }
    const bool low = min_open ? !(x > min) : !(x >= min);
    if (low || !(x <= max) || !std::isfinite(x)) {
      const std::string range = max == kInf ? fmt::format("{} {:g}", min_open ? ">" : ">=", min)
                                            : fmt::format("from {:g}{} to {:g}", min,
                                                          min_open ? " (exclusive)" : "", max);
      return Fail(*v, fmt::format("{} must be {} (got {:g})", Name(where, key), range, x));
    }
    *out = x;
    return true;
  }

  bool String(const TomlValue& table, const std::string& key, std::string_view where,
              std::string* out) {
    const TomlValue* v = Find(table, key);
    if (v == nullptr) return true;
    if (!v->is_string()) return Fail(*v, Name(where, key) + " must be a string");
    *out = v->as_string().str;
    return true;
  }

  bool Duration(const TomlValue& table, const std::string& key, std::string_view where,
                Micros* out) {
    std::string text;
    if (Find(table, key) == nullptr) return true;
    if (!String(table, key, where, &text)) return false;
    const std::optional<std::int64_t> s = policy::ParseDuration(text);
    if (!s) {
      return Fail(*Find(table, key),
                  fmt::format("{} must be a duration like \"90s\", \"30m\", \"2h\", \"1d\" (got "
                              "\"{}\")",
                              Name(where, key), text));
    }
    *out = *s * kSecondUs;
    return true;
  }

  // A number (a constant) or a table { kind = "...", <its parameters>, max = ... }.
  bool Dist(const TomlValue& table, const std::string& key, std::string_view where,
            Distribution* out) {
    const TomlValue* v = Find(table, key);
    if (v == nullptr) return true;
    const std::string name = Name(where, key);
    if (v->is_integer() || v->is_floating()) {
      double x = 0;
      if (!Number(table, key, where, 0, kInf, false, &x)) return false;
      *out = Distribution::Constant(x);
      return true;
    }
    if (!v->is_table()) {
      return Fail(*v, name +
                          " must be a number or a table such as { kind = \"lognormal\", "
                          "median = 6, sigma = 1 }");
    }
    if (!Require(*v, "kind", name)) return false;
    std::string kind;
    if (!String(*v, "kind", name, &kind)) return false;
    Distribution d;
    using K = Distribution::Kind;
    if (kind == "constant") {
      d.kind = K::kConstant;
      if (!Keys(*v, {"kind", "value", "max"}, name) || !Require(*v, "value", name) ||
          !Number(*v, "value", name, 0, kInf, false, &d.a)) {
        return false;
      }
    } else if (kind == "uniform") {
      d.kind = K::kUniform;
      if (!Keys(*v, {"kind", "min", "max"}, name) || !Require(*v, "min", name) ||
          !Require(*v, "max", name) || !Number(*v, "min", name, 0, kInf, false, &d.a) ||
          !Number(*v, "max", name, d.a, kInf, false, &d.b)) {
        return false;
      }
      d.max = d.b;
    } else if (kind == "lognormal") {
      d.kind = K::kLognormal;
      if (!Keys(*v, {"kind", "median", "sigma", "max"}, name) || !Require(*v, "median", name) ||
          !Require(*v, "sigma", name) || !Number(*v, "median", name, 0, kInf, true, &d.a) ||
          !Number(*v, "sigma", name, 0, 5, false, &d.b)) {
        return false;
      }
    } else if (kind == "pareto") {
      d.kind = K::kPareto;
      if (!Keys(*v, {"kind", "min", "alpha", "max"}, name) || !Require(*v, "min", name) ||
          !Require(*v, "alpha", name) || !Number(*v, "min", name, 0, kInf, true, &d.a) ||
          !Number(*v, "alpha", name, 0, 100, true, &d.b)) {
        return false;
      }
    } else if (kind == "geometric") {
      d.kind = K::kGeometric;
      if (!Keys(*v, {"kind", "mean", "max"}, name) || !Require(*v, "mean", name) ||
          !Number(*v, "mean", name, 1, kInf, false, &d.a)) {
        return false;
      }
    } else {
      return Fail(*Find(*v, "kind"),
                  fmt::format("{}.kind must be one of \"constant\", \"uniform\", \"lognormal\", "
                              "\"pareto\", \"geometric\" (got \"{}\")",
                              name, kind));
    }
    if (d.kind != K::kUniform && !Number(*v, "max", name, 0, kInf, true, &d.max)) return false;
    *out = d;
    return true;
  }

  bool Hours(const TomlValue& table, const std::string& key, std::string_view where,
             std::array<double, 24>* out) {
    const TomlValue* v = Find(table, key);
    if (v == nullptr) return true;
    const std::string name = Name(where, key);
    if (!v->is_array() || v->as_array().size() != 24) {
      return Fail(*v, name + " must be an array of 24 numbers (00-01 first)");
    }
    std::array<double, 24> hours{};
    double total = 0;
    for (std::size_t h = 0; h < 24; ++h) {
      const TomlValue& e = v->as_array()[h];
      if (e.is_integer()) {
        hours[h] = static_cast<double>(e.as_integer());
      } else if (e.is_floating()) {
        hours[h] = e.as_floating();
      } else {
        return Fail(e, fmt::format("{}[{}] must be a number", name, h));
      }
      if (!(hours[h] >= 0) || !std::isfinite(hours[h])) {
        return Fail(e, fmt::format("{}[{}] must be >= 0", name, h));
      }
      total += hours[h];
    }
    if (!(total > 0)) return Fail(*v, name + " must not be all zero");
    *out = hours;
    return true;
  }

 private:
  std::string source_;
  std::optional<Error> error_;
};

bool ReadPopulation(Reader& r, const TomlValue& t, Population* p) {
  const char* w = "population";
  if (!r.Table(t, "[population]")) return false;
  if (!r.Keys(t,
              {"accounts", "domain", "local_share", "daily_messages", "day_variation", "recipients",
               "domain_pool", "domain_zipf", "new_domain_share", "global_domains"},
              "[population]")) {
    return false;
  }
  if (!r.Int(t, "accounts", w, 1, 10'000'000, &p->accounts) ||
      !r.String(t, "domain", w, &p->domain) ||
      !r.Number(t, "local_share", w, 0, 1, false, &p->local_share) ||
      !r.Dist(t, "daily_messages", w, &p->daily_messages) ||
      !r.Number(t, "day_variation", w, 0, 5, false, &p->day_variation) ||
      !r.Dist(t, "recipients", w, &p->recipients) ||
      !r.Dist(t, "domain_pool", w, &p->domain_pool) ||
      !r.Number(t, "domain_zipf", w, 0, 10, false, &p->domain_zipf) ||
      !r.Number(t, "new_domain_share", w, 0, 1, false, &p->new_domain_share) ||
      !r.Int(t, "global_domains", w, 1, 10'000'000, &p->global_domains)) {
    return false;
  }
  if (p->domain.empty() || p->domain.find_first_of("@<> \t") != std::string::npos) {
    return r.Fail(*Reader::Find(t, "domain"), "population.domain must be a plain domain name");
  }
  return true;
}

bool ReadRhythm(Reader& r, const TomlValue& t, Rhythm* rhythm) {
  const char* w = "rhythm";
  if (!r.Table(t, "[rhythm]") ||
      !r.Keys(t, {"weekday_hours", "weekend_hours", "weekend_factor"}, "[rhythm]")) {
    return false;
  }
  if (!r.Hours(t, "weekday_hours", w, &rhythm->weekday_hours)) return false;
  rhythm->weekend_hours = rhythm->weekday_hours;
  return r.Hours(t, "weekend_hours", w, &rhythm->weekend_hours) &&
         r.Number(t, "weekend_factor", w, 0, 10, false, &rhythm->weekend_factor);
}

bool ReadRetry(Reader& r, const TomlValue& t, Retry* retry) {
  return r.Table(t, "[retry]") && r.Keys(t, {"attempts", "delay"}, "[retry]") &&
         r.Int(t, "attempts", "retry", 0, 100, &retry->attempts) &&
         r.Duration(t, "delay", "retry", &retry->delay_us);
}

bool ReadBurst(Reader& r, const TomlValue& t, const std::string& w, Burst* b) {
  if (!r.Table(t, w) ||
      !r.Keys(
          t, {"name", "weekly_probability", "messages", "recipients", "within", "new_domain_share"},
          w) ||
      !r.Require(t, "name", w) || !r.Require(t, "weekly_probability", w)) {
    return false;
  }
  return r.String(t, "name", w, &b->name) &&
         r.Number(t, "weekly_probability", w, 0, 1, false, &b->weekly_probability) &&
         r.Int(t, "messages", w, 1, 100'000, &b->messages) &&
         r.Int(t, "recipients", w, 1, 10'000, &b->recipients) &&
         r.Duration(t, "within", w, &b->within_us) &&
         r.Number(t, "new_domain_share", w, 0, 1, false, &b->new_domain_share);
}

bool ReadVictim(Reader& r, const TomlValue& t, const std::string& w, VictimChoice* v) {
  if (!r.Table(t, w) || !r.Keys(t, {"min_usual_day", "max_usual_day", "account"}, w) ||
      !r.Number(t, "min_usual_day", w, 0, kInf, false, &v->min_usual_day) ||
      !r.Number(t, "max_usual_day", w, 0, kInf, false, &v->max_usual_day)) {
    return false;
  }
  if (Reader::Find(t, "account") != nullptr) {
    std::int64_t n = 0;
    if (!r.Int(t, "account", w, 0, 10'000'000, &n)) return false;
    v->account = n;
  }
  if (v->max_usual_day > 0 && v->max_usual_day <= v->min_usual_day) {
    return r.Fail(*Reader::Find(t, "max_usual_day"),
                  w + ".max_usual_day must be above min_usual_day");
  }
  return true;
}

// "HH:MM" -> microseconds since midnight.
std::optional<Micros> ParseClockTime(const std::string& text) {
  unsigned h = 0, m = 0;
  char extra = 0;
  if (text.size() != 5 || std::sscanf(text.c_str(), "%2u:%2u%c", &h, &m, &extra) != 2 || h > 23 ||
      m > 59) {
    return std::nullopt;
  }
  return h * kHourUs + m * kMinuteUs;
}

bool ReadHijack(Reader& r, const TomlValue& t, const std::string& w, std::int64_t days, Hijack* h) {
  if (!r.Table(t, w) || !r.Keys(t,
                                {"name", "victim", "start_day", "start_time", "duration", "rate",
                                 "recipients", "networks"},
                                w)) {
    return false;
  }
  for (const char* key : {"name", "victim", "start_day", "rate"}) {
    if (!r.Require(t, key, w)) return false;
  }
  std::int64_t start_day = 0;
  std::string start_time = "00:00";
  if (!r.String(t, "name", w, &h->name) ||
      !ReadVictim(r, *Reader::Find(t, "victim"), w + ".victim", &h->victim) ||
      !r.Int(t, "start_day", w, 0, days - 1, &start_day) ||
      !r.String(t, "start_time", w, &start_time) ||
      !r.Duration(t, "duration", w, &h->duration_us) || !r.String(t, "rate", w, &h->rate_text) ||
      !r.Int(t, "recipients", w, 1, 1000, &h->recipients) ||
      !r.Int(t, "networks", w, 1, 1000, &h->networks)) {
    return false;
  }
  const std::optional<Micros> at = ParseClockTime(start_time);
  if (!at) {
    return r.Fail(*Reader::Find(t, "start_time"),
                  fmt::format("{}.start_time must be \"HH:MM\" (got \"{}\")", w, start_time));
  }
  h->start = start_day * kDayUs + *at;
  const Result<policy::Rate> rate = policy::ParseRate(h->rate_text);
  if (!rate.ok()) {
    return r.Fail(*Reader::Find(t, "rate"),
                  fmt::format("{}.rate (recipients per period): {}", w, rate.error().message()));
  }
  h->recipients_per_hour =
      static_cast<double>(rate->amount) * 3600.0 / static_cast<double>(rate->period_s);
  if (h->start + h->duration_us > days * kDayUs) {
    return r.Fail(t, fmt::format("{} ends after the last simulated day (days = {})", w, days));
  }
  return true;
}

// Each element of the array of tables `key`, with its name for messages ("hijack[2]").
template <class T, class F>
bool ReadList(Reader& r, const TomlValue& root, const std::string& key, std::vector<T>* out,
              F read) {
  const TomlValue* v = Reader::Find(root, key);
  if (v == nullptr) return true;
  if (!v->is_array()) return r.Fail(*v, fmt::format("{} must be written [[{}]]", key, key));
  std::set<std::string> names;
  for (std::size_t i = 0; i < v->as_array().size(); ++i) {
    const TomlValue& e = v->as_array()[i];
    T item;
    const std::string where = fmt::format("{}[{}]", key, i + 1);
    if (!read(e, where, &item)) return false;
    if (!names.insert(item.name).second) {
      return r.Fail(e, fmt::format("{}.name \"{}\" is used twice", where, item.name));
    }
    out->push_back(std::move(item));
  }
  return true;
}

Result<Workload> Build(const TomlValue& root, const std::string& source) {
  Reader r(source);
  Workload w;
  w.source = source;
  auto fail = [&]() -> Result<Workload> { return *r.error(); };
  if (!r.Keys(root, {"seed", "days", "population", "rhythm", "burst", "retry", "hijack"}, "")) {
    return fail();
  }
  std::int64_t seed = 1;
  if (!r.Int(root, "seed", "", 0, std::numeric_limits<std::int64_t>::max(), &seed) ||
      !r.Int(root, "days", "", 1, 3660, &w.days)) {
    return fail();
  }
  w.seed = static_cast<std::uint64_t>(seed);
  if (const TomlValue* t = Reader::Find(root, "population")) {
    if (!ReadPopulation(r, *t, &w.population)) return fail();
  }
  if (const TomlValue* t = Reader::Find(root, "rhythm")) {
    if (!ReadRhythm(r, *t, &w.rhythm)) return fail();
  }
  if (const TomlValue* t = Reader::Find(root, "retry")) {
    if (!ReadRetry(r, *t, &w.retry)) return fail();
  }
  if (!ReadList(r, root, "burst", &w.bursts,
                [&](const TomlValue& e, const std::string& where, Burst* b) {
                  return ReadBurst(r, e, where, b);
                }) ||
      !ReadList(r, root, "hijack", &w.hijacks,
                [&](const TomlValue& e, const std::string& where, Hijack* h) {
                  return ReadHijack(r, e, where, w.days, h);
                })) {
    return fail();
  }
  return w;
}

}  // namespace

Result<Workload> ParseWorkload(const std::string& text, const std::string& source_name) {
  try {
    std::istringstream in(text);
    const TomlValue root =
        toml::parse<toml::discard_comments, std::map, std::vector>(in, source_name);
    return Build(root, source_name);
  } catch (const toml::exception& e) {
    return Error(ErrorKind::kInvalid,
                 fmt::format("{}:{}: {}", source_name, e.location().line(), e.what()));
  } catch (const std::exception& e) {
    return Error(ErrorKind::kInvalid, fmt::format("{}: {}", source_name, e.what()));
  }
}

Result<Workload> LoadWorkload(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorKind::kNotFound,
                 fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseWorkload(text.str(), path);
}

}  // namespace floodgate::simulate
