#include "milter/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace floodgate::milter {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

constexpr std::array<ErrorKind, 5> kErrorKinds = {ErrorKind::kInvalid, ErrorKind::kNotFound,
                                                  ErrorKind::kUnavailable, ErrorKind::kTimeout,
                                                  ErrorKind::kInternal};

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalid:
      return "invalid";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kUnavailable:
      return "unavailable";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

std::size_t ErrorIndex(ErrorKind kind) {
  const auto* it = std::find(kErrorKinds.begin(), kErrorKinds.end(), kind);
  return it == kErrorKinds.end() ? kErrorKinds.size() - 1 : it - kErrorKinds.begin();
}

// Label values: backslash, double quote and newline are escaped (format 0.0.4).
std::string LabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// "0.00025" for 250 us: seconds, shortest exact decimal.
std::string Seconds(std::uint64_t us) { return fmt::format("{}", static_cast<double>(us) / 1e6); }

}  // namespace

const char* ToString(LimitDecision d) {
  switch (d) {
    case LimitDecision::kAccepted:
      return "accepted";
    case LimitDecision::kTempfail:
      return "tempfail";
    case LimitDecision::kReject:
      return "reject";
    case LimitDecision::kMonitor:
      return "monitor";
    case LimitDecision::kHold:
      return "hold";
    case LimitDecision::kLocked:
      return "locked";
  }
  return "accepted";
}

Metrics::Metrics() {
  tables_.push_back(std::make_unique<const Table>());
  table_.store(tables_.back().get());
}

Metrics::~Metrics() = default;

Metrics::LimitCounters& Metrics::For(std::string_view limit) {
  for (LimitCounters* c : *table_.load(std::memory_order_acquire)) {
    if (c->name == limit) return *c;
  }
  std::lock_guard lock(mu_);
  const Table& current = *table_.load(std::memory_order_acquire);
  for (LimitCounters* c : current) {
    if (c->name == limit) return *c;  // added by another thread meanwhile
  }
  LimitCounters& added = counters_.emplace_back(limit);
  auto next = std::make_unique<Table>(current);
  next->push_back(&added);
  std::sort(next->begin(), next->end(),
            [](const LimitCounters* a, const LimitCounters* b) { return a->name < b->name; });
  tables_.push_back(std::move(next));
  table_.store(tables_.back().get(), std::memory_order_release);
  return added;
}

void Metrics::CountDecisions(const policy::Plan& plan, const CheckOutcome& outcome) {
  for (std::size_t i = 0; i < plan.limits.size() && i < outcome.limits.size(); ++i) {
    const policy::PlannedLimit& p = plan.limits[i];
    const LimitOutcome& lo = outcome.limits[i];
    // Mail a limit does not count is no decision of it, unless its subject's lock refused it.
    if (p.lock_only && !lo.locked) continue;
    LimitDecision d = LimitDecision::kAccepted;
    if (lo.locked) {
      d = LimitDecision::kLocked;
    } else if (!lo.allowed) {
      switch (p.action) {
        case policy::Action::kTempfail:
          d = LimitDecision::kTempfail;
          break;
        case policy::Action::kReject:
          d = LimitDecision::kReject;
          break;
        case policy::Action::kMonitor:
          d = LimitDecision::kMonitor;
          break;
        case policy::Action::kHold:
          d = lo.hold_full ? LimitDecision::kTempfail : LimitDecision::kHold;
          break;
      }
    }
    CountDecision(p.limit->name, plan.traffic, d);
    if (lo.newly_locked) CountLock(p.limit->name);
  }
}

void Metrics::CountDecision(std::string_view limit, policy::Traffic traffic,
                            LimitDecision decision) {
  LimitCounters& c = For(limit);
  const auto t = static_cast<std::size_t>(traffic);
  const unsigned bit = 1u << t;
  if ((c.seen.load(kRelaxed) & bit) == 0) c.seen.fetch_or(bit, kRelaxed);
  c.decisions[t][static_cast<std::size_t>(decision)].fetch_add(1, kRelaxed);
}

void Metrics::CountLock(std::string_view limit) { For(limit).locks.fetch_add(1, kRelaxed); }

void Metrics::ObserveStore(StoreOp op, Micros elapsed_us) {
  const std::uint64_t us = elapsed_us < 0 ? 0 : static_cast<std::uint64_t>(elapsed_us);
  Histogram& h = latency_[static_cast<std::size_t>(op)];
  const auto* bound =
      std::lower_bound(kLatencyBoundsUs.begin(), kLatencyBoundsUs.end(), static_cast<Micros>(us));
  h.buckets[static_cast<std::size_t>(bound - kLatencyBoundsUs.begin())].fetch_add(1, kRelaxed);
  h.sum_us.fetch_add(us, kRelaxed);
}

void Metrics::CountStoreError(ErrorKind kind) {
  store_errors_[ErrorIndex(kind)].fetch_add(1, kRelaxed);
}

void Metrics::CountFallback() { fallbacks_.fetch_add(1, kRelaxed); }

void Metrics::CountHeld() { held_.fetch_add(1, kRelaxed); }

