#include "milter/decider.h"

#include <gtest/gtest.h>

#include "store/memory_store.h"

namespace floodgate::milter {
namespace {

// A primary store that fails on demand: the point here is the failure policy, not Redis
// (tests/integration kill a real redis-server for that).
class SwitchableStore final : public CounterStore {
 public:
  explicit SwitchableStore(const Clock& clock) : inner_(clock) {}
  Result<CheckOutcome> Check(const std::vector<LimitCheck>& checks) override {
    ++checks_called;
    if (down) return Error(ErrorKind::kUnavailable, "connection refused");
    return inner_.Check(checks);
  }
  Status Reset(const std::string& key) override { return inner_.Reset(key); }
  Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                Micros ttl_us) override {
    ++appends_called;
    if (down) return Error(ErrorKind::kUnavailable, "connection refused");
    return inner_.Append(key, value, max_len, ttl_us);
  }
  Result<std::int64_t> CountActiveLocks() override {
    ++counts_called;
    if (down) return Error(ErrorKind::kUnavailable, "connection refused");
    return inner_.CountActiveLocks();
  }
  const char* name() const override { return "switchable"; }
  const store::MemoryStore& inner() const { return inner_; }
  bool down = false;
  int checks_called = 0, appends_called = 0, counts_called = 0;

 private:
  store::MemoryStore inner_;
};

class DeciderTest : public ::testing::Test {
 protected:
  DeciderTest() {
    auto primary = std::make_unique<SwitchableStore>(clock_);
    primary_ = primary.get();
    decider_ = std::make_unique<Decider>(
        std::move(primary), std::make_unique<store::MemoryStore>(clock_), alerts_, clock_);
    policy::Limit l;
    l.name = "submission";
    l.subject = policy::SubjectKind::kAccount;
    l.traffic = policy::DefaultTraffic(l.subject);
    policy::Rate r;
    r.amount = 10;
    r.period_s = 3600;
    l.rates = {r};
    config_.limits = {l};
    facts_.client = policy::Address::Parse("203.0.113.9");
    facts_.account = "alice@example.org";
    facts_.traffic = policy::Traffic::kSubmission;
  }
  int Accepted(int attempts) {
    int n = 0;
    for (int i = 0; i < attempts; ++i) {
      n += decider_->Decide(config_, facts_, {}).disposition == policy::Disposition::kContinue;
    }
    return n;
  }
  int Count(const std::string& needle) {
    int n = 0;
    for (const auto& line : alerts_.lines()) n += line.find(needle) != std::string::npos;
    return n;
  }

  FakeClock clock_;
  MemoryAlertSink alerts_;
  SwitchableStore* primary_ = nullptr;
  std::unique_ptr<Decider> decider_;
  policy::Config config_;
  policy::Facts facts_;
};

TEST_F(DeciderTest, LimitExceededIsLoggedOncePerWindowNotPerMessage) {
  EXPECT_EQ(Accepted(50), 10);
  EXPECT_EQ(Count("event=limit_exceeded"), 1);
  EXPECT_EQ(alerts_.lines()[0],
            "event=limit_exceeded subject=account:alice@example.org limit=submission window=1h "
            "count=10 action=tempfail traffic=submission client=203.0.113.9");
}

TEST_F(DeciderTest, EventsAreKeptInTheStoreWithATimestamp) {
  Accepted(11);
  const auto events = primary_->inner().List("fg:events");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("Z event=limit_exceeded subject=account:alice@example.org"),
            std::string::npos)
      << events[0];
}

TEST_F(DeciderTest, QueueIdsAreRecordedUnderTheAccount) {
  decider_->RecordQueueId(config_, facts_, "4ABC123");
  decider_->RecordQueueId(config_, facts_, "4ABC124");
  EXPECT_EQ(primary_->inner().List("fg:{account:alice@example.org}!queue"),
            (std::vector<std::string>{"4ABC124", "4ABC123"}));
}

