#include "milter/decider.h"

#include <fmt/chrono.h>

#include <chrono>
#include <ctime>

#include "floodgate/store_layout.h"

namespace floodgate::milter {
namespace {

constexpr layout::ListShape kEvents = layout::kEvents;
constexpr layout::ListShape kQueueIds = layout::kQueueIds;

// Measures one store call with the real monotonic clock (also under a FakeClock: the
// latency is the call's, not the limits').
class Stopwatch {
 public:
  Micros Elapsed() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

Decider::Decider(std::unique_ptr<CounterStore> primary, std::unique_ptr<CounterStore> fallback,
                 AlertSink& alerts, const Clock& clock)
    : primary_(std::move(primary)),
      fallback_(std::move(fallback)),
      alerts_(alerts),
      breaker_(clock) {
  metrics_.WatchLocks([this]() -> Result<std::int64_t> {
    if (breaker_.open()) return Error(ErrorKind::kUnavailable, "the store is down");
    return primary_->CountActiveLocks();
  });
}

// A scrape still asking the primary finishes before the primary goes.
Decider::~Decider() { metrics_.WatchLocks(nullptr); }

policy::Verdict Decider::Decide(const policy::Config& config, const policy::Facts& facts,
                                const policy::Event& event) {
  const policy::Plan plan = policy::MakePlan(config, facts, event);
  if (plan.checks.empty()) return {};
  Result<CheckOutcome> outcome = PrimaryCheck(plan.checks);
  if (!outcome.ok()) return OnStoreError(config, plan, outcome.error(), facts.client);
  MarkUp();
  metrics_.CountDecisions(plan, *outcome);
  policy::Verdict verdict = policy::Interpret(plan, *outcome, facts.client);
  for (const policy::Alert& a : verdict.alerts) Emit(config, a);
  return verdict;
}

void Decider::Emit(const policy::Config& config, const policy::Alert& alert) {
  alerts_.Emit(alert);
  const std::string line = fmt::format("{:%Y-%m-%dT%H:%M:%SZ} {}", fmt::gmtime(std::time(nullptr)),
                                       policy::FormatAlert(alert));
  PrimaryAppend(config.store.key_prefix + std::string(layout::kEventsKey), line, kEvents.max_len,
                kEvents.ttl_us);
}

void Decider::RecordQueueId(const policy::Config& config, const policy::Facts& facts,
                            const std::string& queue_id) {
  if (facts.account.empty() || queue_id.empty()) return;
  const std::string key =
      policy::QueueKey(config.store.key_prefix, policy::SubjectKind::kAccount, facts.account);
  PrimaryAppend(key, queue_id, kQueueIds.max_len, kQueueIds.ttl_us);
}

void Decider::RecordHeld(const std::vector<std::string>& held_keys, const std::string& queue_id) {
  if (queue_id.empty()) return;
  for (const std::string& key : held_keys)
    PrimaryAppend(key, queue_id, kQueueIds.max_len, kQueueIds.ttl_us);
}

Result<CheckOutcome> Decider::PrimaryCheck(const std::vector<LimitCheck>& checks) {
  const StoreBreaker::Admission admission = breaker_.Admit();
  if (admission == StoreBreaker::Admission::kSkip) {
    // Not timed (no call was made), but counted, so the error rate shows the whole outage.
    metrics_.CountStoreError(ErrorKind::kUnavailable);
    return Error(
        ErrorKind::kUnavailable,
        fmt::format("{}: not asked since it failed, until a probe answers", primary_->name()));
  }
  const Stopwatch watch;
  Result<CheckOutcome> outcome = primary_->Check(checks);
  metrics_.ObserveStore(StoreOp::kCheck, watch.Elapsed());
  breaker_.Record(admission, outcome.ok());
  if (!outcome.ok()) metrics_.CountStoreError(outcome.error().kind());
  return outcome;
}

void Decider::PrimaryAppend(const std::string& key, const std::string& value, std::size_t max_len,
                            Micros ttl_us) {
  if (breaker_.open()) return;  // best effort: the record is lost, as on a failed append
  primary_->AppendInBackground(key, value, max_len, ttl_us,
                               [this, watch = Stopwatch()](const Status& status) {
                                 metrics_.ObserveStore(StoreOp::kAppend, watch.Elapsed());
                                 if (!status.ok()) metrics_.CountStoreError(status.error().kind());
                               });
}

void Decider::MarkUp() {
  if (store_down_.load(std::memory_order_relaxed) && store_down_.exchange(false)) {
    alerts_.Emit({"store_up", {{"store", primary_->name()}}});
  }
}

policy::Verdict Decider::OnStoreError(const policy::Config& config, const policy::Plan& plan,
                                      const Error& error,
                                      const std::optional<policy::Address>& client) {
  const policy::OnError on_error = config.store.on_error;
  if (!store_down_.exchange(true)) {
    alerts_.Emit({"store_down",
                  {{"store", primary_->name()},
                   {"error", error.message()},
                   {"on_error", policy::ToString(on_error)}}});
  }
  policy::Verdict verdict;
  switch (on_error) {
    case policy::OnError::kAccept:
      return verdict;
    case policy::OnError::kTempfail:
      verdict.disposition = policy::Disposition::kTempfail;
      verdict.reply = policy::StoreDownReply();
      return verdict;
    case policy::OnError::kLocal:
      break;
  }
  if (!fallback_) return verdict;
  Result<CheckOutcome> local = fallback_->Check(plan.checks);
  if (!local.ok()) return verdict;  // the memory store does not fail; be safe anyway
  metrics_.CountFallback();
  metrics_.CountDecisions(plan, *local);
  verdict = policy::Interpret(plan, *local, client);
  for (const policy::Alert& a : verdict.alerts) alerts_.Emit(a);  // the store is down
  return verdict;
}

}  // namespace floodgate::milter
