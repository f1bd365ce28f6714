#include "tools/simulate/memory_probe.h"

#include <malloc.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace floodgate::simulate {

long ResidentBytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
  }
  return -1;
}

void ReturnFreeMemory() { malloc_trim(0); }

}  // namespace floodgate::simulate
