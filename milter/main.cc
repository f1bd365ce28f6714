// floodgate: the Postfix milter daemon. Parses the command line and hands over to
// RunDaemon, or checks and prints a config (-n).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "milter/daemon.h"
#include "policy/config_loader.h"

int main(int argc, char** argv) {
  CLI::App app{"floodgate - stops a hijacked mail account from turning Postfix into a spam cannon"};
  floodgate::milter::DaemonOptions options;
  bool check = false;
  app.add_option("-c,--config", options.config_path,
                 "configuration file (TOML); without it the built-in defaults are used");
  app.add_flag("-f,--foreground", options.foreground, "stay in the foreground");
  app.add_flag("-e,--stderr", options.log_stderr, "copy log lines to stderr");
  app.add_flag("-n,--check", check,
               "check the configuration, print the effective limits and exit (non-zero on error)");
  app.set_version_flag("-V,--version", "floodgate " FLOODGATE_VERSION);
  CLI11_PARSE(app, argc, argv);

  if (check) {
    auto config =
        options.config_path.empty()
            ? floodgate::Result<floodgate::policy::Config>(floodgate::policy::DefaultConfig())
            : floodgate::policy::LoadConfig(options.config_path);
    if (!config.ok()) {
      std::fprintf(stderr, "floodgate: %s\n", config.error().message().c_str());
      return 1;
    }
    std::fputs(floodgate::policy::DescribeConfig(*config).c_str(), stdout);
    return 0;
  }
  return floodgate::milter::RunDaemon(options);
}
