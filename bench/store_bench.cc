// store-bench: the Redis client alone — RedisStore::Check from many threads, no milter.
//
// Each thread calls Check() in a loop with the LimitCheck one real RCPT decision sends
// (account subject, one never-reached 1000000000/1d window, lock key, no network set;
// the same keys and arguments policy::MakePlan builds), each call for the next of
// --subjects distinct accounts, until --seconds have passed or --checks calls were made.
// It prints checks/s and the per-call latency. Compared with `redis-benchmark -P 1
// EVALSHA ...` of the same script (bench/redis-ceiling.sh), it shows what the client's
// auto-pipelining adds or costs; with --checks 100000 --threads 1 it also drives a known
// number of subjects for a used_memory delta.
//
// Usage: store-bench [--url redis://127.0.0.1:6379/0] [--threads 16] [--seconds 10]
//                    [--checks N] [--subjects 100000] [--prefix fg:] [--amount PER_DAY]
//                    [--limit bench|spec|shipped]
// --amount sets the limit (default 1000000000/1d, never reached: a key then expires about
// 1 ms after its charge, so a memory measurement wants a real limit, e.g. --amount 1000).
// --limit spec charges a three-window "submission" limit (30/1m, 300/1h, 2000/1d) alone;
// --limit shipped sends what policy::MakePlan builds from the shipped deploy/floodgate.toml
// for one submission RCPT (every limit, network and recipient-domain set and adaptive
// window included): account N from 10.x.y.z (N), to one of three domains.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "policy/classify.h"
#include "policy/config_loader.h"
#include "policy/planner.h"
#include "store/redis_store.h"

namespace {

using floodgate::LimitCheck;
using floodgate::WindowSpec;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string url = "redis://127.0.0.1:6379/0";
  int threads = 16;
  double seconds = 10;
  std::int64_t checks = 0;  // 0: until --seconds
  std::int64_t subjects = 100000;
  std::string prefix = "fg:";
  std::int64_t amount = 1'000'000'000;  // per day; 1e9 is never reached, keys live ~1 ms
  bool spec = false;                    // --limit spec: a three-window "submission" limit
  bool shipped = false;                 // --limit shipped: the shipped config's plan
};

// The checks of one submission RCPT under the shipped config, for account `subject`.
std::vector<LimitCheck> ShippedChecks(const floodgate::policy::Config& config,
                                      const std::string& prefix, std::int64_t subject) {
  floodgate::policy::Facts f;
  f.account = fmt::format("{}user{}@example.org", prefix, subject);
  f.sender = f.account;
  f.traffic = floodgate::policy::Traffic::kSubmission;
  f.client = floodgate::policy::Address::Parse(
      fmt::format("10.{}.{}.{}", (subject >> 16) & 0xff, (subject >> 8) & 0xff, subject & 0xff));
  const std::string token = floodgate::policy::DomainToken(fmt::format("d{}.example", subject % 3));
  floodgate::policy::Event e;
  e.domains = std::span(&token, 1);
  e.external_domains = e.domains;
  return floodgate::policy::MakePlan(config, f, e).checks;
}

WindowSpec Window(std::int64_t amount, std::int64_t period_us) {
  WindowSpec w;
  w.period_us = period_us;
  w.emission_us = std::max<std::int64_t>(1, period_us / amount);
  w.tolerance_us = amount * w.emission_us;
  return w;
}

