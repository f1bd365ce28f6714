// DescribeConfig: what `floodgate -n` prints - the effective settings in words, with what
// each GCRA window actually lets through, so an admin can check a config before trusting it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "policy/config_loader.h"
#include "policy/duration.h"

namespace floodgate::policy {

std::string RedactUrl(const std::string& url) {
  std::string out = url;
  const auto scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  const auto at = out.find('@', scheme + 3);
  const auto slash = out.find('/', scheme + 3);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    out = out.substr(0, scheme + 3) + "***" + out.substr(at);
  }
  // Sentinel credentials travel in the query string.
  for (std::string_view param : {"sentinel_password="}) {
    for (auto p = out.find(param); p != std::string::npos; p = out.find(param, p + 1)) {
      if (p == 0 || (out[p - 1] != '?' && out[p - 1] != '&')) continue;
      const auto value = p + param.size();
      const auto end = out.find('&', value);
      out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    }
  }
  return out;
}

namespace {

const char* OnErrorMeaning(OnError e) {
  switch (e) {
    case OnError::kLocal:
      return "decide with an in-process limiter holding the same limits";
    case OnError::kTempfail:
      return "refuse with 451 4.3.0 while the store is unreachable";
    case OnError::kAccept:
      return "let mail through, logged";
  }
  return "?";
}

void DescribeRates(std::string& out, const std::vector<Rate>& rates, std::string_view indent) {
  for (const Rate& r : rates) {
    const std::string t = FormatDuration(r.period_s);
    out += fmt::format(
        "{}{}: refills {} per {} smoothly; bucket holds {}; from idle at most {} pass within the "
        "first {}\n",
        indent, r.text, r.amount, t, r.burst, r.burst + r.amount, t);
  }
}

void DescribeLimit(std::string& out, const Limit& l) {
  out += fmt::format("  {} (line {}): subject {}, counts {}, action {}, mode {}\n", l.name, l.line,
                     ToString(l.subject), ToString(l.count), ToString(l.action), ToString(l.mode));
  out += fmt::format("    traffic: {}{}; recipients: {}\n", l.traffic.ToString(),
                     l.traffic_given ? "" : " (the default for this subject)",
                     l.destinations == Destinations::kAny
                         ? "all"
                         : "only those outside local_domains (mail between local users is free)");
  if (l.traffic.Has(Traffic::kInbound)) {
    out += "    inbound only: buckets of its own, throttles but never locks\n";
  }
  if (l.subject == SubjectKind::kIp) {
    out += fmt::format("    clients named by IPv4 /{}, IPv6 /{}\n", l.ipv4_prefix, l.ipv6_prefix);
  }
  DescribeRates(out, l.rates, "    ");
  if (l.mode == Mode::kLeaky) {
    out += "    a unit refused by any window charges none of them\n";
  } else {
    out +=
        "    strict: refused attempts are charged too (a sender who keeps trying stays blocked)\n";
  }
  if (l.lock_after > 0) {
    out += fmt::format(
        "    locks the {} when its refused units in one window reach {}x that "
        "window's amount\n",
        ToString(l.subject), l.lock_after);
  }
  if (l.max_networks.count > 0) {
    out += fmt::format(
        "    locks the account when seen from more than {} networks (/24, /48) "
        "within {}\n",
        l.max_networks.count, FormatDuration(l.max_networks.window_s));
  }
  if (l.max_recipient_domains.count > 0) {
    out += fmt::format(
        "    locks the {} when the recipients it counts go to more than {} distinct domains "
        "within {}\n",
        ToString(l.subject), l.max_recipient_domains.count,
        FormatDuration(l.max_recipient_domains.window_s));
  }
  if (l.adaptive.factor_milli > 0) {
    std::string floors;
    for (const Rate& f : l.adaptive.floor) floors += (floors.empty() ? "" : ", ") + f.text;
    out += fmt::format(
        "    adaptive (factor {}; floors {}): in those windows each {} may send {}x its own "
        "usual peak per period, never less than the floor, never more than the window's "
        "rate; a new {} starts at the floor\n"
        "    the usual peak is learned from accepted mail only: it rises at most ln 2 x "
        "period / 1d of itself per period (at most doubling per day, however hard it is "
        "pushed), falls an eighth of the way toward a quieter period, and is forgotten after "
        "30 days unseen\n",
        static_cast<double>(l.adaptive.factor_milli) / 1000.0, floors, ToString(l.subject),
        static_cast<double>(l.adaptive.factor_milli) / 1000.0, ToString(l.subject));
  }
  if (l.lock_after > 0 || l.max_networks.count > 0 || l.max_recipient_domains.count > 0) {
    out += fmt::format("    a lock lasts {} unless an admin unlocks it first\n",
                       FormatDuration(l.lock_ttl_s));
  }
  if (l.action == Action::kHold) {
    out += fmt::format(
        "    over the limit, mail goes to Postfix's hold queue (at most {} messages per {}; "
        "beyond that 451 4.7.28); held units count as refused\n",
        l.hold_max, ToString(l.subject));
  }
  if (l.locked_action == LockedAction::kHold) {
    out += fmt::format("    a locked {}'s mail goes to the hold queue (at most {} messages)\n",
                       ToString(l.subject), l.hold_max);
  }
  if (l.reply) out += fmt::format("    reply text: \"{}\"\n", *l.reply);
}

void DescribeList(std::string& out, const char* name, const std::vector<std::string>& items) {
  out += fmt::format("  {}:", name);
  if (items.empty()) out += " (none)";
  for (const std::string& s : items) out += " " + s;
  out += "\n";
}

}  // namespace

