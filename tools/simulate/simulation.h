// Simulate: one workload (a Scenario) against one config, through floodgate's real
// planner, verdict and embedded store (MemoryStore, no state_dir) on a FakeClock.
//
// Messages are processed in time order (a heap of pending messages, each day's mail added
// as the day begins); the clock jumps from message to message, so weeks take seconds.
// Each message is one transaction (transaction.h). A refused legitimate recipient is
// counted at its first attempt; with Retry::attempts > 0 tempfailed recipients are sent
// again later, and those that never get through are `undelivered`. The attacker does not
// retry and never stops early: after a lock its messages keep coming and are refused.
// Thread-safety: runs are independent; several may run at once on one Scenario.
#pragma once

#include <string>

#include "floodgate/result.h"
#include "policy/config.h"
#include "tools/simulate/results.h"
#include "tools/simulate/scenario.h"

namespace floodgate::simulate {

struct SimulateOptions {
  // Measure the store's resident memory by freeing it at the end (RSS before - after).
  // Meaningful only when no other run allocates at the same time.
  bool measure_rss = false;
};

Result<RunResult> Simulate(const Scenario& scenario, const policy::Config& config,
                           const std::string& variant, const SimulateOptions& options = {});

}  // namespace floodgate::simulate
