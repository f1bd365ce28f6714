// Daemon: the floodgate process around libmilter — config, syslog, listening socket,
// privilege drop, stores, SIGUSR1 reload, and smfi_main until SIGTERM.
// Thread-safety: RunDaemon is called once from main.
#pragma once

#include <string>

namespace floodgate::milter {

struct DaemonOptions {
  std::string config_path;  // empty: built-in defaults
  bool foreground = false;
  bool log_stderr = false;  // copy syslog lines to stderr (tests, debugging)
};

// Returns the process exit code.
int RunDaemon(const DaemonOptions& options);

}  // namespace floodgate::milter
