// LoadConfig / ParseConfig: TOML parsing (toml11) and the [milter], [store], [alerts],
// [metrics], [traffic] and [exempt] tables; [[limit]] and [[override]] live in config_limits.cc.
//
// toml11 reports problems by throwing; every exception is caught here and becomes an Error
// value. toml11 parses nested arrays and inline tables recursively, so input nested deeper
// than any real config is refused before it reaches the parser (a fuzzed file must not
// overflow the stack), and so is a file that is not valid UTF-8 (toml11 3.7.1 crashes on
// some invalid sequences inside strings; see utf8.h).
#include "policy/config_loader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "policy/config_reader.h"
#include "policy/recipient.h"
#include "policy/redis_url.h"
#include "policy/utf8.h"

namespace floodgate::policy {
namespace {

constexpr std::size_t kMaxConfigBytes = 1 << 20;
constexpr int kMaxNesting = 32;

// The line of the first place `text` nests arrays/inline tables, or chains dotted keys,
// more than kMaxNesting deep (outside strings and comments), or 0 when it does not.
int FindExcessiveNesting(std::string_view text) {
  int line = 1, depth = 0, dots = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      dots = 0;
    } else if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      const bool multi = text.substr(i, 3) == std::string_view(c == '"' ? "\"\"\"" : "'''");
      const std::string_view close = multi ? text.substr(i, 3) : text.substr(i, 1);
      i += close.size();
      while (i < text.size() && text.substr(i, close.size()) != close) {
        if (text[i] == '\n') ++line;
        if (c == '"' && text[i] == '\\') ++i;  // skip the escaped character
        ++i;
      }
      i += close.size() - 1;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return line;
    } else if (c == ']' || c == '}') {
      depth = depth > 0 ? depth - 1 : 0;
    } else if (c == '.') {
      if (++dots > kMaxNesting) return line;
    }
  }
  return 0;
}

bool ReadMilter(ConfigReader& r, const TomlValue& t, MilterConfig* m) {
  if (!r.ExpectTable(t, "[milter]") ||
      !r.CheckKeys(t, {"socket", "user", "umask", "timeout"}, "[milter]") ||
      !r.GetString(t, "socket", &m->socket) || !r.GetString(t, "user", &m->user) ||
      !r.GetInt(t, "timeout", 1, 3600, &m->timeout_s)) {
    return false;
  }
  if (const TomlValue* v = ConfigReader::Find(t, "socket")) {
    bool ok = false;
    for (std::string_view scheme : {"inet:", "inet6:", "unix:", "local:"}) {
      ok = ok || (m->socket.starts_with(scheme) && m->socket.size() > scheme.size());
    }
    if (!ok) {
      return r.Fail(*v, fmt::format("invalid socket \"{}\": expected libmilter syntax "
                                    "inet:PORT@HOST, inet6:PORT@HOST, unix:PATH or local:PATH",
                                    m->socket));
    }
  }
  const TomlValue* umask = ConfigReader::Find(t, "umask");
  if (umask == nullptr) return true;
  std::int64_t value = -1;
  if (umask->is_integer()) {
    value = umask->as_integer();
  } else if (umask->is_string()) {
    const std::string& s = umask->as_string().str;
    if (!s.empty() && s.size() <= 4 && s.find_first_not_of("01234567") == std::string::npos) {
      value = std::stoll(s, nullptr, 8);
    }
  }
  if (value < 0 || value > 0777) {
    return r.Fail(*umask,
                  "umask must be an octal number from 0 to 0777, written 0o007 or \"0007\"");
  }
  m->umask = static_cast<int>(value);
  return true;
}

