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
//                    [--limit bench|spec]
// --amount sets the limit (default 1000000000/1d, never reached: a key then expires about
// 1 ms after its charge, so a memory measurement wants a real limit, e.g. --amount 1000).
// --limit spec charges the shipped three-window "submission" limit instead.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

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
  bool spec = false;                    // --limit spec: the shipped "submission" limit
};

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
    else if (a == "--limit" && (v == std::string("bench") || v == std::string("spec")))
      o.spec = v == std::string("spec");
    else
      return Usage();
  }
  if (o.threads <= 0 || o.subjects <= 0 || o.amount <= 0 || (o.seconds <= 0 && o.checks <= 0))
    return Usage();

  auto store = floodgate::store::RedisStore::Open(o.url, 1000);
  if (!store.ok()) {
    std::fprintf(stderr, "store-bench: %s\n", store.error().message().c_str());
    return 1;
  }
  // Loads the script (NOSCRIPT path) and connects before the clock starts.
  if (auto warm = (*store)->Check({RcptCheck(o.prefix + "warmup:", 0, o.amount, o.spec)});
      !warm.ok()) {
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
      std::vector<LimitCheck> checks(1);
      auto& lat = latencies[t];
      lat.reserve(1 << 16);
      for (;;) {
        const std::int64_t n = next.fetch_add(1, std::memory_order_relaxed);
        if ((o.checks > 0 && n >= o.checks) || Clock::now() >= stop_at) break;
        checks[0] = RcptCheck(o.prefix, n % o.subjects, o.amount, o.spec);
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
