// Metrics: the counters behind the optional Prometheus endpoint, and
// their rendering in the Prometheus text exposition format 0.0.4.
//
// What is counted, and by whom:
//   floodgate_decisions_total{limit,action,traffic}  Decider: one per limit checked per event
//   floodgate_locks_total{limit}              Decider: subjects this host locked
//   floodgate_store_latency_seconds{op}       Decider: every primary store call
//   floodgate_store_errors_total{kind}        Decider: every failed primary store call
//   floodgate_fallback_decisions_total        Decider: events decided by the local store
//   floodgate_messages_held_total             the end-of-message callback: messages it held
//   floodgate_sessions_open                   read from MilterContext::sessions_open
//   floodgate_locks_active                    asked of the store at each scrape
//   floodgate_config_reloads_total{result}    the SIGUSR1 reloader
// floodgate_locks_active is the one value not counted here: locks are made by every
// host and by floodgatectl, lifted by floodgatectl and expire inside the store, so no
// daemon can count them. The store can (CounterStore::CountActiveLocks, an index it keeps,
// see redis_store.h): the scrape asks it, on the scrape's thread, within the store's
// deadline, and leaves the gauge out of that scrape when the store fails. SMTP sessions
// never wait on it.
//
// Thread-safety: every method may be called from any thread at once. Counting is
// lock-free (relaxed atomics); the first event of a limit name this registry has not
// seen yet takes a mutex once to add its counters. Renderings ask the locks source one
// at a time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "floodgate/clock.h"
#include "floodgate/counter_store.h"
#include "floodgate/result.h"
#include "policy/planner.h"

namespace floodgate::milter {

// What one limit said about one event (the `action` label).
enum class LimitDecision { kAccepted, kTempfail, kReject, kMonitor, kLocked, kHold };
inline constexpr std::size_t kLimitDecisions = 6;
const char* ToString(LimitDecision d);

enum class StoreOp { kCheck, kAppend };

// Upper bounds of the store latency buckets, in microseconds (0.1 ms to 250 ms).
inline constexpr std::array<Micros, 11> kLatencyBoundsUs = {
    100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One decision per planned limit: accepted when the limit allowed the event; locked
  // when its subject is locked; otherwise the limit's effective action (monitor: a
  // monitor limit that would have refused). `outcome` is the store's answer to `plan`.
  void CountDecisions(const policy::Plan& plan, const CheckOutcome& outcome);
  void CountDecision(std::string_view limit, policy::Traffic traffic, LimitDecision decision);
  void CountLock(std::string_view limit);

  void ObserveStore(StoreOp op, Micros elapsed_us);
  void CountStoreError(ErrorKind kind);
  void CountFallback();
  void CountHeld();

  void CountReload(bool accepted);

  // The gauge floodgate_sessions_open reads `*open` (null: reports 0). `open` must
  // outlive every later RenderPrometheus.
  void WatchSessions(const std::atomic<long>* open);

  // The gauge floodgate_locks_active asks `count` at each rendering and is left out of a
  // rendering where it fails (its # HELP and # TYPE stay). Empty: never shown. Waits for
  // a rendering that is asking the old source, so that source may go once this returns.
  using LocksSource = std::function<Result<std::int64_t>()>;
  void WatchLocks(LocksSource count);

  // The whole exposition, "# HELP"/"# TYPE" lines included. Limits appear in name order
  // from their first decision on, each with every action (zeros included) for every
  // traffic class it has decided for.
  std::string RenderPrometheus() const;

 private:
  struct LimitCounters {
    explicit LimitCounters(std::string_view n) : name(n) {}
    std::string name;
    // By traffic class, then LimitDecision; `seen` has a bit per class counted so far
    // (only those are rendered).
    std::array<std::array<std::atomic<std::uint64_t>, kLimitDecisions>, policy::kTrafficClasses>
        decisions{};
    std::atomic<unsigned> seen{0};
    std::atomic<std::uint64_t> locks{0};
  };
  using Table = std::vector<LimitCounters*>;

  struct Histogram {
    // Non-cumulative: buckets[i] counts observations in (bound[i-1], bound[i]];
    // the last one those above every bound. Rendering accumulates.
    std::array<std::atomic<std::uint64_t>, kLatencyBoundsUs.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_us{0};
  };

  LimitCounters& For(std::string_view limit);

  // Copy-on-write list of limits: readers load `table_` without a lock; a new name is
  // added under `mu_` by publishing a new Table. Old tables and every LimitCounters live
  // until the registry dies (limit names come from the config, so they are few).
  std::atomic<const Table*> table_;
  std::mutex mu_;
  std::deque<LimitCounters> counters_;
  std::vector<std::unique_ptr<const Table>> tables_;

  std::array<Histogram, 2> latency_;                          // by StoreOp
  std::array<std::atomic<std::uint64_t>, 5> store_errors_{};  // by ErrorKind
  std::atomic<std::uint64_t> fallbacks_{0};
  std::atomic<std::uint64_t> held_{0};
  std::atomic<std::uint64_t> reloads_ok_{0};
  std::atomic<std::uint64_t> reloads_rejected_{0};
  std::atomic<const std::atomic<long>*> sessions_{nullptr};
  mutable std::mutex locks_mu_;  // held while the source is asked
  LocksSource locks_;
};

}  // namespace floodgate::milter
