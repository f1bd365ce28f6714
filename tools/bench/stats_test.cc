#include "tools/bench/stats.h"

#include <gtest/gtest.h>

#include <string>

namespace floodgate::bench {
namespace {

TEST(StatsTest, NoteStartKeepsTheLatestStartAndItsLag) {
  Stats s;
  s.NoteStart(0, 0);
  s.NoteStart(2'000'000, 50'000);
  s.NoteStart(1'000'000, 900'000);  // began earlier, though later in the loop
  EXPECT_EQ(s.starts, 3u);
  EXPECT_EQ(s.last_start_ns, 2'000'000u);
  EXPECT_EQ(s.last_start_lag_ns, 50'000u);
  EXPECT_EQ(s.start_lag_ns.count(), 3u);
  EXPECT_EQ(s.start_lag_ns.max(), 900'000u);
}

TEST(StatsTest, AClosedLoopRunRecordsNoLag) {
  Stats s;
  s.NoteStart(1000, -1);
  EXPECT_EQ(s.starts, 1u);
  EXPECT_EQ(s.start_lag_ns.count(), 0u);
}

TEST(StatsTest, MergeAddsStartsAndTakesTheLaterLastStart) {
  Stats a;
  Stats b;
  a.NoteStart(0, 0);
  a.NoteStart(3'000, 700);
  b.NoteStart(1'000, 10);
  b.NoteStart(5'000, 20);
  a.Merge(b);
  EXPECT_EQ(a.starts, 4u);
  EXPECT_EQ(a.last_start_ns, 5'000u);
  EXPECT_EQ(a.last_start_lag_ns, 20u);
  EXPECT_EQ(a.start_lag_ns.count(), 4u);
}

TEST(StatsTest, JsonCarriesOfferedAndAchievedRates) {
  Stats s;
  for (int n = 0; n <= 1000; ++n) s.NoteStart(static_cast<std::uint64_t>(n) * 1'000'000, 0);
  RunInfo run;
  run.socket = "inet:1@127.0.0.1";
  run.seconds = 1.001;
  run.offered_rate = 1000;
  const std::string json = FormatJson(s, run);
  EXPECT_NE(json.find("\"offered_rate\":1000.0,\"achieved_rate\":1000.0,"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"schedule_lag\":{\"count\":1001,"), std::string::npos) << json;
  EXPECT_NE(FormatText(s, run).find("offered 1000.0 messages/s, achieved 1000.0/s"),
            std::string::npos);
}

}  // namespace
}  // namespace floodgate::bench
