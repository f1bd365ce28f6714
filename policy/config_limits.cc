// Reading [[limit]] and [[override]] tables: names, subjects, rates with their bursts,
// escalation settings, and the cross-checks that need the whole file (an override may
// name a limit defined further down).
#include <fmt/format.h>

#include <map>

#include "policy/config_reader.h"
#include "policy/duration.h"

namespace floodgate::policy {
namespace {

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxReplyLength = 200;
constexpr std::int64_t kMaxLockAfter = 1'000'000;

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// `rate` (required, array of "N/T") and `burst` (optional: one integer for every window,
// or one per window) of a limit or an override.
bool ReadRates(ConfigReader& r, const TomlValue& t, std::string_view where,
               std::vector<Rate>* out) {
  if (!r.Require(t, "rate", where)) return false;
  std::vector<const TomlValue*> texts;
  if (!r.GetStringArray(t, "rate", &texts)) return false;
  if (texts.empty()) return r.Fail(*ConfigReader::Find(t, "rate"), "rate must not be empty");
  std::map<std::int64_t, const TomlValue*> periods;
  for (const TomlValue* v : texts) {
    Result<Rate> rate = ParseRate(v->as_string().str);
    if (!rate.ok()) return r.Fail(*v, rate.error().message());
    auto [it, inserted] = periods.emplace(rate->period_s, v);
    if (!inserted) {
      return r.Fail(
          *v, fmt::format("rates \"{}\" and \"{}\" have the same period ({}); "
                          "give each window its own period",
                          it->second->as_string().str, rate->text, FormatDuration(rate->period_s)));
    }
    out->push_back(std::move(rate.value()));
  }
  const TomlValue* burst = ConfigReader::Find(t, "burst");
  if (burst == nullptr) return true;
  constexpr const char* kBurstType =
      "burst must be an integer >= 1 or an array of integers, one per rate";
  std::vector<const TomlValue*> bursts;
  if (burst->is_integer()) {
    bursts.assign(out->size(), burst);
  } else if (burst->is_array()) {
    for (const TomlValue& e : burst->as_array()) bursts.push_back(&e);
    if (bursts.size() != out->size()) {
      return r.Fail(*burst, fmt::format("burst has {} values but rate has {}: give one burst per "
                                        "rate, in the same order",
                                        bursts.size(), out->size()));
    }
  } else {
    return r.Fail(*burst, kBurstType);
  }
  for (std::size_t i = 0; i < bursts.size(); ++i) {
    if (!bursts[i]->is_integer()) return r.Fail(*bursts[i], kBurstType);
    const std::int64_t b = bursts[i]->as_integer();
    if (b < 1 || b > kMaxRateAmount) {
      return r.Fail(*bursts[i],
                    fmt::format("burst must be from 1 to {} (got {})", kMaxRateAmount, b));
    }
    (*out)[i].burst = b;
  }
  return true;
}

bool ReadReply(ConfigReader& r, const TomlValue& t, Limit* limit) {
  const TomlValue* v = ConfigReader::Find(t, "reply");
  if (v == nullptr) return true;
  std::string reply;
  if (!r.GetString(t, "reply", &reply)) return false;
  if (reply.empty() || reply.size() > kMaxReplyLength) {
    return r.Fail(*v, fmt::format("reply must be 1 to {} characters long", kMaxReplyLength));
  }
  for (unsigned char c : reply) {
    if (c < 0x20 || c >= 0x7f) {
      return r.Fail(*v,
                    "reply must be printable ASCII on one line (no CR, LF or other control "
                    "characters)");
    }
  }
  limit->reply = std::move(reply);
  return true;
}

// `traffic` (the classes a limit counts) and `destinations`, checked against what the
// limit's subject can see and against the rule that inbound mail stays apart.
bool ReadTrafficOf(ConfigReader& r, const TomlValue& t, const TrafficConfig& site, Limit* limit) {
  limit->traffic = DefaultTraffic(limit->subject);
  if (const TomlValue* v = ConfigReader::Find(t, "traffic")) {
    std::vector<const TomlValue*> names;
    if (!r.GetStringArray(t, "traffic", &names)) return false;
    if (names.empty()) {
      return r.Fail(*v,
                    "traffic must name at least one of \"submission\", \"local\", "
                    "\"relay\", \"inbound\"");
    }
    TrafficSet set;
    for (const TomlValue* n : names) {
      const std::string& name = n->as_string().str;
      const std::optional<Traffic> c = ParseTraffic(name);
      if (!c) {
        return r.Fail(*n, fmt::format("unknown traffic class \"{}\": expected \"submission\", "
                                      "\"local\", \"relay\" or \"inbound\"",
                                      name));
      }
      if (set.Has(*c)) return r.Fail(*n, fmt::format("traffic names \"{}\" twice", name));
      if (!SubjectExists(limit->subject, *c)) {
        return r.Fail(*n, fmt::format("an {} limit cannot count \"{}\" traffic: {}",
                                      ToString(limit->subject), name,
                                      limit->subject == SubjectKind::kAccount
                                          ? "only submission mail has a SASL login"
                                          : "local submissions (sendmail) have no client address"));
      }
      set.Add(*c);
    }
    if (set.Has(Traffic::kInbound) && !(set == TrafficSet{Traffic::kInbound})) {
      return r.Fail(*v,
                    "traffic = [\"inbound\"] must stand alone: inbound mail is forgeable and "
                    "must not share buckets with outgoing mail; write a separate limit for it");
    }
    limit->traffic = set;
    limit->traffic_given = true;
  }
  if (!r.GetEnum(t, "destinations",
                 {{"any", Destinations::kAny}, {"external", Destinations::kExternal}},
                 &limit->destinations)) {
    return false;
  }
  if (limit->destinations == Destinations::kExternal && site.local_domains.empty()) {
    return r.Fail(*ConfigReader::Find(t, "destinations"),
                  "destinations = \"external\" needs [traffic] local_domains (the site's own "
                  "domains, whose recipients are not counted)");
  }
  if (limit->traffic.Has(Traffic::kInbound)) {
    // Inbound limits throttle, never lock: a forged sender must not lock a local user.
    for (const char* key :
         {"lock_after", "max_networks", "max_recipient_domains", "lock_ttl", "locked_action"}) {
      if (const TomlValue* k = ConfigReader::Find(t, key)) {
        return r.Fail(*k, fmt::format("{} is refused on an inbound limit: inbound mail is "
                                      "forgeable, so it throttles but never locks",
                                      key));
      }
    }
    if (limit->action == Action::kHold) {
      return r.Fail(*ConfigReader::Find(t, "action"),
                    "action = \"hold\" is refused on an inbound limit: the world's mail to your "
                    "users is not yours to hold (use tempfail)");
    }
  }
  return true;
}

bool ReadLimit(ConfigReader& r, const TomlValue& t, const TrafficConfig& site, Limit* limit) {
  constexpr std::string_view kWhere = "[[limit]]";
  if (!r.ExpectTable(t, kWhere)) return false;
  if (!r.CheckKeys(
          t,
          {"name", "subject", "count", "rate", "burst", "action", "mode", "reply", "ipv4_prefix",
           "ipv6_prefix", "lock_after", "max_networks", "lock_ttl", "traffic", "destinations",
           "locked_action", "hold_max", "max_recipient_domains", "adaptive"},
          kWhere)) {
    return false;
  }
  limit->line = ConfigReader::Line(t);
  if (!r.Require(t, "name", kWhere) || !r.GetString(t, "name", &limit->name)) return false;
  if (!ValidName(limit->name)) {
    return r.Fail(
        *ConfigReader::Find(t, "name"),
        fmt::format("invalid limit name \"{}\": use 1 to 64 of A-Z a-z 0-9 _ . -", limit->name));
  }
  if (!r.Require(t, "subject", kWhere) ||
      !r.GetEnum(t, "subject",
                 {{"account", SubjectKind::kAccount},
                  {"ip", SubjectKind::kIp},
                  {"sender", SubjectKind::kSender},
                  {"sender_domain", SubjectKind::kSenderDomain}},
                 &limit->subject) ||
      !r.GetEnum(t, "count",
                 {{"messages", CountKind::kMessages}, {"recipients", CountKind::kRecipients}},
                 &limit->count) ||
      !ReadRates(r, t, kWhere, &limit->rates) ||
      !r.GetEnum(t, "action",
                 {{"tempfail", Action::kTempfail},
                  {"reject", Action::kReject},
                  {"monitor", Action::kMonitor},
                  {"hold", Action::kHold}},
                 &limit->action) ||
      !r.GetEnum(t, "locked_action",
                 {{"reject", LockedAction::kReject}, {"hold", LockedAction::kHold}},
                 &limit->locked_action) ||
      !r.GetInt(t, "hold_max", 1, 1'000'000, &limit->hold_max) ||
      !r.GetEnum(t, "mode", {{"leaky", Mode::kLeaky}, {"strict", Mode::kStrict}}, &limit->mode) ||
      !ReadReply(r, t, limit) || !ReadTrafficOf(r, t, site, limit)) {
    return false;
  }
  for (const char* key : {"ipv4_prefix", "ipv6_prefix"}) {
    const TomlValue* v = ConfigReader::Find(t, key);
    if (v != nullptr && limit->subject != SubjectKind::kIp) {
      return r.Fail(*v, fmt::format("{} only applies to subject = \"ip\" (this limit's subject "
                                    "is \"{}\")",
                                    key, ToString(limit->subject)));
    }
  }
  if (!r.GetInt(t, "ipv4_prefix", 8, 32, &limit->ipv4_prefix) ||
      !r.GetInt(t, "ipv6_prefix", 16, 128, &limit->ipv6_prefix)) {
    return false;
  }
  std::int64_t lock_after = 0;
  if (ConfigReader::Find(t, "lock_after") != nullptr &&
      !r.GetInt(t, "lock_after", 2, kMaxLockAfter, &lock_after)) {
    return false;
  }
  limit->lock_after = static_cast<int>(lock_after);
  if (const TomlValue* mn = ConfigReader::Find(t, "max_networks")) {
    if (limit->subject != SubjectKind::kAccount) {
      return r.Fail(*mn, fmt::format("max_networks only applies to subject = \"account\" (this "
                                     "limit's subject is \"{}\")",
                                     ToString(limit->subject)));
    }
    if (!ReadDistinct(r, *mn, "max_networks", 1'000'000, &limit->max_networks.count,
                      &limit->max_networks.window_s)) {
      return false;
    }
  }
  if (const TomlValue* md = ConfigReader::Find(t, "max_recipient_domains")) {
    if (limit->subject != SubjectKind::kAccount && limit->subject != SubjectKind::kSender) {
      return r.Fail(*md, fmt::format("max_recipient_domains only applies to subject = "
                                     "\"account\" or \"sender\" (this limit's subject is \"{}\")",
                                     ToString(limit->subject)));
    }
    if (!ReadDistinct(r, *md, "max_recipient_domains", 10'000, &limit->max_recipient_domains.count,
                      &limit->max_recipient_domains.window_s)) {
      return false;
    }
  }
  if (const TomlValue* a = ConfigReader::Find(t, "adaptive")) {
    if (!ReadAdaptive(r, *a, limit)) return false;
  }
  return r.GetDuration(t, "lock_ttl", &limit->lock_ttl_s);
}

// "account:alice@example.org", "account:*@example.org", "sender:...", "sender_domain:d".
bool ParseOverrideSubject(ConfigReader& r, const TomlValue& v, Override* o) {
  const std::string text = v.as_string().str;
  const auto colon = text.find(':');
  const std::string kind = colon == std::string::npos ? "" : text.substr(0, colon);
  const std::string value = colon == std::string::npos ? "" : ToLowerAscii(text.substr(colon + 1));
  if (kind == "account") {
    o->subject = SubjectKind::kAccount;
  } else if (kind == "sender") {
    o->subject = SubjectKind::kSender;
  } else if (kind == "sender_domain") {
    o->subject = SubjectKind::kSenderDomain;
  } else {
    return r.Fail(v, fmt::format("invalid override subject \"{}\": expected account:LOGIN, "
                                 "account:*@DOMAIN, sender:ADDRESS, sender:*@DOMAIN or "
                                 "sender_domain:DOMAIN",
                                 text));
  }
  bool ok = !value.empty();
  for (unsigned char c : value) ok = ok && c > 0x20 && c != 0x7f;
  const bool wildcard = value.starts_with("*@");
  if (wildcard) {
    o->domain = value.substr(2);
    ok = ok && o->subject != SubjectKind::kSenderDomain && !o->domain.empty() &&
         o->domain.find('@') == std::string::npos && o->domain.find('*') == std::string::npos;
  } else {
    o->exact = value;
    ok = ok && value.find('*') == std::string::npos &&
         (o->subject != SubjectKind::kSenderDomain || value.find('@') == std::string::npos);
  }
  if (!ok) {
    return r.Fail(
        v, fmt::format("invalid override subject \"{}\": the value after \"{}:\" must "
                       "be {}, without spaces",
                       text, kind,
                       o->subject == SubjectKind::kSenderDomain ? "a domain (no wildcard)"
                                                                : "an exact value or *@DOMAIN"));
  }
  return true;
}

bool ReadOverride(ConfigReader& r, const TomlValue& t, Override* o) {
  constexpr std::string_view kWhere = "[[override]]";
  if (!r.ExpectTable(t, kWhere)) return false;
  if (!r.CheckKeys(
          t, {"subject", "limit", "rate", "burst", "action", "max_recipient_domains", "adaptive"},
          kWhere)) {
    return false;
  }
  o->line = ConfigReader::Line(t);
  std::string unused;
  if (!r.Require(t, "subject", kWhere) || !r.GetString(t, "subject", &unused) ||
      !ParseOverrideSubject(r, *ConfigReader::Find(t, "subject"), o) ||
      !r.Require(t, "limit", kWhere) || !r.GetString(t, "limit", &o->limit) ||
      !ReadRates(r, t, kWhere, &o->rates)) {
    return false;
  }
  if (const TomlValue* md = ConfigReader::Find(t, "max_recipient_domains")) {
    Limit::MaxDomains m;
    if (!ReadDistinct(r, *md, "max_recipient_domains", 10'000, &m.count, &m.window_s)) {
      return false;
    }
    o->max_recipient_domains = m;
  }
  if (const TomlValue* a = ConfigReader::Find(t, "adaptive")) {
    if (!a->is_boolean() || a->as_boolean()) {
      return r.Fail(*a,
                    "adaptive in an override can only be false (judge this subject by the "
                    "override's rates alone)");
    }
    o->adaptive = false;
  }
  if (ConfigReader::Find(t, "action") == nullptr) return true;
  Action action = Action::kTempfail;
  if (!r.GetEnum(t, "action",
                 {{"tempfail", Action::kTempfail},
                  {"reject", Action::kReject},
                  {"monitor", Action::kMonitor},
                  {"hold", Action::kHold}},
                 &action)) {
    return false;
  }
  o->action = action;
  return true;
}

// The array of tables at `key` ([[limit]] / [[override]]), or nullptr with an error.
const std::vector<TomlValue>* TableArray(ConfigReader& r, const TomlValue& root,
                                         const std::string& key) {
  static const std::vector<TomlValue> kNone;
  const TomlValue* v = ConfigReader::Find(root, key);
  if (v == nullptr) return &kNone;
  if (!v->is_array()) {
    r.Fail(*v, fmt::format("{} must be an array of tables: write [[{}]]", key, key));
    return nullptr;
  }
  return &v->as_array();
}

}  // namespace

bool ReadLimitsAndOverrides(ConfigReader& r, const TomlValue& root, Config* config) {
  const auto* limits = TableArray(r, root, "limit");
  const auto* overrides = TableArray(r, root, "override");
  if (limits == nullptr || overrides == nullptr) return false;
  std::map<std::string, const Limit*> by_name;
  config->limits.reserve(limits->size());
  for (const TomlValue& t : *limits) {
    Limit limit;
    if (!ReadLimit(r, t, config->traffic, &limit)) return false;
    config->limits.push_back(std::move(limit));
    const Limit& l = config->limits.back();
    auto [it, inserted] = by_name.emplace(l.name, &l);
    if (!inserted) {
      return r.Fail(*ConfigReader::Find(t, "name"),
                    fmt::format("duplicate limit name \"{}\": also defined at line {}", l.name,
                                it->second->line));
    }
  }
  for (const Limit& l : config->limits) {
    if (l.traffic_given || l.subject == SubjectKind::kAccount) continue;
    config->notices.push_back(fmt::format(
        "limit \"{}\" (line {}) has no traffic setting, so it counts only {} traffic: inbound "
        "mail (unauthenticated SMTP from outside [traffic] trusted_networks) is no longer "
        "counted, because anyone can forge it. Write traffic = [...] on the limit to say what it "
        "is for and silence this notice; limit inbound mail with a separate limit of its own "
        "(traffic = [\"inbound\"]).",
        l.name, l.line, l.traffic.ToString()));
  }
  std::map<std::string, const Override*> seen;
  std::vector<int> limit_key_lines;  // where each override names its limit
  for (const TomlValue& t : *overrides) {
    Override o;
    if (!ReadOverride(r, t, &o)) return false;
    config->overrides.push_back(std::move(o));
    limit_key_lines.push_back(ConfigReader::Line(*ConfigReader::Find(t, "limit")));
  }
  for (std::size_t i = 0; i < config->overrides.size(); ++i) {
    const Override& o = config->overrides[i];
    const int line = limit_key_lines[i];
    const std::string subject =
        std::string(ToString(o.subject)) + ":" + (o.exact.empty() ? "*@" + o.domain : o.exact);
    auto limit = by_name.find(o.limit);
    if (limit == by_name.end()) {
      return r.FailAt(line, fmt::format("override for {} names limit \"{}\", which is not "
                                        "defined",
                                        subject, o.limit));
    }
    if (limit->second->subject != o.subject) {
      return r.FailAt(line, fmt::format("override for {} cannot apply to limit \"{}\", whose "
                                        "subject is \"{}\"",
                                        subject, o.limit, ToString(limit->second->subject)));
    }
    if (o.max_recipient_domains && (limit->second->traffic.Has(Traffic::kInbound) ||
                                    o.subject == SubjectKind::kSenderDomain)) {
      return r.FailAt(o.line, fmt::format("override for {} cannot set max_recipient_domains: "
                                          "limit \"{}\" {}",
                                          subject, o.limit,
                                          o.subject == SubjectKind::kSenderDomain
                                              ? "counts sender domains"
                                              : "is an inbound limit, which never locks"));
    }
    if (o.max_recipient_domains) {
      for (Limit& l : config->limits) l.counts_recipient_domains |= l.name == o.limit;
    }
    auto [it, inserted] = seen.emplace(subject + " " + o.limit, &o);
    if (!inserted) {
      return r.FailAt(o.line, fmt::format("duplicate override for {} on limit \"{}\": also at "
                                          "line {}",
                                          subject, o.limit, it->second->line));
    }
  }
  return true;
}

}  // namespace floodgate::policy
