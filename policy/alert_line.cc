#include "policy/alert_line.h"

#include <fmt/format.h>

namespace floodgate::policy {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil):
// timegm without the process' time zone.
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// One value at the start of `rest`: plain up to the next space, or quoted. Advances `rest`.
std::optional<std::string> ReadValue(std::string_view& rest) {
  std::string out;
  if (rest.empty() || rest.front() != '"') {
    const std::size_t end = rest.find(' ');
    out = std::string(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    return out;
  }
  std::size_t i = 1;
  for (; i < rest.size() && rest[i] != '"'; ++i) {
    if (rest[i] != '\\') {
      out += rest[i];
      continue;
    }
    if (++i >= rest.size()) return std::nullopt;
    if (rest[i] == 'x') {
      if (i + 2 >= rest.size() || Hex(rest[i + 1]) < 0 || Hex(rest[i + 2]) < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(Hex(rest[i + 1]) * 16 + Hex(rest[i + 2]));
      i += 2;
    } else {
      out += rest[i];
    }
  }
  if (i >= rest.size()) return std::nullopt;  // no closing quote
  rest = rest.substr(i + 1);
  return out;
}

}  // namespace

std::string AlertLine::Field(std::string_view key) const {
  for (const auto& [k, v] : alert.fields) {
    if (k == key) return v;
  }
  return "";
}

std::optional<std::time_t> ParseUtcStamp(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SSZ
  if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t[19] != 'Z') {
    return std::nullopt;
  }
  const auto num = [&](std::size_t at, std::size_t len) -> int {
    int n = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      n = n * 10 + (t[i] - '0');
    }
    return n;
  };
  const int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
            s = num(17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      s < 0 || s > 60) {
    return std::nullopt;
  }
  return static_cast<std::time_t>(
      DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
      mi * 60 + s);
}

std::string UtcStamp(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<AlertLine> ParseAlertLine(std::string_view line) {
  AlertLine out;
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto stamp = ParseUtcStamp(line.substr(0, space));
  if (!stamp) return std::nullopt;
  out.time = *stamp;
  std::string_view rest = line.substr(space);
  bool first = true;
  while (!rest.empty()) {
    if (rest.front() != ' ') return std::nullopt;
    rest.remove_prefix(1);
    const std::size_t eq = rest.find('=');
    if (eq == 0 || eq == std::string_view::npos) return std::nullopt;
    std::string key(rest.substr(0, eq));
    if (key.find_first_of(" \"") != std::string::npos) return std::nullopt;
    rest.remove_prefix(eq + 1);
    auto value = ReadValue(rest);
    if (!value) return std::nullopt;
    if (first) {
      if (key != "event" || value->empty()) return std::nullopt;
      out.alert.event = std::move(*value);
      first = false;
    } else {
      out.alert.fields.emplace_back(std::move(key), std::move(*value));
    }
  }
  if (first) return std::nullopt;
  return out;
}

}  // namespace floodgate::policy
