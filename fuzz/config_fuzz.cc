// Fuzzes the config loader: any byte string must give a Config or an Error value —
// never a crash, an exception, a hang or a sanitizer report. An accepted config must
// also describe itself (floodgate -n) without trouble.
#include <cstddef>
#include <cstdint>
#include <string>

#include "policy/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = floodgate::policy::ParseConfig(text, "fuzz.toml");
  if (config.ok()) {
    const std::string description = floodgate::policy::DescribeConfig(*config);
    if (description.empty()) __builtin_trap();
  } else if (config.error().message().find("fuzz.toml") == std::string::npos) {
    __builtin_trap();  // every error names the file
  }
  return 0;
}
