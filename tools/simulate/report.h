// Report: the runs of one workload, its variants side by side - as a plain-text table
// for people, or as JSON for scripts (the same numbers).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "tools/simulate/results.h"
#include "tools/simulate/scenario.h"

namespace floodgate::simulate {

struct ReportInput {
  const Scenario* scenario = nullptr;
  std::string config_path;
  std::vector<RunResult> runs;     // one per variant, in the order asked for
  std::vector<std::string> notes;  // printed under the header
};

std::string TextReport(const ReportInput& in);
std::string JsonReport(const ReportInput& in);  // one JSON object, one line

}  // namespace floodgate::simulate