TEST_F(DeciderTest, LocalFallbackKeepsEnforcingWhileTheStoreIsDown) {
  config_.store.on_error = policy::OnError::kLocal;
  primary_->down = true;
  EXPECT_EQ(Accepted(50), 10);
  EXPECT_EQ(Count("event=store_down"), 1);
  primary_->down = false;
  clock_.Advance(decider_->breaker().next_probe_at() - clock_.now());
  Accepted(1);
  EXPECT_EQ(Count("event=store_up"), 1);
}

TEST_F(DeciderTest, AfterAFailureTheStoreIsAskedOnlyByTheProbe) {
  config_.store.on_error = policy::OnError::kLocal;
  primary_->down = true;
  EXPECT_EQ(Accepted(50), 10);  // the fallback decides all of them
  EXPECT_EQ(primary_->checks_called, 1);
  decider_->RecordQueueId(config_, facts_, "4ABC123");  // dropped, not sent
  EXPECT_EQ(primary_->appends_called, 0);
  EXPECT_EQ(decider_->metrics().RenderPrometheus().find("\nfloodgate_locks_active "),
            std::string::npos);
  EXPECT_EQ(primary_->counts_called, 0);
  // Each probe, once its backoff has passed, is one call; it fails, and the next waits
  // twice as long.
  const Micros first = decider_->breaker().backoff_us();
  clock_.Advance(first);
  Accepted(5);
  EXPECT_EQ(primary_->checks_called, 2);
  clock_.Advance(first);
  Accepted(5);
  EXPECT_EQ(primary_->checks_called, 2);
  clock_.Advance(first);
  Accepted(5);
  EXPECT_EQ(primary_->checks_called, 3);
  // The store answers the next probe: store_up once, and every call goes to it again.
  primary_->down = false;
  clock_.Advance(decider_->breaker().next_probe_at() - clock_.now());
  Accepted(5);
  EXPECT_EQ(primary_->checks_called, 8);
  EXPECT_EQ(Count("event=store_down"), 1);
  EXPECT_EQ(Count("event=store_up"), 1);
  decider_->RecordQueueId(config_, facts_, "4ABC124");
  EXPECT_EQ(primary_->appends_called, 1);
}

TEST_F(DeciderTest, SkippedCallsCountAsErrorsButAreNotTimed) {
  config_.store.on_error = policy::OnError::kTempfail;
  primary_->down = true;
  Accepted(20);
  const std::string text = decider_->metrics().RenderPrometheus();
  EXPECT_NE(text.find("floodgate_store_latency_seconds_count{op=\"check\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("floodgate_store_errors_total{kind=\"unavailable\"} 20\n"), std::string::npos)
      << text;
}

TEST_F(DeciderTest, TempfailPolicyRefusesEverythingWhileDown) {
  config_.store.on_error = policy::OnError::kTempfail;
  primary_->down = true;
  const policy::Verdict v = decider_->Decide(config_, facts_, {});
  EXPECT_EQ(v.disposition, policy::Disposition::kTempfail);
  EXPECT_EQ(v.reply.code, "451");
  EXPECT_EQ(v.reply.xcode, "4.3.0");
  EXPECT_EQ(Accepted(20), 0);
  EXPECT_EQ(Count("event=store_down"), 1);
}

TEST_F(DeciderTest, AcceptPolicyLetsMailThroughAndSaysSoOnce) {
  config_.store.on_error = policy::OnError::kAccept;
  primary_->down = true;
  EXPECT_EQ(Accepted(50), 50);
  EXPECT_EQ(Count("event=store_down"), 1);
  EXPECT_EQ(Count("on_error=accept"), 1);
}

TEST_F(DeciderTest, ExemptSubjectsNeverReachTheStore) {
  config_.exempt.accounts = {"alice@example.org"};
  primary_->down = true;
  config_.store.on_error = policy::OnError::kTempfail;
  EXPECT_EQ(Accepted(5), 5);
  EXPECT_EQ(Count("store_down"), 0);
}

}  // namespace
}  // namespace floodgate::milter
