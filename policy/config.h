// Config: the validated model of floodgate.toml.
//
// Built only by LoadConfig (config_loader.h), which refuses anything unknown or
// inconsistent with the file and line; everything else may assume a Config is valid.
// A Config is immutable once built and shared between threads as
// std::shared_ptr<const Config> (a reload swaps the pointer; sessions keep theirs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/network.h"
#include "policy/traffic.h"

namespace floodgate::policy {

enum class SubjectKind { kAccount, kIp, kSender, kSenderDomain };
enum class CountKind { kMessages, kRecipients };
enum class Action { kTempfail, kReject, kMonitor, kHold };
// What a locked subject's mail gets: 550 5.7.1, or accepted into Postfix's hold queue.
enum class LockedAction { kReject, kHold };
enum class Mode { kLeaky, kStrict };
enum class Backend { kMemory, kRedis };
enum class OnError { kLocal, kTempfail, kAccept };
// Which recipients a limit counts: all, or only those outside [traffic] local_domains.
enum class Destinations { kAny, kExternal };

// One window of a limit: `amount` units per `period_s`, bucket of `burst` units.
struct Rate {
  std::int64_t amount = 0;
  std::int64_t period_s = 0;
  std::int64_t burst = 0;  // defaults to amount
  std::string text;        // as written, e.g. "300/1h"
};

struct Limit {
  std::string name;  // [A-Za-z0-9_.-]+, unique; part of the store key
  SubjectKind subject = SubjectKind::kAccount;
  CountKind count = CountKind::kRecipients;
  std::vector<Rate> rates;  // at least one; distinct periods
  Action action = Action::kTempfail;
  Mode mode = Mode::kLeaky;
  // The traffic classes it counts (never empty). A limit on inbound traffic counts nothing
  // else, has buckets of its own and never locks (the loader refuses anything else).
  TrafficSet traffic;
  bool traffic_given = false;  // `traffic` was written in the file (else DefaultTraffic)
  Destinations destinations = Destinations::kAny;
  std::optional<std::string> reply;  // replaces the default reply text (not the code)
  int ipv4_prefix = 32;              // subject = ip: how much of an address names a client
  int ipv6_prefix = 64;
  // Escalation. lock_after = N (0: off): lock the subject when its refused
  // units in one window reach N times that window's amount.
  int lock_after = 0;
  // subject = account only; count = 0: off. Lock when more than `count` distinct client
  // networks are seen within `window_s`.
  struct MaxNetworks {
    int count = 0;
    std::int64_t window_s = 0;
  } max_networks;
  // subject = account or sender; count = 0: off. Lock (reason too_many_domains) when the
  // recipients the limit counts go to more than `count` distinct domains within `window_s`.
  struct MaxDomains {
    int count = 0;
    std::int64_t window_s = 0;
  } max_recipient_domains;
  // An override of this limit sets max_recipient_domains (set by the loader, so that the
  // planner need not look for such overrides on every recipient).
  bool counts_recipient_domains = false;
  // Each subject's own normal tightens the limit (policy/adaptive.h): per window, the
  // amount used is factor x the subject's usual peak, never below the floor of the same
  // period and never above the window's own (or an override's) amount. factor_milli = 0:
  // off. Every floor's period is one of the limit's windows.
  struct Adaptive {
    std::int64_t factor_milli = 0;  // factor x 1000
    std::vector<Rate> floor;
    // The floor amount for a window of `period_s`, or 0 when it has none.
    std::int64_t FloorFor(std::int64_t period_s) const {
      for (const Rate& r : floor) {
        if (r.period_s == period_s) return r.amount;
      }
      return 0;
    }
  } adaptive;
  std::int64_t lock_ttl_s = 86400;  // how long an automatic lock lasts
  LockedAction locked_action = LockedAction::kReject;
  // action or locked_action "hold": at most this many messages of one subject are kept in
  // the hold queue; beyond it, mail is tempfailed (a hijacked account cannot fill the disk).
  std::int64_t hold_max = 500;
  int line = 0;  // where it was defined, for messages
};

// Replaces the rates (and optionally the action) of `limit` for one subject value
// (`exact`, e.g. "newsletter@example.org") or for every value in a domain
// (`domain`, from "account:*@example.org").
struct Override {
  SubjectKind subject = SubjectKind::kAccount;
  std::string exact;   // lower-cased; empty when this is a domain override
  std::string domain;  // lower-cased; empty when this is an exact override
  std::string limit;   // name of the limit it overrides
  std::vector<Rate> rates;
  std::optional<Action> action;
  // A subject known to be different (a newsletter): its own distinct-domain count, and
  // adaptive = false to judge it by the override's rates alone.
  std::optional<Limit::MaxDomains> max_recipient_domains;
  bool adaptive = true;
  int line = 0;
};

struct Exemptions {
  std::vector<Network> networks;      // client addresses never limited
  std::vector<std::string> accounts;  // lower-cased SASL logins never limited
  std::vector<std::string> domains;   // lower-cased: accounts in these domains never limited
  // Lower-cased envelope senders of local (sendmail) submissions never limited: the
  // alert mail's mail_from, so the notice of a lock cannot be stopped by floodgate.
  std::vector<std::string> local_senders;
};

struct MilterConfig {
  std::string socket = "inet:8899@127.0.0.1";
  std::string user;    // drop privileges to this user after binding (when root)
  int umask = 0007;    // for a unix socket
  int timeout_s = 30;  // libmilter I/O timeout
};

struct StoreConfig {
  Backend backend = Backend::kMemory;
  std::string url = "redis://127.0.0.1:6379/0";
  std::string key_prefix = "fg:";
  int timeout_ms = 50;
  OnError on_error = OnError::kLocal;
  // Memory store only: the Unix socket through which floodgatectl reaches the counts and
  // locks inside the daemon (mode 0600: root, or the user floodgate was started as).
  // Empty: none.
  std::string admin_socket = "/run/floodgate/admin.sock";
  // Memory store only: where its state (locks, counts, queue ids, events) is kept across
  // restarts (store/state_dir.h). Empty: in memory only.
  std::string state_dir = "/var/lib/floodgate";
  // Memory store only: at most this many limit keys, network sets and lists each; when
  // full, the ones nearest to idle are forgotten first (never a lock).
  std::int64_t max_subjects = 1'000'000;
};

struct AlertsConfig {
  std::string syslog_facility = "mail";
  std::string alert_command;  // empty: none
  // Mail to the admin (policy/alert_mail.h) for the events named in mail_events, sent
  // with `sendmail_path -i -f mail_from -- mail_to...`; none when mail_to is empty.
  std::vector<std::string> mail_to;  // plain addr-specs
  std::vector<std::string> mail_events = {"locked", "store_down"};
  std::string mail_from;  // the loader's default: floodgate@<hostname>
  std::string sendmail_path = "/usr/sbin/sendmail";
};

struct Config {
  std::string source;  // file it came from; "(built-in defaults)" when none
  MilterConfig milter;
  StoreConfig store;
  AlertsConfig alerts;
  TrafficConfig traffic;
  std::string metrics_listen;  // "host:port" of the Prometheus endpoint; empty: none
  std::vector<Limit> limits;
  std::vector<Override> overrides;
  Exemptions exempt;
  // Things the admin should know about how this file is read (not errors): e.g. a limit
  // that counts less than it would have in a release without traffic classes. Logged
  // once at start and printed by `floodgate -n`.
  std::vector<std::string> notices;
};

// The configuration used when no file is given: memory store, one account limit.
Config DefaultConfig();

// The classes a limit of `subject` counts when its `traffic` is not written; never inbound:
// account -> submission; ip -> submission, relay; sender, sender_domain -> submission,
// relay, local.
TrafficSet DefaultTraffic(SubjectKind subject);

// True when mail of class `t` can have a value for `subject` at all (no SASL login outside
// submission; no client address for local submissions).
bool SubjectExists(SubjectKind subject, Traffic t);

const char* ToString(SubjectKind k);
const char* ToString(CountKind k);
const char* ToString(Action a);
const char* ToString(LockedAction a);
const char* ToString(Mode m);
const char* ToString(Backend b);
const char* ToString(OnError e);
const char* ToString(Destinations d);

}  // namespace floodgate::policy