bool ReadStore(ConfigReader& r, const TomlValue& t, StoreConfig* s) {
  if (!r.ExpectTable(t, "[store]") ||
      !r.CheckKeys(t,
                   {"backend", "url", "key_prefix", "timeout_ms", "on_error", "admin_socket",
                    "state_dir", "max_subjects"},
                   "[store]") ||
      !r.GetString(t, "admin_socket", &s->admin_socket) ||
      !r.GetString(t, "state_dir", &s->state_dir) ||
      !r.GetInt(t, "max_subjects", 1000, 1'000'000'000, &s->max_subjects) ||
      !r.GetEnum(t, "backend", {{"memory", Backend::kMemory}, {"redis", Backend::kRedis}},
                 &s->backend) ||
      !r.GetString(t, "url", &s->url) || !r.GetString(t, "key_prefix", &s->key_prefix) ||
      !r.GetInt(t, "timeout_ms", 1, 10000, &s->timeout_ms) ||
      !r.GetEnum(t, "on_error",
                 {{"local", OnError::kLocal},
                  {"tempfail", OnError::kTempfail},
                  {"accept", OnError::kAccept}},
                 &s->on_error)) {
    return false;
  }
  if (const TomlValue* v = ConfigReader::Find(t, "url")) {
    if (s->url.starts_with("rediss://")) {
      return r.Fail(*v,
                    "rediss:// is refused: TLS not supported (use a local stunnel or a "
                    "private network)");
    }
    // The parser the Redis store connects with: what it refuses, floodgate -n refuses.
    // Its errors name the bad part, never the whole url (it may hold a password).
    if (Result<RedisUrl> url = ParseRedisUrl(s->url); !url.ok()) {
      return r.Fail(*v, fmt::format("{}; expected redis://HOST:PORT/DB, "
                                    "unix:///PATH or redis+sentinel://HOST:PORT,.../MASTER",
                                    url.error().message()));
    }
  }
  if (const TomlValue* v = ConfigReader::Find(t, "admin_socket")) {
    // sockaddr_un holds 107 bytes of path; relative paths would depend on the cwd.
    if (!s->admin_socket.empty() && (s->admin_socket[0] != '/' || s->admin_socket.size() > 107)) {
      return r.Fail(*v, fmt::format("invalid admin_socket \"{}\": an absolute path of at most "
                                    "107 bytes, or \"\" for none",
                                    s->admin_socket));
    }
  }
  if (const TomlValue* v = ConfigReader::Find(t, "state_dir")) {
    if (!s->state_dir.empty() && (s->state_dir[0] != '/' || s->state_dir.size() > 4000)) {
      return r.Fail(*v, fmt::format("invalid state_dir \"{}\": an absolute path, or \"\" to keep "
                                    "state in memory only",
                                    s->state_dir));
    }
  }
  if (const TomlValue* v = ConfigReader::Find(t, "key_prefix")) {
    const bool ok = !s->key_prefix.empty() && s->key_prefix.size() <= 32 &&
                    s->key_prefix.find_first_not_of(
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.-") ==
                        std::string::npos;
    if (!ok) {
      return r.Fail(*v, fmt::format("invalid key_prefix \"{}\": use 1 to 32 of A-Z a-z 0-9 _ : . -",
                                    s->key_prefix));
    }
  }
  return true;
}

bool ReadAlerts(ConfigReader& r, const TomlValue& t, AlertsConfig* a) {
  if (!r.ExpectTable(t, "[alerts]") ||
      !r.CheckKeys(t,
                   {"syslog_facility", "alert_command", "mail_to", "mail_events", "mail_from",
                    "sendmail_path"},
                   "[alerts]") ||
      !ReadAlertMail(r, t, a) || !r.GetString(t, "syslog_facility", &a->syslog_facility) ||
      !r.GetString(t, "alert_command", &a->alert_command)) {
    return false;
  }
  if (const TomlValue* v = ConfigReader::Find(t, "syslog_facility")) {
    bool ok = false;
    for (std::string_view f : {"mail", "daemon", "user", "local0", "local1", "local2", "local3",
                               "local4", "local5", "local6", "local7"}) {
      ok = ok || a->syslog_facility == f;
    }
    if (!ok) {
      return r.Fail(*v, fmt::format("invalid syslog_facility \"{}\": expected mail, daemon, "
                                    "user or local0 to local7",
                                    a->syslog_facility));
    }
  }
  if (const TomlValue* v = ConfigReader::Find(t, "alert_command")) {
    if (!a->alert_command.starts_with('/')) {
      return r.Fail(*v,
                    fmt::format("alert_command \"{}\" must be an absolute path", a->alert_command));
    }
  }
  return true;
}

bool ReadMetrics(ConfigReader& r, const TomlValue& t, std::string* listen) {
  if (!r.ExpectTable(t, "[metrics]") || !r.CheckKeys(t, {"listen"}, "[metrics]") ||
      !r.GetString(t, "listen", listen)) {
    return false;
  }
  const TomlValue* v = ConfigReader::Find(t, "listen");
  if (v == nullptr) return true;
  const auto colon = listen->rfind(':');
  const std::string host = colon == std::string::npos ? "" : listen->substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : listen->substr(colon + 1);
  bool ok = !host.empty() && !port.empty() && port.size() <= 5 &&
            port.find_first_not_of("0123456789") == std::string::npos && std::stoi(port) >= 1 &&
            std::stoi(port) <= 65535;
  // An IPv6 host is bracketed ("[::1]:9187"); anything else has no colon.
  if (ok && host.find(':') != std::string::npos) {
    ok = host.size() > 2 && host.front() == '[' && host.back() == ']';
  }
  if (!ok) {
    return r.Fail(*v, fmt::format("invalid listen \"{}\": expected HOST:PORT, e.g. "
                                  "\"127.0.0.1:9187\" or \"[::1]:9187\"",
                                  *listen));
  }
  return true;
}

// A CIDR list ([traffic] trusted_networks, [exempt] networks).
bool ReadNetworks(ConfigReader& r, const std::vector<const TomlValue*>& values,
                  std::string_view where, std::vector<Network>* out) {
  for (const TomlValue* v : values) {
    auto n = Network::Parse(v->as_string().str);
    if (!n) {
      return r.Fail(*v, fmt::format("invalid network \"{}\" in {}: expected an address or CIDR "
                                    "like 192.0.2.0/24 or 2001:db8::/32",
                                    v->as_string().str, where));
    }
    out->push_back(*n);
  }
  return true;
}

bool ReadTraffic(ConfigReader& r, const TomlValue& t, TrafficConfig* traffic) {
  std::vector<const TomlValue*> networks, domains;
  if (!r.ExpectTable(t, "[traffic]") ||
      !r.CheckKeys(t, {"trusted_networks", "local_domains"}, "[traffic]") ||
      !r.GetStringArray(t, "trusted_networks", &networks) ||
      !r.GetStringArray(t, "local_domains", &domains)) {
    return false;
  }
  if (ConfigReader::Find(t, "trusted_networks") != nullptr) {
    traffic->trusted_networks.clear();
    if (!ReadNetworks(r, networks, "traffic.trusted_networks", &traffic->trusted_networks)) {
      return false;
    }
  }
  for (const TomlValue* v : domains) {
    const std::string& d = v->as_string().str;
    // A domain is accepted exactly when a recipient in it would be recognised.
    const std::optional<std::string> parsed = RecipientDomain("postmaster@" + d);
    if (!parsed || d.size() > 253) {
      return r.Fail(*v, fmt::format("invalid domain \"{}\" in traffic.local_domains: write a "
                                    "bare domain like example.org (no @, wildcard or trailing dot)",
                                    d));
    }
    traffic->local_domains.push_back(*parsed);
  }
  return true;
}

bool ReadExempt(ConfigReader& r, const TomlValue& t, Exemptions* e) {
  std::vector<const TomlValue*> networks, accounts, domains;
  if (!r.ExpectTable(t, "[exempt]") ||
      !r.CheckKeys(t, {"networks", "accounts", "domains"}, "[exempt]") ||
      !r.GetStringArray(t, "networks", &networks) || !r.GetStringArray(t, "accounts", &accounts) ||
      !r.GetStringArray(t, "domains", &domains)) {
    return false;
  }
  if (!ReadNetworks(r, networks, "exempt.networks", &e->networks)) return false;
  for (const TomlValue* v : accounts) {
    const std::string& s = v->as_string().str;
    if (s.empty() || s.find_first_of(" \t\r\n") != std::string::npos) {
      return r.Fail(*v, fmt::format("invalid account \"{}\" in exempt.accounts", s));
    }
    e->accounts.push_back(ToLowerAscii(s));
  }
  for (const TomlValue* v : domains) {
    const std::string& s = v->as_string().str;
    if (s.empty() || s.find_first_of("@* \t\r\n") != std::string::npos) {
      return r.Fail(*v, fmt::format("invalid domain \"{}\" in exempt.domains: write a bare "
                                    "domain like example.org",
                                    s));
    }
    e->domains.push_back(ToLowerAscii(s));
  }
  return true;
}

Result<Config> Build(const TomlValue& root, const std::string& source) {
  ConfigReader r(source);
  Config c;
  c.source = source;
  const auto section = [&](const char* key) { return ConfigReader::Find(root, key); };
  bool ok = r.CheckKeys(
      root, {"milter", "store", "alerts", "traffic", "limit", "override", "exempt", "metrics"},
      "the top level (expected [milter], [store], [alerts], [traffic], [[limit]], [[override]], "
      "[exempt] or [metrics])");
  if (ok && section("milter")) ok = ReadMilter(r, *section("milter"), &c.milter);
  if (ok && section("store")) ok = ReadStore(r, *section("store"), &c.store);
  if (ok && section("alerts")) ok = ReadAlerts(r, *section("alerts"), &c.alerts);
  if (ok && section("metrics")) ok = ReadMetrics(r, *section("metrics"), &c.metrics_listen);
  if (ok && section("traffic")) ok = ReadTraffic(r, *section("traffic"), &c.traffic);
  if (ok && section("exempt")) ok = ReadExempt(r, *section("exempt"), &c.exempt);
  if (ok) ok = ReadLimitsAndOverrides(r, root, &c);
  if (ok && !c.alerts.mail_to.empty())
    c.exempt.local_senders.push_back(ToLowerAscii(c.alerts.mail_from));
  if (!ok) return *r.error();
  return c;
}

}  // namespace

Result<Config> ParseConfig(const std::string& text, const std::string& source_name) {
  auto invalid = [&](int line, const std::string& message) {
    return Error(ErrorKind::kInvalid, fmt::format("{}:{}: {}", source_name, line, message));
  };
  if (text.size() > kMaxConfigBytes) {
    return invalid(
        1, fmt::format("file too large ({} bytes; at most {})", text.size(), kMaxConfigBytes));
  }
  if (const auto bad = FindInvalidUtf8(text)) {
    return invalid(bad->line,
                   fmt::format("not valid UTF-8 (byte 0x{:02x} at column {}); TOML files must "
                               "be UTF-8",
                               static_cast<unsigned char>(text[bad->offset]), bad->column));
  }
  if (const int line = FindExcessiveNesting(text)) {
    return invalid(line, fmt::format("nested more than {} levels deep", kMaxNesting));
  }
  try {
    std::istringstream in(text);
    const TomlValue root =
        toml::parse<toml::discard_comments, std::map, std::vector>(in, source_name);
    return Build(root, source_name);
  } catch (const toml::exception& e) {
    return invalid(static_cast<int>(e.location().line()), e.what());
  } catch (const std::exception& e) {
    return Error(ErrorKind::kInvalid, fmt::format("{}: {}", source_name, e.what()));
  } catch (...) {
    return Error(ErrorKind::kInvalid, fmt::format("{}: unreadable configuration", source_name));
  }
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorKind::kNotFound,
                 fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes) break;  // ParseConfig refuses it
  }
  if (in.bad()) {
    return Error(ErrorKind::kNotFound,
                 fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  }
  return ParseConfig(text, path);
}

}  // namespace floodgate::policy
