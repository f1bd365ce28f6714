// The config loader: floodgate.toml text -> a validated Config, and the
// human-readable description `floodgate -n` prints.
//
// The loader refuses anything it does not understand - unknown keys, wrong types, values out
// of range, impossible combinations - with "FILE:LINE: message", so a typo never silently
// turns a limit off. It never throws (toml11's exceptions are caught inside).
// Thread-safety: pure functions; safe to call concurrently.
#pragma once

#include <string>

#include "floodgate/result.h"
#include "policy/config.h"

namespace floodgate::policy {

// Parses and validates a floodgate.toml. Errors carry "FILE:LINE: message" (the line of the
// offending key's value when known, else of its table; toml11 syntax errors keep their own
// location text after it). A file that cannot be read is ErrorKind::kNotFound, everything
// else ErrorKind::kInvalid.
Result<Config> LoadConfig(const std::string& path);
Result<Config> ParseConfig(const std::string& text, const std::string& source_name);

// Human-readable table of the effective limits, overrides, exemptions, store and milter
// settings, for `floodgate -n`; explains what each GCRA window lets through.
std::string DescribeConfig(const Config& c);

// The store URL with its password (and a sentinel_password) replaced by ***, for
// output an admin may paste elsewhere.
std::string RedactUrl(const std::string& url);

}  // namespace floodgate::policy