std::string DescribeConfig(const Config& c) {
  std::string out = fmt::format("floodgate configuration from {}\n\n", c.source);
  out += fmt::format("milter:  socket {}, user {}, umask {:04o}, timeout {}s\n", c.milter.socket,
                     c.milter.user.empty() ? "(unchanged)" : c.milter.user, c.milter.umask,
                     c.milter.timeout_s);
  if (c.store.backend == Backend::kMemory) {
    out += c.store.state_dir.empty()
               ? "store:   memory (this host only; state_dir \"\": everything is lost on "
                 "restart)\n"
               : fmt::format("store:   memory (this host only), state kept in {}\n",
                             c.store.state_dir);
    out += fmt::format("         max_subjects {} (limit keys, network sets and lists, each)\n",
                       c.store.max_subjects);
    out += fmt::format("         admin socket: {}\n", c.store.admin_socket.empty()
                                                          ? "(none: floodgatectl cannot reach it)"
                                                          : c.store.admin_socket);
  } else {
    out += fmt::format("store:   redis {}, key prefix \"{}\", timeout {} ms\n",
                       RedactUrl(c.store.url), c.store.key_prefix, c.store.timeout_ms);
    out += fmt::format("         on error: {} ({})\n", ToString(c.store.on_error),
                       OnErrorMeaning(c.store.on_error));
  }
  out += fmt::format("alerts:  syslog facility {}, alert command {}\n", c.alerts.syslog_facility,
                     c.alerts.alert_command.empty() ? "(none)" : c.alerts.alert_command);
  if (!c.alerts.mail_to.empty()) {
    out += fmt::format("         mail to {} on {}, from {} via {}\n",
                       fmt::join(c.alerts.mail_to, ", "), fmt::join(c.alerts.mail_events, ", "),
                       c.alerts.mail_from, c.alerts.sendmail_path);
  }
  out += fmt::format("metrics: {}\n\n",
                     c.metrics_listen.empty() ? "off" : "http://" + c.metrics_listen + "/metrics");

  out += "traffic classes (decided once per transaction):\n";
  out += "  submission: a SASL login; local: sendmail(1) through non_smtpd_milters;\n";
  out += "  relay: unauthenticated SMTP from trusted_networks; inbound: every other SMTP client\n";
  std::vector<std::string> trusted;
  for (const Network& n : c.traffic.trusted_networks) trusted.push_back(n.ToString());
  DescribeList(out, "trusted_networks", trusted);
  DescribeList(out, "local_domains", c.traffic.local_domains);
  out += "\n";

  if (c.limits.empty()) {
    out += "no limits: floodgate counts nothing\n";
  } else {
    out +=
        "limits (GCRA - N/T: refills N per T smoothly; bucket holds B (default N); from idle\n"
        "at most B+N pass within the first T, then N per T):\n";
    for (const Limit& l : c.limits) DescribeLimit(out, l);
  }

  out += "\noverrides (exact subject first, then domain):";
  out += c.overrides.empty() ? " (none)\n" : "\n";
  for (const Override& o : c.overrides) {
    out += fmt::format("  {}:{} on limit {} (line {}){}\n", ToString(o.subject),
                       o.exact.empty() ? "*@" + o.domain : o.exact, o.limit, o.line,
                       o.action ? fmt::format(", action {}", ToString(*o.action)) : "");
    DescribeRates(out, o.rates, "    ");
    if (o.max_recipient_domains) {
      out += fmt::format("    locks above {} distinct recipient domains within {}\n",
                         o.max_recipient_domains->count,
                         FormatDuration(o.max_recipient_domains->window_s));
    }
    if (!o.adaptive) out += "    not adaptive: judged by these rates alone\n";
  }

  out += "\nexempt (never limited):\n";
  std::vector<std::string> networks;
  for (const Network& n : c.exempt.networks) networks.push_back(n.ToString());
  DescribeList(out, "networks", networks);
  DescribeList(out, "accounts", c.exempt.accounts);
  DescribeList(out, "domains", c.exempt.domains);
  if (!c.notices.empty()) {
    out += "\nnotices:\n";
    for (const std::string& n : c.notices) out += "  " + n + "\n";
  }
  return out;
}

}  // namespace floodgate::policy
