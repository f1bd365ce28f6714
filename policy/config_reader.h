// ConfigReader: the typed, located accessors the config loader builds on (internal to
// policy/; includes toml11, so only the loader's .cc files include it).
//
// Every accessor checks the TOML type and range of one key and, on failure, records the
// first error as "FILE:LINE: message" (the line of the offending value, else of its table)
// and returns false; callers stop at the first false. Nothing here throws.
// Thread-safety: one reader per parse.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <toml.hpp>
#include <utility>
#include <vector>

#include "floodgate/result.h"
#include "policy/config.h"

namespace floodgate::policy {

// Ordered tables, so that of several unknown keys the same one is reported every time.
using TomlValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

class ConfigReader {
 public:
  explicit ConfigReader(std::string source) : source_(std::move(source)) {}

  static int Line(const TomlValue& v) { return static_cast<int>(v.location().line()); }

  // Records `message` at `line` unless an error is already recorded; returns false.
  bool FailAt(int line, const std::string& message);
  bool Fail(const TomlValue& at, const std::string& message) { return FailAt(Line(at), message); }
  const std::optional<Error>& error() const { return error_; }

  // The value of `key` in `table`, or nullptr when absent.
  static const TomlValue* Find(const TomlValue& table, const std::string& key);

  // `v` must be a table; `what` names it in the message ("[milter]", "max_networks").
  bool ExpectTable(const TomlValue& v, std::string_view what);
  // Refuses the first key (by line) of `table` that is not in `allowed`.
  bool CheckKeys(const TomlValue& table, std::initializer_list<std::string_view> allowed,
                 std::string_view where);
  // Refuses a missing `key`, at the table's line.
  bool Require(const TomlValue& table, const std::string& key, std::string_view where);

  // Optional scalar keys: absent leaves *out untouched and returns true.
  bool GetString(const TomlValue& table, const std::string& key, std::string* out);
  bool GetInt(const TomlValue& table, const std::string& key, std::int64_t min, std::int64_t max,
              std::int64_t* out);
  bool GetInt(const TomlValue& table, const std::string& key, int min, int max, int* out);
  // A duration string ("30m", "1h", "1d"), in seconds.
  bool GetDuration(const TomlValue& table, const std::string& key, std::int64_t* out);
  // An array of strings; each element is returned with its own value (for its line).
  bool GetStringArray(const TomlValue& table, const std::string& key,
                      std::vector<const TomlValue*>* out);

  // One of `names` (the spelling in the file) mapped to its enum value.
  template <class E>
  bool GetEnum(const TomlValue& table, const std::string& key,
               std::initializer_list<std::pair<std::string_view, E>> names, E* out) {
    const TomlValue* v = Find(table, key);
    if (v == nullptr) return true;
    std::string text;
    if (!GetString(table, key, &text)) return false;
    std::string choices;
    for (const auto& [name, value] : names) {
      if (name == text) {
        *out = value;
        return true;
      }
      choices += choices.empty() ? "" : ", ";
      choices += '"' + std::string(name) + '"';
    }
    return Fail(*v, key + " must be one of " + choices + " (got \"" + text + "\")");
  }

 private:
  std::string source_;
  std::optional<Error> error_;
};

// ASCII lower-casing: logins, addresses and domains are compared case-insensitively.
std::string ToLowerAscii(std::string_view s);

// Reads every [[limit]] and [[override]] of `root` into `config`, and checks that the
// overrides refer to existing limits of the same subject kind. Defined in config_limits.cc.
bool ReadLimitsAndOverrides(ConfigReader& r, const TomlValue& root, Config* config);

// `{ count = N, window = "1h" }` of max_networks and max_recipient_domains (`key`), count
// from 1 to max_count. Defined in config_signals.cc.
bool ReadDistinct(ConfigReader& r, const TomlValue& v, const std::string& key, int max_count,
                  int* count_out, std::int64_t* window_out);

// adaptive = { factor, floor = [...] } of `limit`, whose rates are read already. Defined in
// config_signals.cc.
bool ReadAdaptive(ConfigReader& r, const TomlValue& v, Limit* limit);

// Reads the mail keys of [alerts] (mail_to, mail_events, mail_from, sendmail_path) and
// fills in mail_from's default. Defined in config_alerts.cc.
bool ReadAlertMail(ConfigReader& r, const TomlValue& alerts, AlertsConfig* a);

}  // namespace floodgate::policy
