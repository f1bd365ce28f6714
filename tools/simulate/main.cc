// floodgate-simulate: floodgate's policy over simulated weeks.
//
// Runs each workload file (bench/simulate/README.md) against the config, once per
// variant (variants.h), through the real planner, verdict and embedded store on a fake
// clock, and prints what legitimate mail was refused and how each hijack fared.
//
// Usage: floodgate-simulate [--config FILE] [--variants adaptive,plain,no-domains]
//                           [--seed N] [--retries N] [--jobs N] [--json] WORKLOAD...
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <thread>

#include "policy/classify.h"
#include "policy/config_loader.h"
#include "tools/simulate/report.h"
#include "tools/simulate/scenario.h"
#include "tools/simulate/simulation.h"
#include "tools/simulate/variants.h"
#include "tools/simulate/workload_reader.h"

namespace {

using namespace floodgate;
using namespace floodgate::simulate;

std::vector<std::string> Notes(const policy::Config& config, const Workload& w,
                               const std::vector<Variant>& variants) {
  std::vector<std::string> notes;
  for (const Variant& v : variants) {
    if (v.adaptive && v.domains) continue;
    if (SameAsLoaded(v, config)) {
      notes.push_back(fmt::format(
          "variant {} equals the config as loaded: no limit uses the signal it turns off", v.name));
    }
  }
  const std::string local = "<user0@" + w.population.domain + ">";
  if (!policy::IsLocalRecipient(config.traffic, local)) {
    notes.push_back(
        fmt::format("population.domain {} is not in the config's local_domains: its recipients are "
                    "external",
                    w.population.domain));
  }
  policy::Facts facts;
  facts.client = policy::Address::Parse("10.0.0.10");
  facts.account = "user0@" + w.population.domain;
  if (policy::Classify(config.traffic, facts) != policy::Traffic::kSubmission) {
    notes.push_back("the config does not classify the accounts' mail as submission");
  }
  return notes;
}

int RunWorkload(const std::string& path, const std::string& config_path,
                const policy::Config& config, const std::vector<Variant>& variants,
                std::optional<std::uint64_t> seed, std::optional<std::int64_t> retries, int jobs,
                bool json) {
  Result<Workload> workload = LoadWorkload(path);
  if (!workload.ok()) {
    std::fprintf(stderr, "floodgate-simulate: %s\n", workload.error().message().c_str());
    return 1;
  }
  if (seed) workload->seed = *seed;
  if (retries) workload->retry.attempts = *retries;
  Result<std::unique_ptr<Scenario>> scenario = Scenario::Make(*workload);
  if (!scenario.ok()) {
    std::fprintf(stderr, "floodgate-simulate: %s\n", scenario.error().message().c_str());
    return 1;
  }
  ReportInput report;
  report.scenario = scenario->get();
  report.config_path = config_path;
  report.notes = Notes(config, *workload, variants);
  std::vector<policy::Config> configs;
  for (const Variant& v : variants) configs.push_back(Apply(v, config));
  std::vector<std::optional<Result<RunResult>>> results(variants.size());
  // The store's RSS is measured only when one run at a time allocates.
  const SimulateOptions options{jobs == 1};
  const auto run = [&](std::size_t i) {
    results[i] = Simulate(**scenario, configs[i], variants[i].name, options);
  };
  for (std::size_t i = 0; i < variants.size(); i += static_cast<std::size_t>(jobs)) {
    std::vector<std::thread> threads;
    for (std::size_t k = i + 1; k < i + static_cast<std::size_t>(jobs) && k < variants.size();
         ++k) {
      threads.emplace_back(run, k);
    }
    run(i);
    for (std::thread& t : threads) t.join();
  }
  for (std::optional<Result<RunResult>>& r : results) {
    if (!r->ok()) {
      std::fprintf(stderr, "floodgate-simulate: %s\n", r->error().message().c_str());
      return 1;
    }
    report.runs.push_back(std::move(r->value()));
  }
  const std::string text = json ? JsonReport(report) : TextReport(report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floodgate-simulate: floodgate's policy and embedded store over simulated weeks"};
  std::string config_path = FLOODGATE_SHIPPED_CONFIG;
  std::string variant_list = "adaptive,plain,no-domains";
  std::vector<std::string> workloads;
  std::optional<std::uint64_t> seed;
  std::optional<std::int64_t> retries;
  int jobs = 1;
  bool json = false;
  app.add_option("-c,--config", config_path, "floodgate.toml to simulate")->capture_default_str();
  app.add_option("--variants", variant_list,
                 "comma-separated: adaptive (as loaded), plain (no adaptive), no-domains (no "
                 "max_recipient_domains), bare (neither)")
      ->capture_default_str();
  app.add_option("--seed", seed, "replaces the workload's seed");
  app.add_option("--retries", retries, "replaces [retry] attempts (tempfailed recipients)")
      ->check(CLI::Range(0, 100));
  app.add_option("-j,--jobs", jobs, "variants run at once (RSS is measured only with 1)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_flag("--json", json, "one JSON object per workload instead of the table");
  app.add_option("workload", workloads, "workload files (TOML)")->required();
  CLI11_PARSE(app, argc, argv);

  Result<std::vector<Variant>> variants = ParseVariants(variant_list);
  if (!variants.ok()) {
    std::fprintf(stderr, "floodgate-simulate: --variants: %s\n",
                 variants.error().message().c_str());
    return 2;
  }
  Result<policy::Config> config = policy::LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "floodgate-simulate: %s\n", config.error().message().c_str());
    return 1;
  }
  int status = 0;
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    if (i > 0 && !json) std::printf("\n");
    status |= RunWorkload(workloads[i], config_path, *config, *variants, seed, retries, jobs, json);
    std::fflush(stdout);
  }
  return status;
}
