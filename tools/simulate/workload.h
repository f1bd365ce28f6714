// Workload: what the simulator sends, as a workload file describes it (the file format
// is documented in bench/simulate/README.md; workload_reader.h parses it).
//
// A population of SASL accounts writes legitimate mail for `days` simulated days, with
// the week's rhythm and occasional bursts; at the given times, hijacks send spam through
// chosen accounts. Everything random is drawn from streams derived from `seed`.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/simulate/distribution.h"
#include "tools/simulate/rhythm.h"
#include "tools/simulate/sim_time.h"

namespace floodgate::simulate {

struct Population {
  std::int64_t accounts = 1000;
  std::string domain = "example.org";  // of the logins; also where local recipients are
  double local_share = 0.2;            // recipients in `domain`
  Distribution daily_messages = {Distribution::Kind::kLognormal, 6, 1.0, 500};  // usual day
  double day_variation = 0.3;  // sigma of a day's lognormal factor (mean 1)
  Distribution recipients = {Distribution::Kind::kGeometric, 1.5, 0, 50};  // per message
  Distribution domain_pool = {Distribution::Kind::kUniform, 3, 40, 0};     // domains written to
  double domain_zipf = 1.1;             // exponent of the choice within an account's pool
  double new_domain_share = 0.03;       // external recipients outside the pool
  std::int64_t global_domains = 20000;  // the domains pools are drawn from (Zipf, s = 1)
};

// A burst of legitimate mail: `messages` messages of `recipients` recipients each,
// spread over `within`, on a weekday at a time drawn from the rhythm.
struct Burst {
  std::string name;
  double weekly_probability = 0;  // per account and week (spread over the five weekdays)
  std::int64_t messages = 1;
  std::int64_t recipients = 50;
  Micros within_us = 5 * kMinuteUs;
  double new_domain_share = 0.5;  // recipients outside the account's pool
};

// A refused legitimate recipient (tempfail only: a 5xx is final) is sent again, alone
// with the others refused in the same message, `delay` later, up to `attempts` times.
struct Retry {
  std::int64_t attempts = 0;  // 0: no retries; every refusal is final
  Micros delay_us = 15 * kMinuteUs;
};

// How a hijack picks its account: one whose usual day is in [min_usual_day, max_usual_day)
// (chosen among them with the seed), or the account numbered `account`.
struct VictimChoice {
  double min_usual_day = 0;
  double max_usual_day = 0;  // 0: no upper bound
  std::optional<std::int64_t> account;
};

struct Hijack {
  std::string name;
  VictimChoice victim;
  SimTime start = 0;             // start_day * 1 day + start_time
  Micros duration_us = kHourUs;  // how long the attacker keeps sending
  double recipients_per_hour = 12000;
  std::string rate_text = "12000/1h";  // as written
  std::int64_t recipients = 10;        // per message, each to a new domain
  std::int64_t networks = 1;           // distinct client /24s the attacker cycles through
};

struct Workload {
  std::string source;  // the file
  std::uint64_t seed = 1;
  std::int64_t days = 30;
  Population population;
  Rhythm rhythm;
  std::vector<Burst> bursts;
  Retry retry;
  std::vector<Hijack> hijacks;
};

}  // namespace floodgate::simulate
