// memory-bench: what the embedded store costs per subject, and how long a snapshot holds
// its lock.
//
// Loads a config (default: the shipped deploy/floodgate.toml), then pushes --accounts
// distinct SASL accounts and --ips distinct client addresses through MemoryStore::Check
// with the checks policy::MakePlan builds for one submission RCPT to an external domain of
// each (account N from
// address N while both last; the shipped limits: "submission" with three windows and a
// network set, "per-ip" with one window). With --queue-ids each account's message also records a
// queue id, as the daemon does at end of message. It prints the RSS before and after, the
// bytes per subject and per (subject, window), the time per check, and the time Export
// (the snapshot's part under the store's mutex) takes for the whole state, with its size.
//
// Usage: memory-bench [--config FILE] [--accounts 200000] [--ips 200000] [--queue-ids]
//                     [--max-subjects N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "policy/classify.h"
#include "policy/config_loader.h"
#include "policy/planner.h"
#include "store/memory_store.h"
#include "store/state_dir.h"

namespace {

using namespace floodgate;

long RssKb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// One external recipient of subject n's message, at one of three domains: what the milter
// gives the planner for a RCPT (the shipped account limit counts its domain).
policy::Event Rcpt(long n) {
  static const std::string tokens[] = {policy::DomainToken("a.example"),
                                       policy::DomainToken("b.example"),
                                       policy::DomainToken("c.example")};
  policy::Event e;
  e.domains = std::span(&tokens[n % 3], 1);
  e.external_domains = e.domains;
  return e;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = FLOODGATE_SHIPPED_CONFIG;
  long accounts = 200000, ips = 200000;
  std::size_t max_subjects = 0;
  bool queue_ids = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--config" && has_value) {
      config_path = argv[++i];
    } else if (a == "--accounts" && has_value) {
      accounts = std::atol(argv[++i]);
    } else if (a == "--ips" && has_value) {
      ips = std::atol(argv[++i]);
    } else if (a == "--max-subjects" && has_value) {
      max_subjects = static_cast<std::size_t>(std::atol(argv[++i]));
    } else if (a == "--queue-ids") {
      queue_ids = true;
    } else {
      std::fprintf(stderr,
                   "usage: memory-bench [--config FILE] [--accounts N] [--ips N] [--queue-ids] "
                   "[--max-subjects N]\n");
      return 2;
    }
  }
  Result<policy::Config> config = policy::LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "memory-bench: %s\n", config.error().message().c_str());
    return 1;
  }
  // No exemptions or overrides apply to the generated subjects.
  config->exempt = {};

  SystemClock clock;
  const long rss_before = RssKb();
  long windows = 0, checks = 0;
  std::chrono::steady_clock::duration check_time{};
  {
    store::MemoryStore store(clock, {max_subjects});
    const long events = std::max(accounts, ips);
    for (long n = 0; n < events; ++n) {
      policy::Facts facts;
      if (n < accounts) facts.account = "user" + std::to_string(n) + "@example.org";
      if (n < ips) {
        facts.client =
            policy::Address::Parse("10." + std::to_string((n >> 16) & 255) + "." +
                                   std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255));
      }
      facts.sender = facts.account.empty() ? "webapp@example.net" : facts.account;
      facts.traffic = policy::Traffic::kSubmission;  // authenticated mail to outside
      const policy::Plan plan = policy::MakePlan(*config, facts, Rcpt(n));
      for (const LimitCheck& c : plan.checks) windows += static_cast<long>(c.windows.size());
      const auto start = std::chrono::steady_clock::now();
      if (!store.Check(plan.checks).ok()) return 1;
      check_time += std::chrono::steady_clock::now() - start;
      ++checks;
      if (queue_ids && !facts.account.empty()) {
        const std::string key = policy::QueueKey(config->store.key_prefix,
                                                 policy::SubjectKind::kAccount, facts.account);
        (void)store.Append(key, "4Q" + std::to_string(n), 5000, 6 * 86'400'000'000LL);
      }
    }
    const long rss_after = RssKb();
    const store::MemoryStore::Sizes sizes = store.sizes();
    const double bytes = (rss_after - rss_before) * 1024.0;
    const long subjects = accounts + ips;
    std::printf(
        "memory-bench: %ld accounts + %ld ips through MemoryStore::Check, limits from %s%s\n",
        accounts, ips, config_path.c_str(), queue_ids ? ", one queue id per account" : "");
    std::printf(
        "held: %zu limit keys, %zu network sets, %zu domain sets, %zu lists, %llu evicted "
        "(max_subjects %zu)\n",
        sizes.counters, sizes.network_sets, sizes.domain_sets, sizes.lists,
        static_cast<unsigned long long>(sizes.evicted), max_subjects);
    std::printf(
        "RSS before %.1f MB, after %.1f MB: %.1f MB for %ld subjects, %ld (subject, window)\n",
        rss_before / 1024.0, rss_after / 1024.0, bytes / 1048576.0, subjects, windows);
    std::printf("bytes per subject: %.0f; per (subject, window): %.0f\n", bytes / subjects,
                bytes / static_cast<double>(windows));
    std::printf("check: %.2f us per event (%ld events, one thread)\n",
                Seconds(check_time) * 1e6 / static_cast<double>(checks), checks);
    // What a check waits for while a snapshot is taken: checks of known subjects from a
    // second thread, during Export and, for comparison, for as long again without it.
    std::vector<std::vector<LimitCheck>> plans;
    for (long n = 0; n < 1000; ++n) {
      policy::Facts facts;
      facts.account = "user" + std::to_string(n % std::max(accounts, 1L)) + "@example.org";
      facts.traffic = policy::Traffic::kSubmission;
      plans.push_back(policy::MakePlan(*config, facts, Rcpt(n)).checks);
    }
    auto waits_during = [&](const std::function<void()>& work) {
      std::atomic<bool> done{false};
      std::vector<double> waits;
      std::thread checker([&] {
        for (std::size_t i = 0; !done.load(); ++i) {
          const auto t0 = std::chrono::steady_clock::now();
          (void)store.Check(plans[i % plans.size()]);
          waits.push_back(Seconds(std::chrono::steady_clock::now() - t0) * 1e6);
        }
      });
      work();
      done = true;
      checker.join();
      std::sort(waits.begin(), waits.end());
      return waits;
    };
    std::string snapshot;
    double export_s = 0;
    std::size_t records = 0;
    const std::vector<double> with = waits_during([&] {
      const auto start = std::chrono::steady_clock::now();
      records = store.Export(&snapshot, nullptr);
      export_s = Seconds(std::chrono::steady_clock::now() - start);
    });
    const std::vector<double> without =
        waits_during([&] { std::this_thread::sleep_for(std::chrono::duration<double>(export_s)); });
    // The whole snapshot as StateDir writes it (Export, then temp file, fsync, rename).
    {
      char tmpl[] = "/tmp/memory-bench-save-XXXXXX";
      if (mkdtemp(tmpl) == nullptr) return 1;
      store::StateDir::Options options;
      options.dir = std::string(tmpl) + "/state";
      const auto start = std::chrono::steady_clock::now();
      Result<std::unique_ptr<store::StateDir>> state =
          store::StateDir::Open(options, store, clock, nullptr);  // loads nothing, saves all
      const double save_s = Seconds(std::chrono::steady_clock::now() - start);
      if (!state.ok()) {
        std::fprintf(stderr, "memory-bench: %s\n", state.error().message().c_str());
        return 1;
      }
      std::printf("snapshot to disk (StateDir, fsync): %.0f ms\n", save_s * 1e3);
      state->reset();
      std::filesystem::remove_all(tmpl);
    }
    auto pct = [](const std::vector<double>& v, double p) {
      return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
    };
    std::printf("snapshot: Export took %.1f ms for %zu records, %.1f MB\n", export_s * 1e3, records,
                snapshot.size() / 1048576.0);
    std::printf(
        "check wait from a 2nd thread, during Export: p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max "
        "%.1f us "
        "(%zu checks)\n",
        pct(with, 0.5), pct(with, 0.99), pct(with, 0.999), with.empty() ? 0 : with.back(),
        with.size());
    std::printf(
        "check wait from a 2nd thread, no Export:     p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max "
        "%.1f us "
        "(%zu checks)\n",
        pct(without, 0.5), pct(without, 0.99), pct(without, 0.999),
        without.empty() ? 0 : without.back(), without.size());
  }
  // The journal's cost on the end-of-message path: queue-id appends with and without a
  // state directory (a real file in /tmp, written before Append returns).
  {
    char tmpl[] = "/tmp/memory-bench-state-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    const long appends = 100000;
    auto time_appends = [&](store::MemoryStore& s) {
      const auto start = std::chrono::steady_clock::now();
      for (long n = 0; n < appends; ++n) {
        (void)s.Append("fg:{account:user" + std::to_string(n) + "@example.org}!queue",
                       "4Q" + std::to_string(n), 5000, 6 * 86'400'000'000LL);
      }
      return Seconds(std::chrono::steady_clock::now() - start) * 1e6 / appends;
    };
    store::MemoryStore plain(clock), journaled(clock);
    store::StateDir::Options options;
    options.dir = std::string(tmpl) + "/state";
    Result<std::unique_ptr<store::StateDir>> state =
        store::StateDir::Open(options, journaled, clock, nullptr);
    if (!state.ok()) {
      std::fprintf(stderr, "memory-bench: %s\n", state.error().message().c_str());
      return 1;
    }
    const double without = time_appends(plain);
    const double with = time_appends(journaled);
    std::printf(
        "append (queue id): %.2f us without a state_dir, %.2f us with its journal (%ld "
        "appends each)\n",
        without, with, appends);
    state->reset();
    std::filesystem::remove_all(tmpl);
  }
  return 0;
}
