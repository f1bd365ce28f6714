// Typed, located accessors for the config loader (see config_reader.h).
#include "policy/config_reader.h"

#include <fmt/format.h>

#include "policy/duration.h"

namespace floodgate::policy {

bool ConfigReader::FailAt(int line, const std::string& message) {
  if (!error_) {
    error_ = Error(ErrorKind::kInvalid, fmt::format("{}:{}: {}", source_, line, message));
  }
  return false;
}

const TomlValue* ConfigReader::Find(const TomlValue& table, const std::string& key) {
  if (!table.is_table()) return nullptr;
  const auto& t = table.as_table();
  auto it = t.find(key);
  return it == t.end() ? nullptr : &it->second;
}

bool ConfigReader::ExpectTable(const TomlValue& v, std::string_view what) {
  if (v.is_table()) return true;
  return Fail(v, fmt::format("{} must be a table", what));
}

bool ConfigReader::CheckKeys(const TomlValue& table,
                             std::initializer_list<std::string_view> allowed,
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
  return Fail(*first_value, fmt::format("unknown key '{}' in {}", *first, where));
}

bool ConfigReader::Require(const TomlValue& table, const std::string& key, std::string_view where) {
  if (Find(table, key) != nullptr) return true;
  return Fail(table, fmt::format("{} needs '{}'", where, key));
}

bool ConfigReader::GetString(const TomlValue& table, const std::string& key, std::string* out) {
  const TomlValue* v = Find(table, key);
  if (v == nullptr) return true;
  if (!v->is_string()) return Fail(*v, fmt::format("{} must be a string", key));
  *out = v->as_string().str;
  return true;
}

bool ConfigReader::GetInt(const TomlValue& table, const std::string& key, std::int64_t min,
                          std::int64_t max, std::int64_t* out) {
  const TomlValue* v = Find(table, key);
  if (v == nullptr) return true;
  if (!v->is_integer()) return Fail(*v, fmt::format("{} must be an integer", key));
  const std::int64_t n = v->as_integer();
  if (n < min || n > max) {
    return Fail(*v, fmt::format("{} must be from {} to {} (got {})", key, min, max, n));
  }
  *out = n;
  return true;
}

bool ConfigReader::GetInt(const TomlValue& table, const std::string& key, int min, int max,
                          int* out) {
  std::int64_t n = *out;
  if (!GetInt(table, key, std::int64_t{min}, std::int64_t{max}, &n)) return false;
  *out = static_cast<int>(n);
  return true;
}

bool ConfigReader::GetDuration(const TomlValue& table, const std::string& key, std::int64_t* out) {
  const TomlValue* v = Find(table, key);
  if (v == nullptr) return true;
  if (!v->is_string()) {
    return Fail(*v,
                fmt::format("{} must be a duration string like \"30m\", \"1h\" or \"1d\"", key));
  }
  auto d = ParseDuration(v->as_string().str);
  if (!d) {
    return Fail(*v, fmt::format("invalid {} \"{}\": expected a duration from 1s to 366d like "
                                "\"30m\", \"1h\" or \"1d\"",
                                key, v->as_string().str));
  }
  *out = *d;
  return true;
}

bool ConfigReader::GetStringArray(const TomlValue& table, const std::string& key,
                                  std::vector<const TomlValue*>* out) {
  const TomlValue* v = Find(table, key);
  if (v == nullptr) return true;
  if (!v->is_array()) return Fail(*v, fmt::format("{} must be an array of strings", key));
  out->clear();
  for (const TomlValue& e : v->as_array()) {
    if (!e.is_string()) return Fail(e, fmt::format("{} must be an array of strings", key));
    out->push_back(&e);
  }
  return true;
}

std::string ToLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace floodgate::policy