// What policy::MakePlan builds for `[[limit]] name = "bench", subject = "account",
// rate = ["<amount>/1d"]`, or with `spec` for the shipped example
// `name = "submission", rate = ["30/1m", "300/1h", "2000/1d"]`.
LimitCheck RcptCheck(const std::string& prefix, std::int64_t subject, std::int64_t amount,
                     bool spec) {
  const std::string tag = prefix + "{account:user" + std::to_string(subject) + "@example.org}";
  LimitCheck c;
  if (spec) {
    c.key = tag + ":submission";
    c.windows = {Window(30, 60'000'000), Window(300, 3'600'000'000), Window(2000, 86'400'000'000)};
  } else {
    c.key = tag + ":bench";
    c.windows = {Window(amount, 86'400'000'000)};
  }
  c.lock_key = tag + "!lock";
  c.lock_ttl_us = 86'400'000'000;
  return c;
}

int Usage() {
  std::fprintf(stderr,
               "usage: store-bench [--url URL] [--threads N] [--seconds S] [--checks N] "
               "[--subjects K] [--prefix P] [--amount PER_DAY] [--limit bench|spec]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* v = argv[++i];
    if (a == "--url")
      o.url = v;
    else if (a == "--threads")
      o.threads = std::atoi(v);
    else if (a == "--seconds")
      o.seconds = std::atof(v);
    else if (a == "--checks")
      o.checks = std::atoll(v);
    else if (a == "--subjects")
      o.subjects = std::atoll(v);
    else if (a == "--prefix")
      o.prefix = v;
    else if (a == "--amount")
      o.amount = std::atoll(v);
    else if (a == "--limit" && (v == std::string("bench") || v == std::string("spec") ||
                                v == std::string("shipped"))) {
      o.spec = v == std::string("spec");
      o.shipped = v == std::string("shipped");
    } else
      return Usage();
  }
  if (o.threads <= 0 || o.subjects <= 0 || o.amount <= 0 || (o.seconds <= 0 && o.checks <= 0))
    return Usage();

  floodgate::policy::Config shipped;
  if (o.shipped) {
    auto c = floodgate::policy::LoadConfig(FLOODGATE_SHIPPED_CONFIG);
    if (!c.ok()) {
      std::fprintf(stderr, "store-bench: %s\n", c.error().message().c_str());
      return 1;
    }
    shipped = std::move(c).value();
    shipped.store.key_prefix = o.prefix;
  }
  auto checks_for = [&](const std::string& prefix, std::int64_t n) {
    return o.shipped ? ShippedChecks(shipped, prefix == o.prefix ? "" : "warmup-", n)
                     : std::vector<LimitCheck>{RcptCheck(prefix, n, o.amount, o.spec)};
  };

  auto store = floodgate::store::RedisStore::Open(o.url, 1000);
  if (!store.ok()) {
    std::fprintf(stderr, "store-bench: %s\n", store.error().message().c_str());
    return 1;
  }
  // Loads the script (NOSCRIPT path) and connects before the clock starts.
  if (auto warm = (*store)->Check(checks_for(o.prefix + "warmup:", 0)); !warm.ok()) {
    std::fprintf(stderr, "store-bench: %s\n", warm.error().message().c_str());
    return 1;
  }

  std::atomic<std::int64_t> next{0}, errors{0};
  std::vector<std::vector<std::int64_t>> latencies(o.threads);
  const auto stop_at =
      Clock::now() + std::chrono::duration<double>(o.seconds > 0 ? o.seconds : 1e9);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<LimitCheck> checks;
      auto& lat = latencies[t];
      lat.reserve(1 << 16);
      for (;;) {
        const std::int64_t n = next.fetch_add(1, std::memory_order_relaxed);
        if ((o.checks > 0 && n >= o.checks) || Clock::now() >= stop_at) break;
        checks = checks_for(o.prefix, n % o.subjects);
        const auto t0 = Clock::now();
        auto r = (*store)->Check(checks);
        lat.push_back(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
        if (!r.ok() || !r->allowed) errors.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<std::int64_t> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0
                       : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  std::printf(
      "{\"threads\": %d, \"checks\": %zu, \"seconds\": %.3f, \"checks_per_s\": %.1f, "
      "\"p50_us\": %lld, \"p99_us\": %lld, \"max_us\": %lld, \"errors\": %lld}\n",
      o.threads, all.size(), elapsed, all.size() / elapsed, static_cast<long long>(pct(0.50)),
      static_cast<long long>(pct(0.99)), static_cast<long long>(all.empty() ? 0 : all.back()),
      static_cast<long long>(errors.load()));
  return errors.load() == 0 ? 0 : 1;
}