void Metrics::CountReload(bool accepted) {
  (accepted ? reloads_ok_ : reloads_rejected_).fetch_add(1, kRelaxed);
}

void Metrics::WatchSessions(const std::atomic<long>* open) { sessions_.store(open); }

void Metrics::WatchLocks(LocksSource count) {
  std::lock_guard lock(locks_mu_);
  locks_ = std::move(count);
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  auto line = [&out](std::string_view text, std::uint64_t value) {
    fmt::format_to(std::back_inserter(out), "{} {}\n", text, value);
  };
  const Table& limits = *table_.load(std::memory_order_acquire);

  Header(out, "floodgate_decisions_total", "counter",
         "Limit checks by limit, outcome (accepted, tempfail, reject, monitor: a monitor "
         "limit that would have refused, or locked) and traffic class (submission, local, "
         "relay, inbound).");
  for (const LimitCounters* c : limits) {
    const unsigned seen = c->seen.load(kRelaxed);
    for (policy::Traffic traffic : policy::kAllTraffic) {
      const auto t = static_cast<std::size_t>(traffic);
      if ((seen & (1u << t)) == 0) continue;
      for (std::size_t d = 0; d < kLimitDecisions; ++d) {
        line(fmt::format("floodgate_decisions_total{{limit=\"{}\",action=\"{}\",traffic=\"{}\"}}",
                         LabelValue(c->name), ToString(static_cast<LimitDecision>(d)),
                         policy::ToString(traffic)),
             c->decisions[t][d].load(kRelaxed));
      }
    }
  }

  Header(out, "floodgate_locks_total", "counter",
         "Subjects this host locked (burst or too many networks), by limit.");
  for (const LimitCounters* c : limits) {
    line(fmt::format("floodgate_locks_total{{limit=\"{}\"}}", LabelValue(c->name)),
         c->locks.load(kRelaxed));
  }

  Header(out, "floodgate_store_latency_seconds", "histogram",
         "Duration of calls to the primary store (check: one SMTP event; append: an event "
         "or queue id record).");
  for (const StoreOp op : {StoreOp::kCheck, StoreOp::kAppend}) {
    const char* name = op == StoreOp::kCheck ? "check" : "append";
    const Histogram& h = latency_[static_cast<std::size_t>(op)];
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.buckets.size(); ++i) {
      cumulative += h.buckets[i].load(kRelaxed);
      const std::string le = i < kLatencyBoundsUs.size() ? Seconds(kLatencyBoundsUs[i]) : "+Inf";
      line(fmt::format("floodgate_store_latency_seconds_bucket{{op=\"{}\",le=\"{}\"}}", name, le),
           cumulative);
    }
    fmt::format_to(std::back_inserter(out), "floodgate_store_latency_seconds_sum{{op=\"{}\"}} {}\n",
                   name, Seconds(h.sum_us.load(kRelaxed)));
    line(fmt::format("floodgate_store_latency_seconds_count{{op=\"{}\"}}", name), cumulative);
  }

  Header(out, "floodgate_store_errors_total", "counter",
         "Failed calls to the primary store, by kind of error.");
  for (const ErrorKind kind : kErrorKinds) {
    line(fmt::format("floodgate_store_errors_total{{kind=\"{}\"}}", ErrorKindName(kind)),
         store_errors_[ErrorIndex(kind)].load(kRelaxed));
  }

  Header(out, "floodgate_fallback_decisions_total", "counter",
         "SMTP events decided by the in-process fallback store while the primary failed "
         "(store.on_error = \"local\").");
  line("floodgate_fallback_decisions_total", fallbacks_.load(kRelaxed));

  Header(out, "floodgate_messages_held_total", "counter",
         "Messages floodgate put in Postfix's hold queue (action or locked_action hold).");
  line("floodgate_messages_held_total", held_.load(kRelaxed));

  Header(out, "floodgate_sessions_open", "gauge", "Milter sessions (SMTP connections) open now.");
  const std::atomic<long>* open = sessions_.load();
  fmt::format_to(std::back_inserter(out), "floodgate_sessions_open {}\n",
                 open ? open->load(kRelaxed) : 0L);

  Header(out, "floodgate_locks_active", "gauge",
         "Subjects locked in the store right now, site-wide (every host's locks and the "
         "admin's), read from the store at scrape time; absent when the store fails.");
  {
    std::lock_guard lock(locks_mu_);
    if (locks_) {
      if (const Result<std::int64_t> active = locks_(); active.ok()) {
        line("floodgate_locks_active",
             static_cast<std::uint64_t>(std::max<std::int64_t>(0, *active)));
      }
    }
  }

  Header(out, "floodgate_config_reloads_total", "counter",
         "Configuration reloads (SIGUSR1): ok, or rejected and the running config kept.");
  line("floodgate_config_reloads_total{result=\"ok\"}", reloads_ok_.load(kRelaxed));
  line("floodgate_config_reloads_total{result=\"rejected\"}", reloads_rejected_.load(kRelaxed));
  return out;
}

}  // namespace floodgate::milter
