// Mail: one simulated message as the milter would see it - who sends it, when, from
// where, to whom - and what it is in the workload (legitimate, a burst, spam, a retry).
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/simulate/sim_time.h"

namespace floodgate::simulate {

enum class Origin { kLegit, kBurst, kSpam };

struct Message {
  SimTime time = 0;
  std::uint32_t account = 0;  // index into the accounts (the login used)
  Origin origin = Origin::kLegit;
  std::int32_t hijack = -1;             // kSpam: index into Workload::hijacks
  std::uint32_t network = 0;            // kSpam: which of the attacker's networks it comes from
  std::int32_t attempt = 0;             // 0: first; n: the n-th retry of refused recipients
  std::vector<std::string> recipients;  // addr-specs, without <>
};

}  // namespace floodgate::simulate
