#include "tools/simulate/simulation.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "floodgate/store_layout.h"
#include "policy/duration.h"
#include "store/memory_store.h"
#include "tools/simulate/memory_probe.h"
#include "tools/simulate/transaction.h"

namespace floodgate::simulate {
namespace {

using policy::Disposition;

struct Pending {
  SimTime time = 0;
  std::uint64_t seq = 0;  // ties in time keep the order they were queued in
  Message msg;
};

// A min-heap on (time, seq).
bool Later(const Pending& a, const Pending& b) {
  return a.time != b.time ? a.time > b.time : a.seq > b.seq;
}

std::string Profile(const Hijack& h) {
  return fmt::format("{} x {} rcpt, {} network{}, {}", h.rate_text, h.recipients, h.networks,
                     h.networks == 1 ? "" : "s", policy::FormatDuration(h.duration_us / kSecondUs));
}

class Run {
 public:
  Run(const Scenario& s, const policy::Config& config)
      : s_(s),
        w_(s.workload()),
        config_(config),
        clock_(kClockEpoch),
        store_(std::make_unique<store::MemoryStore>(
            clock_, store::MemoryStore::Options{static_cast<std::size_t>(
                        std::max<std::int64_t>(0, config.store.max_subjects))})),
        refused_(s.accounts().size()),
        written_(s.accounts().size()),
        legit_locked_(s.accounts().size()),
        victim_of_(s.accounts().size(), -1) {
    for (std::size_t h = 0; h < w_.hijacks.size(); ++h) {
      const Hijack& hj = w_.hijacks[h];
      const Account& a = s.accounts()[s.victims()[h]];
      HijackResult r;
      r.name = hj.name;
      r.profile = Profile(hj);
      r.login = a.login;
      r.usual_day = a.usual_day;
      r.start = hj.start;
      result_.hijacks.push_back(r);
      victim_of_[s.victims()[h]] = static_cast<int>(h);
    }
  }

  Status Go() {
    std::vector<Message> day_mail;
    for (std::int64_t day = 0; day < w_.days; ++day) {
      day_mail.clear();
      s_.mail().Day(day, &day_mail);
      for (Message& m : day_mail) Push(std::move(m));
      while (!heap_.empty() && heap_.front().time < (day + 1) * kDayUs) {
        if (Status st = Process(Pop()); !st.ok()) return st;
      }
    }
    while (!heap_.empty()) {  // retries due after the last day
      if (Status st = Process(Pop()); !st.ok()) return st;
    }
    SampleHours(w_.days * kDayUs);
    heap_ = {};
    return OkStatus();
  }

  RunResult Finish(const SimulateOptions& options) {
    for (std::size_t i = 0; i < s_.accounts().size(); ++i) {
      if (refused_[i] > 0) ++result_.accounts_refused;
    }
    std::vector<std::size_t> order(s_.accounts().size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return refused_[a] > refused_[b]; });
    for (std::size_t i = 0; i < order.size() && i < 5 && refused_[order[i]] > 0; ++i) {
      const Account& a = s_.accounts()[order[i]];
      result_.top_refused.push_back(
          {order[i], a.login, a.usual_day, refused_[order[i]], written_[order[i]]});
    }
    result_.store.end = Sample();
    result_.store.end.snapshot_bytes = SnapshotBytes();
    result_.store.evicted = store_->sizes().evicted;
    if (options.measure_rss) {
      ReturnFreeMemory();
      const long with = ResidentBytes();
      store_.reset();
      ReturnFreeMemory();
      const long without = ResidentBytes();
      if (with >= 0 && without >= 0) result_.store.rss_bytes = with - without;
    }
    return std::move(result_);
  }

 private:
  void Push(Message m) {
    const SimTime t = m.time;
    heap_.push_back({t, seq_++, std::move(m)});
    std::push_heap(heap_.begin(), heap_.end(), Later);
  }

  Message Pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    Message m = std::move(heap_.back().msg);
    heap_.pop_back();
    return m;
  }

  void AdvanceTo(SimTime t) {
    const Micros now = clock_.now() - kClockEpoch;
    if (t > now) clock_.Advance(t - now);
  }

  // The store's live keys now, by kind, and how many subjects they belong to.
  StoreSample Sample() const {
    StoreSample sample;
    sample.at = clock_.now() - kClockEpoch;
    std::set<std::string_view> subjects;
    const std::vector<std::string> keys = store_->Keys("");
    for (const std::string& k : keys) {
      const std::string_view key = k;
      if (key.ends_with(layout::kNetworksSuffix)) {
        ++sample.network_sets;
      } else if (key.ends_with(layout::kDomainsSuffix)) {
        ++sample.domain_sets;
      } else if (key.ends_with(layout::kLockSuffix)) {
        ++sample.locks;
      } else if (key.ends_with(layout::kQueueSuffix) || key.ends_with(layout::kHeldSuffix) ||
                 key.ends_with(layout::kEventsKey)) {
        ++sample.lists;
      } else {
        ++sample.limit_keys;
      }
      const std::size_t close = key.find('}');
      if (close != std::string_view::npos) subjects.insert(key.substr(0, close + 1));
    }
    sample.subjects = subjects.size();
    return sample;
  }

  std::size_t SnapshotBytes() {
    std::string snapshot;
    store_->Export(&snapshot, [] {});
    return snapshot.size();
  }

