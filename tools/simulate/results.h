// What one run of a workload against one config variant found: the legitimate mail that
// was refused, each hijack's escaped spam and time to lock, and what the store holds.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/simulate/sim_time.h"

namespace floodgate::simulate {

// Legitimate mail, counted at its first attempt (what the users wrote); a hijacked
// account's own mail from the hijack's start on is the hijack's collateral instead.
struct LegitTally {
  std::int64_t messages = 0;
  std::int64_t recipients = 0;
  std::int64_t burst_messages = 0;  // of `messages`, sent in a burst
  std::int64_t burst_recipients = 0;
  std::int64_t refused_tempfail = 0;  // recipients refused at the first attempt
  std::int64_t refused_reject = 0;
  std::int64_t burst_refused = 0;     // of those, in a burst
  std::int64_t held = 0;              // recipients accepted into the hold queue
  std::int64_t messages_refused = 0;  // messages with a recipient refused at the first attempt
  std::int64_t retries = 0;           // retried recipients (Retry::attempts > 0)
  std::int64_t retries_refused = 0;   // ... refused again
  std::int64_t undelivered = 0;       // recipients still refused after the last attempt
  std::int64_t refused() const { return refused_tempfail + refused_reject; }
};

struct AccountRefusals {
  std::size_t account = 0;
  std::string login;
  double usual_day = 0;
  std::int64_t refused = 0;     // recipients refused at the first attempt
  std::int64_t recipients = 0;  // recipients written
};

// An account locked by its own legitimate mail: a false positive that costs a day.
struct LegitLock {
  std::string login;
  double usual_day = 0;
  SimTime at = 0;
  std::string reason;
};

struct HijackResult {
  std::string name;
  std::string profile;  // "12000/1h x 10 rcpt, 1 network, 2h"
  std::string login;
  double usual_day = 0;
  SimTime start = 0;
  std::int64_t messages = 0;  // spam messages attempted (the attacker keeps trying)
  std::int64_t recipients = 0;
  std::int64_t escaped_recipients = 0;        // accepted before the lock (or all, if none)
  std::int64_t escaped_messages = 0;          // ... messages with an accepted recipient
  std::int64_t escaped_recipients_total = 0;  // accepted over the whole hijack
  std::int64_t escaped_messages_total = 0;
  std::int64_t held_recipients = 0;    // put on hold (not escaped)
  std::optional<Micros> time_to_lock;  // from start to the first locked outcome
  std::string lock_reason;             // and what locked it
  std::string lock_subject;
  std::int64_t collateral_recipients = 0;  // the victim's own mail from the start on
  std::int64_t collateral_refused = 0;
};

// Live keys of the embedded store at one moment (expired ones not yet swept excluded).
struct StoreSample {
  SimTime at = 0;
  std::size_t limit_keys = 0, locks = 0, network_sets = 0, domain_sets = 0, lists = 0;
  std::size_t subjects = 0;        // distinct subjects with a live key
  std::size_t snapshot_bytes = 0;  // MemoryStore::Export of that state
};

struct StoreFootprint {
  StoreSample peak;               // at the simulated hour with the most live keys
  StoreSample end;                // when the last message was processed
  std::uint64_t evicted = 0;      // keys forgotten to stay within max_subjects
  std::optional<long> rss_bytes;  // resident memory the store gave back when destroyed (end)
};

struct RunResult {
  std::string variant;
  LegitTally legit;
  std::vector<AccountRefusals> top_refused;  // most refused first, at most 5, none with 0
  std::int64_t accounts_refused = 0;         // accounts with a refused recipient
  std::vector<LegitLock> legit_locks;
  std::vector<HijackResult> hijacks;
  StoreFootprint store;
  std::int64_t checks = 0;  // CounterStore::Check calls
  double seconds = 0;       // real time the run took
};

}  // namespace floodgate::simulate
