#include "milter/metrics.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>

namespace floodgate::milter {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

class MetricsTest : public ::testing::Test {
 protected:
  MetricsTest() {
    for (const char* name : {"submission", "per_ip", "watch"}) {
      policy::Limit l;
      l.name = name;
      limits_.push_back(l);
    }
    plan_.traffic = policy::Traffic::kSubmission;
  }
  // A plan over limits_ with the given actions, and an outcome with the given states.
  void Add(std::size_t limit, policy::Action action, LimitOutcome lo) {
    policy::PlannedLimit p;
    p.limit = &limits_[limit];
    p.action = action;
    plan_.limits.push_back(p);
    outcome_.limits.push_back(lo);
  }
  static LimitOutcome Refused() {
    LimitOutcome lo;
    lo.allowed = false;
    return lo;
  }

  std::vector<policy::Limit> limits_;
  policy::Plan plan_;
  CheckOutcome outcome_;
  Metrics metrics_;
};

TEST_F(MetricsTest, EmptyRegistryStillDescribesEveryMetric) {
  const std::string text = metrics_.RenderPrometheus();
  for (const char* name :
       {"floodgate_decisions_total counter", "floodgate_locks_total counter",
        "floodgate_store_latency_seconds histogram", "floodgate_store_errors_total counter",
        "floodgate_fallback_decisions_total counter", "floodgate_messages_held_total counter",
        "floodgate_sessions_open gauge", "floodgate_config_reloads_total counter"}) {
    EXPECT_TRUE(Has(text, std::string("# TYPE ") + name)) << name << "\n" << text;
  }
  EXPECT_TRUE(Has(text, "floodgate_sessions_open 0")) << text;
  EXPECT_TRUE(Has(text, "floodgate_messages_held_total 0")) << text;
  EXPECT_TRUE(Has(text, "floodgate_store_errors_total{kind=\"timeout\"} 0")) << text;
  EXPECT_TRUE(Has(text, "floodgate_config_reloads_total{result=\"rejected\"} 0")) << text;
}

TEST_F(MetricsTest, EachLimitCountsWhatItSaid) {
  Add(0, policy::Action::kTempfail, LimitOutcome{});  // allowed
  Add(1, policy::Action::kReject, Refused());
  Add(2, policy::Action::kMonitor, Refused());
  metrics_.CountDecisions(plan_, outcome_);
  metrics_.CountDecisions(plan_, outcome_);
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_TRUE(Has(
      text,
      R"(floodgate_decisions_total{limit="submission",action="accepted",traffic="submission"} 2)"))
      << text;
  EXPECT_TRUE(Has(
      text,
      R"(floodgate_decisions_total{limit="submission",action="tempfail",traffic="submission"} 0)"));
  EXPECT_TRUE(Has(
      text, R"(floodgate_decisions_total{limit="per_ip",action="reject",traffic="submission"} 2)"));
  EXPECT_TRUE(Has(
      text, R"(floodgate_decisions_total{limit="watch",action="monitor",traffic="submission"} 2)"));
  EXPECT_TRUE(
      Has(text,
          R"(floodgate_decisions_total{limit="watch",action="accepted",traffic="submission"} 0)"));
  // Limits are listed in name order.
  EXPECT_LT(text.find("limit=\"per_ip\""), text.find("limit=\"submission\""));
}

TEST_F(MetricsTest, EachTrafficClassIsItsOwnSeriesShownOnceSeen) {
  Add(1, policy::Action::kTempfail, Refused());
  metrics_.CountDecisions(plan_, outcome_);
  plan_.traffic = policy::Traffic::kRelay;
  metrics_.CountDecisions(plan_, outcome_);
  metrics_.CountDecisions(plan_, outcome_);
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_TRUE(
      Has(text,
          R"(floodgate_decisions_total{limit="per_ip",action="tempfail",traffic="submission"} 1)"))
      << text;
  EXPECT_TRUE(Has(
      text, R"(floodgate_decisions_total{limit="per_ip",action="tempfail",traffic="relay"} 2)"));
  EXPECT_TRUE(Has(
      text, R"(floodgate_decisions_total{limit="per_ip",action="accepted",traffic="relay"} 0)"));
  EXPECT_EQ(text.find("traffic=\"inbound\""), std::string::npos) << "never seen: not shown";
}

TEST_F(MetricsTest, HoldsAreCountedAsHoldUnlessTheHoldQueueIsFull) {
  Add(0, policy::Action::kHold, Refused());
  LimitOutcome full = Refused();
  full.hold_full = true;
  Add(1, policy::Action::kHold, full);
  metrics_.CountDecisions(plan_, outcome_);
  metrics_.CountHeld();
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_TRUE(
      Has(text,
          R"(floodgate_decisions_total{limit="submission",action="hold",traffic="submission"} 1)"))
      << text;
  EXPECT_TRUE(
      Has(text,
          R"(floodgate_decisions_total{limit="per_ip",action="tempfail",traffic="submission"} 1)"));
  EXPECT_TRUE(Has(text, "floodgate_messages_held_total 1"));
}

TEST_F(MetricsTest, ALockOutranksTheActionAndANewOneIsCounted) {
  LimitOutcome lo = Refused();
  lo.locked = true;
  lo.newly_locked = true;
  Add(0, policy::Action::kTempfail, lo);
  metrics_.CountDecisions(plan_, outcome_);
  outcome_.limits[0].newly_locked = false;  // still locked, not again
  metrics_.CountDecisions(plan_, outcome_);
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_TRUE(Has(
      text,
      R"(floodgate_decisions_total{limit="submission",action="locked",traffic="submission"} 2)"))
      << text;
  EXPECT_TRUE(Has(
      text,
      R"(floodgate_decisions_total{limit="submission",action="tempfail",traffic="submission"} 0)"));
  EXPECT_TRUE(Has(text, R"(floodgate_locks_total{limit="submission"} 1)"));
}

TEST_F(MetricsTest, LatencyHistogramIsCumulativeWithInclusiveUpperBounds) {
  for (Micros us : {50, 100, 300, 2'000'000}) metrics_.ObserveStore(StoreOp::kCheck, us);
  metrics_.ObserveStore(StoreOp::kAppend, 700);
  const std::string text = metrics_.RenderPrometheus();
  const std::string check = "floodgate_store_latency_seconds_bucket{op=\"check\",le=";
  EXPECT_TRUE(Has(text, check + "\"0.0001\"} 2")) << text;
  EXPECT_TRUE(Has(text, check + "\"0.00025\"} 2"));
  EXPECT_TRUE(Has(text, check + "\"0.0005\"} 3"));
  EXPECT_TRUE(Has(text, check + "\"0.25\"} 3"));
  EXPECT_TRUE(Has(text, check + "\"+Inf\"} 4"));
  EXPECT_TRUE(Has(text, "floodgate_store_latency_seconds_sum{op=\"check\"} 2.00045"));
  EXPECT_TRUE(Has(text, "floodgate_store_latency_seconds_count{op=\"check\"} 4"));
  EXPECT_TRUE(Has(text, "floodgate_store_latency_seconds_bucket{op=\"append\",le=\"0.001\"} 1"));
  EXPECT_TRUE(Has(text, "floodgate_store_latency_seconds_count{op=\"append\"} 1"));
}

TEST_F(MetricsTest, ErrorsFallbacksSessionsAndReloads) {
  metrics_.CountStoreError(ErrorKind::kTimeout);
  metrics_.CountStoreError(ErrorKind::kTimeout);
  metrics_.CountStoreError(ErrorKind::kUnavailable);
  metrics_.CountFallback();
  metrics_.CountReload(true);
  metrics_.CountReload(false);
  metrics_.CountReload(false);
  std::atomic<long> open{7};
  metrics_.WatchSessions(&open);
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_TRUE(Has(text, "floodgate_store_errors_total{kind=\"timeout\"} 2")) << text;
  EXPECT_TRUE(Has(text, "floodgate_store_errors_total{kind=\"unavailable\"} 1"));
  EXPECT_TRUE(Has(text, "floodgate_store_errors_total{kind=\"internal\"} 0"));
  EXPECT_TRUE(Has(text, "floodgate_fallback_decisions_total 1"));
  EXPECT_TRUE(Has(text, "floodgate_sessions_open 7"));
  EXPECT_TRUE(Has(text, "floodgate_config_reloads_total{result=\"ok\"} 1"));
  EXPECT_TRUE(Has(text, "floodgate_config_reloads_total{result=\"rejected\"} 2"));
}

TEST_F(MetricsTest, LocksActiveIsAskedAtEachRenderingAndLeftOutWhenUnknown) {
  const std::string unwatched = metrics_.RenderPrometheus();
  EXPECT_TRUE(Has(unwatched, "# TYPE floodgate_locks_active gauge")) << unwatched;
  EXPECT_EQ(unwatched.find("\nfloodgate_locks_active "), std::string::npos) << unwatched;

  Result<std::int64_t> answer = std::int64_t{3};
  int asked = 0;
  metrics_.WatchLocks([&] {
    ++asked;
    return answer;
  });
  EXPECT_TRUE(Has(metrics_.RenderPrometheus(), "floodgate_locks_active 3"));
  answer = std::int64_t{0};
  EXPECT_TRUE(Has(metrics_.RenderPrometheus(), "floodgate_locks_active 0"));
  answer = Error(ErrorKind::kTimeout, "redis: no reply within the deadline");
  const std::string failed = metrics_.RenderPrometheus();
  EXPECT_EQ(failed.find("\nfloodgate_locks_active "), std::string::npos) << failed;
  EXPECT_TRUE(Has(failed, "floodgate_sessions_open 0")) << "the rest is rendered";
  EXPECT_EQ(asked, 3);
  metrics_.WatchLocks(nullptr);
  (void)metrics_.RenderPrometheus();
  EXPECT_EQ(asked, 3);
}

TEST_F(MetricsTest, LabelValuesAreEscaped) {
  metrics_.CountDecision("a\"b\\c\nd", policy::Traffic::kSubmission, LimitDecision::kAccepted);
  EXPECT_TRUE(Has(
      metrics_.RenderPrometheus(),
      R"(floodgate_decisions_total{limit="a\"b\\c\nd",action="accepted",traffic="submission"} 1)"));
}

// Format 0.0.4: every sample belongs to the metric family of the # TYPE line above it,
// and each family is described once.
TEST_F(MetricsTest, EverySampleFollowsItsFamilyHeader) {
  metrics_.CountDecision("submission", policy::Traffic::kSubmission, LimitDecision::kReject);
  metrics_.ObserveStore(StoreOp::kCheck, 10);
  std::istringstream in(metrics_.RenderPrometheus());
  std::string line, family;
  std::set<std::string> seen;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.starts_with("# HELP ")) continue;
    if (line.starts_with("# TYPE ")) {
      family = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(seen.insert(family).second) << family;
      continue;
    }
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_TRUE(name == family || name == family + "_bucket" || name == family + "_sum" ||
                name == family + "_count")
        << line;
    EXPECT_NE(line.rfind(' '), std::string::npos) << line;
  }
}

TEST_F(MetricsTest, ConcurrentCountsAddUp) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 1000; ++i) {
        metrics_.CountDecision("limit" + std::to_string(i % 8), policy::Traffic::kRelay,
                               LimitDecision::kAccepted);
        metrics_.ObserveStore(StoreOp::kCheck, t * 100);
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string text = metrics_.RenderPrometheus();
  for (int l = 0; l < 8; ++l) {
    EXPECT_TRUE(Has(text, "floodgate_decisions_total{limit=\"limit" + std::to_string(l) +
                              "\",action=\"accepted\",traffic=\"relay\"} 500"))
        << text;
  }
  EXPECT_TRUE(Has(text, "floodgate_store_latency_seconds_count{op=\"check\"} 4000"));
}

}  // namespace
}  // namespace floodgate::milter
