// Decider: one SMTP event in, one Verdict out. Runs the pipeline
//   policy::MakePlan -> CounterStore::Check -> policy::Interpret
// and is the single place where `store.on_error` is applied: when the primary store
// fails, `local` asks the in-process fallback store (same limits, this host alone),
// `tempfail` refuses with 451 4.3.0, `accept` lets the mail through. The transitions are
// logged once each (store_down / store_up), never per message.
// After a failed call the primary is not asked again until a StoreBreaker probe: a store
// that is down or frozen costs one deadline per probe, not one per message, and the
// others get on_error at once. The probe is the Check of a real event (that one waits at
// most the store's deadline, as any call does): it takes the path every decision takes
// (script, AUTH, failover), so "it answers" means the decisions work again, not merely
// that a PING does. While the breaker is open, event and queue id records are dropped
// and the locks gauge is left out, without asking the store.
// It also counts what happened in metrics() (decisions, locks, store latency and errors,
// fallbacks): this is the one place that sees all of it. Its metrics() read the gauge
// floodgate_locks_active from the primary store at each scrape (scrapes alone wait on it,
// and they are neither timed nor counted as store calls: those figures are the mail's).
// Thread-safety: Decide may be called from any number of threads at once.
#pragma once

#include <atomic>
#include <memory>

#include "floodgate/counter_store.h"
#include "milter/alert_log.h"
#include "milter/metrics.h"
#include "milter/store_breaker.h"
#include "policy/config.h"
#include "policy/planner.h"
#include "policy/verdict.h"

namespace floodgate::milter {

class Decider {
 public:
  // `fallback` may be null when the primary cannot fail (memory backend). `clock` times
  // the breaker's probes; it must outlive the Decider.
  Decider(std::unique_ptr<CounterStore> primary, std::unique_ptr<CounterStore> fallback,
          AlertSink& alerts, const Clock& clock);
  ~Decider();
  Decider(const Decider&) = delete;
  Decider& operator=(const Decider&) = delete;

  policy::Verdict Decide(const policy::Config& config, const policy::Facts& facts,
                         const policy::Event& event);

  // Records the queue id of a message accepted for an authenticated account, so that
  // `floodgatectl queue` can find it later (postqueue carries no SASL login). Best effort
  // and in the background: the end of message does not wait for the store, and a store
  // failure loses the record, never the message.
  void RecordQueueId(const policy::Config& config, const policy::Facts& facts,
                     const std::string& queue_id);

  // Records the queue id of a message floodgate put on hold in each of `held_keys` (the
  // held subjects' lists: `floodgatectl held`, and what hold_max counts). Best effort and
  // in the background, like RecordQueueId.
  void RecordHeld(const std::vector<std::string>& held_keys, const std::string& queue_id);

  // Logs `alert` and keeps it in the store's recent-events list.
  void Emit(const policy::Config& config, const policy::Alert& alert);

  CounterStore& primary() { return *primary_; }
  const StoreBreaker& breaker() const { return breaker_; }
  Metrics& metrics() { return metrics_; }

 private:
  policy::Verdict OnStoreError(const policy::Config& config, const policy::Plan& plan,
                               const Error& error, const std::optional<policy::Address>& client);
  void MarkUp();
  // The primary store's calls, timed and their errors counted; skipped while the breaker
  // is open (counted as kUnavailable errors, not timed: no call was made).
  Result<CheckOutcome> PrimaryCheck(const std::vector<LimitCheck>& checks);
  // In the background: nobody waits on these records (see AppendInBackground).
  void PrimaryAppend(const std::string& key, const std::string& value, std::size_t max_len,
                     Micros ttl_us);

  // First: it must outlive the stores, whose pending background appends count into it.
  Metrics metrics_;
  std::unique_ptr<CounterStore> primary_;
  std::unique_ptr<CounterStore> fallback_;
  AlertSink& alerts_;
  StoreBreaker breaker_;
  std::atomic<bool> store_down_{false};
};

}  // namespace floodgate::milter
