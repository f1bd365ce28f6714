// The mail keys of [alerts]: mail_to, mail_events, mail_from, sendmail_path. Addresses
// must be plain addr-specs (addr_spec.h): they go on sendmail's command line and into
// headers as they are written.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "policy/addr_spec.h"
#include "policy/config_reader.h"

namespace floodgate::policy {
namespace {

constexpr std::size_t kMaxMailTo = 20;

const char* const kEventNames[] = {"limit_exceeded", "locked",   "unlocked",
                                   "store_down",     "store_up", "config_reloaded",
                                   "config_rejected"};

// floodgate@ + this host's name, or floodgate@localhost when the name is no domain.
std::string DefaultMailFrom() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) {
    const std::string from = "floodgate@" + ToLowerAscii(host);
    if (IsPlainAddrSpec(from)) return from;
  }
  return "floodgate@localhost";
}

bool CheckAddress(ConfigReader& r, const TomlValue& v, std::string_view key) {
  const std::string& s = v.as_string().str;
  if (IsPlainAddrSpec(s)) return true;
  return r.Fail(v, fmt::format("invalid address \"{}\" in alerts.{}: write a plain address "
                               "like postmaster@example.org (no name, quotes, brackets or "
                               "spaces)",
                               s, key));
}

}  // namespace

bool ReadAlertMail(ConfigReader& r, const TomlValue& t, AlertsConfig* a) {
  std::vector<const TomlValue*> to, events;
  if (!r.GetStringArray(t, "mail_to", &to) || !r.GetStringArray(t, "mail_events", &events) ||
      !r.GetString(t, "mail_from", &a->mail_from) ||
      !r.GetString(t, "sendmail_path", &a->sendmail_path)) {
    return false;
  }
  if (to.size() > kMaxMailTo) {
    return r.Fail(*ConfigReader::Find(t, "mail_to"),
                  fmt::format("alerts.mail_to has {} addresses; at most {} (use a list address "
                              "for more)",
                              to.size(), kMaxMailTo));
  }
  for (const TomlValue* v : to) {
    if (!CheckAddress(r, *v, "mail_to")) return false;
    a->mail_to.push_back(v->as_string().str);
  }
  if (ConfigReader::Find(t, "mail_events") != nullptr) a->mail_events.clear();
  for (const TomlValue* v : events) {
    const std::string& e = v->as_string().str;
    if (std::find(std::begin(kEventNames), std::end(kEventNames), e) == std::end(kEventNames)) {
      return r.Fail(*v, fmt::format("unknown event \"{}\" in alerts.mail_events: expected "
                                    "limit_exceeded, locked, unlocked, store_down, store_up, "
                                    "config_reloaded or config_rejected",
                                    e));
    }
    if (std::find(a->mail_events.begin(), a->mail_events.end(), e) == a->mail_events.end()) {
      a->mail_events.push_back(e);
    }
  }
  if (const TomlValue* v = ConfigReader::Find(t, "mail_from")) {
    if (!CheckAddress(r, *v, "mail_from")) return false;
  } else {
    a->mail_from = DefaultMailFrom();
  }
  if (const TomlValue* v = ConfigReader::Find(t, "sendmail_path")) {
    if (!a->sendmail_path.starts_with('/')) {
      return r.Fail(*v,
                    fmt::format("sendmail_path \"{}\" must be an absolute path", a->sendmail_path));
    }
  }
  return true;
}

}  // namespace floodgate::policy