  // At every simulated hour: the store's live keys, kept when they are the most so far.
  void SampleHours(SimTime until) {
    for (; next_sample_ <= until; next_sample_ += kHourUs) {
      AdvanceTo(next_sample_);
      StoreSample sample = Sample();
      const auto live = [](const StoreSample& x) {
        return x.limit_keys + x.locks + x.network_sets + x.domain_sets + x.lists;
      };
      if (live(sample) > live(result_.store.peak)) {
        sample.snapshot_bytes = SnapshotBytes();
        result_.store.peak = sample;
      }
    }
  }

  Status Process(Message m) {
    SampleHours(m.time);
    AdvanceTo(m.time);
    const Account& account = s_.accounts()[m.account];
    const bool spam = m.origin == Origin::kSpam;
    policy::Address client = account.client;
    if (spam)
      client = MailGenerator::AttackerAddress(static_cast<std::size_t>(m.hijack), m.network);
    Result<TransactionOutcome> out =
        SubmitMessage(config_, *store_, client, account.login, m.recipients,
                      fmt::format("{:010X}", ++queue_ids_));
    if (!out.ok()) return out.error();
    result_.checks += out->checks;

    std::int64_t accepted = 0, held = 0, tempfailed = 0, rejected = 0;
    for (Disposition d : out->recipients) {
      accepted += d == Disposition::kContinue;
      held += d == Disposition::kHold;
      tempfailed += d == Disposition::kTempfail;
      rejected += d == Disposition::kReject;
    }
    const std::int64_t n = static_cast<std::int64_t>(m.recipients.size());

    const int victim = victim_of_[m.account];
    if (spam) {
      HijackResult& h = result_.hijacks[static_cast<std::size_t>(m.hijack)];
      ++h.messages;
      h.recipients += n;
      h.held_recipients += held;
      h.escaped_recipients_total += accepted;
      h.escaped_messages_total += accepted > 0;
      if (!h.time_to_lock) {
        h.escaped_recipients += accepted;
        h.escaped_messages += accepted > 0;
      }
      NoteHijackLock(h, m.time, out->lock);
      return OkStatus();  // the attacker does not retry: it has new recipients to try
    }
    if (victim >= 0 && m.time >= result_.hijacks[static_cast<std::size_t>(victim)].start) {
      HijackResult& h = result_.hijacks[static_cast<std::size_t>(victim)];
      if (m.attempt == 0) {
        h.collateral_recipients += n;
        h.collateral_refused += tempfailed + rejected;
      }
      NoteHijackLock(h, m.time, out->lock);
      Retry(m, *out);
      return OkStatus();
    }

    LegitTally& t = result_.legit;
    if (m.attempt == 0) {
      const bool burst = m.origin == Origin::kBurst;
      ++t.messages;
      t.recipients += n;
      t.burst_messages += burst;
      t.burst_recipients += burst ? n : 0;
      t.refused_tempfail += tempfailed;
      t.refused_reject += rejected;
      t.burst_refused += burst ? tempfailed + rejected : 0;
      t.held += held;
      t.messages_refused += tempfailed + rejected > 0;
      refused_[m.account] += tempfailed + rejected;
      written_[m.account] += n;
    } else {
      t.retries += n;
      t.retries_refused += tempfailed + rejected;
    }
    if (out->lock && out->lock->newly && !legit_locked_[m.account]) {
      legit_locked_[m.account] = true;
      result_.legit_locks.push_back({account.login, account.usual_day, m.time, out->lock->reason});
    }
    t.undelivered += rejected + Retry(m, *out);
    return OkStatus();
  }

  // Queues the message's tempfailed recipients again when it has attempts left; returns
  // how many tempfailed recipients are given up.
  std::int64_t Retry(const Message& m, const TransactionOutcome& out) {
    Message again;
    for (std::size_t i = 0; i < m.recipients.size(); ++i) {
      if (out.recipients[i] == Disposition::kTempfail) again.recipients.push_back(m.recipients[i]);
    }
    const auto refused = static_cast<std::int64_t>(again.recipients.size());
    if (refused == 0 || m.attempt >= w_.retry.attempts) return refused;
    again.time = m.time + w_.retry.delay_us;
    again.account = m.account;
    again.origin = m.origin;
    again.attempt = m.attempt + 1;
    Push(std::move(again));
    return 0;
  }

  static void NoteHijackLock(HijackResult& h, SimTime t, const std::optional<LockSeen>& lock) {
    if (!lock || h.time_to_lock) return;
    h.time_to_lock = t - h.start;
    h.lock_reason = lock->reason;
    h.lock_subject = lock->subject;
  }

  const Scenario& s_;
  const Workload& w_;
  const policy::Config& config_;
  FakeClock clock_;
  std::unique_ptr<store::MemoryStore> store_;
  std::vector<Pending> heap_;
  std::uint64_t seq_ = 0;
  std::uint64_t queue_ids_ = 0;
  std::vector<std::int64_t> refused_, written_;
  std::vector<bool> legit_locked_;
  SimTime next_sample_ = kHourUs;
  std::vector<int> victim_of_;  // the hijack that takes an account over, or -1
  RunResult result_;
};

}  // namespace

Result<RunResult> Simulate(const Scenario& scenario, const policy::Config& config,
                           const std::string& variant, const SimulateOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Run run(scenario, config);
  if (Status st = run.Go(); !st.ok()) return st.error();
  RunResult r = run.Finish(options);
  r.variant = variant;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace floodgate::simulate
