// CounterStore: the one operation floodgate needs from a store — check a set of
// rate limits for one SMTP event and charge them, atomically, in one round trip.
//
// Semantics (identical for every backend; tests/conformance runs against each):
//
// A LimitCheck names one (subject, limit) pair by its store key and carries the limit's
// windows. Each window is a GCRA bucket stored as one "theoretical arrival time" (TAT):
//   emission  E = period / amount           (time one unit takes to refill)
//   tolerance τ = burst * E                  (bucket size; burst defaults to amount)
//   a unit costing c fits a window iff  max(TAT, now) + c*E - now <= τ
// A limit allows iff every one of its windows fits (a check without windows only asks
// for its subject's lock). The event is allowed iff every
// non-advisory limit allows (advisory = `monitor` action: evaluated, never blocking).
//
// Charging: a limit's windows are charged (TAT = max(TAT, now) + c*E) iff
//   limit.strict || (event allowed && limit allowed).
// A strict charge never pushes TAT beyond now + τ + period (an abuser who stops is free
// again at most one period later).
//
// Alert de-duplication: each window remembers until when its last refusal was reported.
// A refused window whose report time has passed is `first_refusal` and its report time
// becomes now + period: one limit_exceeded alert per subject and window, per period,
// site-wide.
//
// Locks (escalation): every LimitCheck names its subject's lock key. A locked subject's
// limits refuse (locked = true) whatever their windows say, and charge nothing. A window
// with lock_threshold > 0 counts the units it refused since its last reported refusal;
// when that count reaches the threshold the subject is locked for lock_ttl_us
// (newly_locked, reason "burst"). A check with max_networks > 0 adds its client network to
// the subject's distinct-network set for networks_window_us; more than max_networks
// distinct networks lock it too (reason "too_many_networks"). Advisory limits never lock.
// CountActiveLocks() answers how many subjects are locked right now (every host's locks
// and the admin's, none that expired or were lifted): the store keeps what it needs for
// that itself (Redis: see redis_store.h), so callers only ever call Check.
//
// Recipient domains: a check with max_domains > 0 adds its `domains` (tokens: DomainToken
// of each recipient domain it counts) to the subject's distinct-domain set for
// domains_window_us, kept exactly and capped at max_domains + 1 (the oldest go), like the
// network set; more than max_domains distinct domains lock the subject (reason
// "too_many_domains"). Advisory limits never lock.
//
// Adaptive windows (policy/adaptive.h): when the check's adaptive_factor_milli > 0, each
// window with floor_amount > 0 also keeps the subject's usual peak per period, learned
// from the units it accepted, and is judged by the amount that peak allows instead of its
// own (the emission and lock threshold scale with it, the tolerance in time stays). The
// learning step and the amount are defined once, in policy/adaptive.cc; the Lua script
// repeats them operation for operation.
//
// Holds: a check with hold_max > 0 names its subject's list of held queue ids (held_key,
// written with Append at end of message); hold_full says that the list already holds
// hold_max entries, so that no more of the subject's mail may go to the hold queue. It
// is read, never written, by Check.
//
// Expiry: a key carries no information once every TAT and report time is in the past,
// so it expires then (Redis PEXPIRE, memory store sweep): memory stays bounded.
//
// Thread-safety: implementations are safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "floodgate/clock.h"
#include "floodgate/result.h"

namespace floodgate {

struct WindowSpec {
  std::int64_t period_us = 0;       // T; also names the window in the store (one per period)
  std::int64_t emission_us = 0;     // E = T / amount (at least 1)
  std::int64_t tolerance_us = 0;    // τ = burst * E
  std::int64_t lock_threshold = 0;  // refused units per report period that lock (0: never)
  // Adaptive only (LimitCheck::adaptive_factor_milli > 0): the window's own amount (the
  // ceiling), the floor of the same period (0: this window does not adapt), and how far
  // the usual peak may rise per period, in millionths (policy::RisePpm).
  std::int64_t amount = 0;
  std::int64_t floor_amount = 0;
  std::int64_t rise_ppm = 0;
};

struct LimitCheck {
  std::string key;  // full store key, e.g. "fg:{account:alice@example.org}:submission"
  std::vector<WindowSpec> windows;
  std::int64_t cost = 1;
  bool strict = false;
  bool advisory = false;
  std::string lock_key;           // the subject's lock, e.g. "fg:{account:alice@example.org}:lock"
  Micros lock_ttl_us = 0;         // how long an automatic lock lasts
  std::string network;            // the client's network ("203.0.113.0/24"), "" when unknown
  std::int64_t max_networks = 0;  // > 0: lock when more distinct networks are seen
  Micros networks_window_us = 0;  // ... within this period
  std::string held_key;           // the subject's held queue ids ("...!held"), when hold_max > 0
  std::int64_t hold_max = 0;      // > 0: report whether held_key holds this many already
  std::vector<std::string> domains;  // recipient domain tokens this event adds (max_domains > 0)
  std::int64_t max_domains = 0;      // > 0: lock when more distinct domains are seen
  Micros domains_window_us = 0;      // ... within this period
  std::int64_t adaptive_factor_milli = 0;  // > 0: windows with a floor adapt (factor x 1000)
};

struct WindowOutcome {
  bool refused = false;
  bool first_refusal = false;  // refused, and no refusal reported for this window lately
  Micros retry_after_us = 0;   // when refused: how long until `cost` would fit
  // The amount the window was judged by: its own, or less when its subject's usual peak
  // tightened it (adaptive).
  std::int64_t amount = 0;
  bool adapted = false;  // amount is below the window's own amount
};

struct LimitOutcome {
  bool allowed = true;
  bool locked = false;             // the subject is locked (it was, or this event locked it)
  bool newly_locked = false;       // this event locked it
  std::string lock_reason;         // "burst", "too_many_networks", "too_many_domains", "admin", ...
  std::int64_t refused_units = 0;  // newly_locked by a burst: the refused units counted
  bool hold_full = false;          // hold_max > 0 and held_key holds hold_max entries
  std::vector<WindowOutcome> windows;  // same order as LimitCheck::windows
};

struct CheckOutcome {
  bool allowed = true;
  std::vector<LimitOutcome> limits;  // same order as the request
};

class CounterStore {
 public:
  virtual ~CounterStore() = default;

  // Checks and charges `checks` atomically. An empty request is allowed and costs nothing.
  virtual Result<CheckOutcome> Check(const std::vector<LimitCheck>& checks) = 0;

  // Forgets every window of `key` (admin reset, tests).
  virtual Status Reset(const std::string& key) = 0;

  // Prepends `value` to the list `key`, keeps its newest `max_len` entries and lets the
  // list expire `ttl_us` after this append: recent events, and the queue ids of a
  // subject's accepted messages. One round trip.
  virtual Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                        Micros ttl_us) = 0;

  // Append() for a caller that must not wait on it (the end-of-message path): `done` gets
  // its status later, on any thread, or before this returns. It must be cheap and must
  // not block. The default appends at once, which suits a store without a round trip.
  virtual void AppendInBackground(const std::string& key, const std::string& value,
                                  std::size_t max_len, Micros ttl_us,
                                  std::function<void(Status)> done) {
    done(Append(key, value, max_len, ttl_us));
  }

  // Subjects locked in the store right now, site-wide: the floodgate_locks_active gauge,
  // read at scrape time. Cheap (no scan of the key space) and bounded by the store's
  // deadline like every call; an Error means "unknown", never 0.
  virtual Result<std::int64_t> CountActiveLocks() = 0;

  // Short name for logs: "memory", "redis".
  virtual const char* name() const = 0;
};

}  // namespace floodgate
