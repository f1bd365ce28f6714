// Reads a workload file (TOML; the format is in bench/simulate/README.md) into a Workload.
//
// Like floodgate's config loader it refuses what it does not understand - unknown keys,
// wrong types, values out of range, a hijack outside the simulated days - with
// "FILE:LINE: message" naming the key ("population.daily_messages.sigma must be ..."), so
// a typo never silently changes the workload. It never throws.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "floodgate/result.h"
#include "tools/simulate/workload.h"

namespace floodgate::simulate {

Result<Workload> ParseWorkload(const std::string& text, const std::string& source_name);
Result<Workload> LoadWorkload(const std::string& path);

}  // namespace floodgate::simulate
