#include "admin/report.h"

#include <gtest/gtest.h>

#include "policy/alert_line.h"

namespace floodgate::admin {
namespace {

using Json = nlohmann::json;

const std::time_t kNow = *policy::ParseUtcStamp("2026-12-01T20:00:00Z");

const std::vector<std::string> kLines = {
    "2026-11-30T19:00:00Z event=locked subject=account:old@example.org reason=burst",
    "2026-12-01T08:00:00Z event=config_reloaded file=/etc/floodgate/floodgate.toml limits=2",
    "2026-12-01T19:00:00Z event=limit_exceeded subject=account:alice@example.org "
    "limit=submission window=1h count=100 action=tempfail client=203.0.113.9",
    "2026-12-01T19:10:00Z event=limit_exceeded subject=account:alice@example.org "
    "limit=submission window=1d count=300 action=tempfail client=198.51.100.4",
    "garbage that is not an event",
    "2026-12-01T19:20:00Z event=locked subject=account:alice@example.org reason=burst "
    "limit=submission refused=1100 ttl=1d client=203.0.113.9",
    "2026-12-01T19:25:00Z event=limit_exceeded subject=ip:203.0.113.0/24 limit=per-ip "
    "window=1h count=600 action=reject traffic=relay",
    "2026-12-01T19:26:00Z event=limit_exceeded subject=ip:203.0.113.0/24 limit=per-ip "
    "window=1h count=600 action=reject traffic=relay",
    "2026-12-01T19:30:00Z event=store_down store=redis error=\"timeout after 50 ms\" "
    "on_error=local",
    "2026-12-01T19:31:00Z event=store_up store=redis",
    "2026-12-01T19:40:00Z event=unlocked subject=account:alice@example.org by=floodgatectl",
    "2026-12-01T19:50:00Z event=locked subject=\"account:evil\\x1b[2J@example.org\" "
    "reason=admin by=floodgatectl ttl=none",
    "2026-12-01T21:00:00Z event=locked subject=account:future@example.org reason=burst",
};

TEST(ReportTest, DigestsTheEventsOfThePeriodPerSubject) {
  const Json r = BuildReport(kLines, kNow, 86400);
  EXPECT_EQ(r["since"], "2026-11-30T20:00:00Z");
  EXPECT_EQ(r["until"], "2026-12-01T20:00:00Z");
  EXPECT_EQ(r["events"], 10);
  EXPECT_EQ(r["unreadable_events"], 1);
  EXPECT_EQ(r["event_counts"]["limit_exceeded"], 4);
  EXPECT_EQ(r["event_counts"]["locked"], 2);
  EXPECT_EQ(r["store"]["down"], 1);
  EXPECT_EQ(r["store"]["up"], 1);
  EXPECT_EQ(r["store"]["errors"][0]["error"], "timeout after 50 ms");
  EXPECT_EQ(r["config"]["reloaded"], 1);

  const Json& subjects = r["subjects"];
  ASSERT_EQ(subjects.size(), 3u) << subjects.dump(2);
  const Json& alice = subjects[0];  // locked, most refused: first
  EXPECT_EQ(alice["subject"], "account:alice@example.org");
  EXPECT_EQ(alice["units_refused"], 1100);
  ASSERT_EQ(alice["limits_hit"].size(), 2u);
  EXPECT_EQ(alice["limits_hit"][0], (Json{{"limit", "submission"},
                                          {"window", "1d"},
                                          {"count", 300},
                                          {"action", "tempfail"},
                                          {"times", 1},
                                          {"first", "2026-12-01T19:10:00Z"},
                                          {"last", "2026-12-01T19:10:00Z"}}));
  EXPECT_EQ(alice["locks"], (Json::array({{{"at", "2026-12-01T19:20:00Z"},
                                           {"reason", "burst"},
                                           {"by", "floodgate"},
                                           {"limit", "submission"},
                                           {"refused", 1100},
                                           {"ttl", "1d"}}})));
  EXPECT_EQ(alice["unlocks"][0]["by"], "floodgatectl");
  EXPECT_EQ(alice["clients"], (Json{"203.0.113.9", "198.51.100.4"}));

  // A hostile subject stays escaped: valid JSON, no terminal escape in the table.
  EXPECT_EQ(subjects[1]["subject"], "\"account:evil\\x1B[2J@example.org\"");
  const Json& ip = subjects[2];
  EXPECT_EQ(ip["limits_hit"][0]["times"], 2);
  EXPECT_EQ(ip["limits_hit"][0]["traffic"], "relay");
  EXPECT_EQ(ip["units_refused"], 0);
}

TEST(ReportTest, ThePeriodIsSinceSecondsBackFromNow) {
  const Json r = BuildReport(kLines, kNow, 3600);
  EXPECT_EQ(r["events"], 9);  // 19:00:00 is in
  EXPECT_EQ(r["config"]["reloaded"], 0);
  EXPECT_EQ(BuildReport({}, kNow, 60)["subjects"], Json::array());
  EXPECT_FALSE(BuildReport(kLines, kNow, 86400).contains("oldest_event"));
}

TEST(ReportTest, SaysWhenTheStoredEventsDoNotCoverThePeriod) {
  // A full list whose oldest event is inside the period: what came before is gone.
  const std::vector<std::string> newest(kLines.begin() + 1, kLines.end());
  const Json r = BuildReport(newest, kNow, 86400, newest.size());
  EXPECT_EQ(r["oldest_event"], "2026-12-01T08:00:00Z");
  EXPECT_NE(ReportText(r).find("covers 2026-12-01T08:00:00Z on"), std::string::npos);
  // A full list that reaches back before the period covers it.
  EXPECT_FALSE(BuildReport(kLines, kNow, 86400, kLines.size()).contains("oldest_event"));
  // A list that is not full holds every event there was.
  EXPECT_FALSE(BuildReport(newest, kNow, 86400, newest.size() + 1).contains("oldest_event"));
}

TEST(ReportTest, TheTableSaysTheSameInWords) {
  Json r = BuildReport(kLines, kNow, 86400);
  r["locked_now"] = Json::array(
      {{{"subject", "account:alice@example.org"}, {"reason", "burst"}, {"expires_in_s", 7200.0}},
       {{"subject", "ip:192.0.2.1"}, {"reason", "admin"}, {"expires_in_s", nullptr}}});
  const std::string text = ReportText(r);
  for (const char* words :
       {"floodgate report, 2026-11-30T20:00:00Z to 2026-12-01T20:00:00Z: 10 event(s)",
        "account:alice@example.org                submission 300/1d x1, submission 100/1h x1     "
        "1100 "
        "burst 12-01 19:20",
        "2026-12-01T19:20:00Z  account:alice@example.org locked (reason burst, by floodgate, "
        "limit submission, 1100 refused)",
        "2026-12-01T19:40:00Z  account:alice@example.org unlocked (by floodgatectl)",
        "Clients seen:\n  account:alice@example.org: 203.0.113.9, 198.51.100.4\n",
        "Store: down 1 time(s), back 1 time(s). Config: reloaded 1, rejected 0.",
        "Locked now:\n  account:alice@example.org                reason=burst  expires in 2h",
        "reason=admin  until unlocked"}) {
    EXPECT_NE(text.find(words), std::string::npos) << words << "\n" << text;
  }
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  r["locked_now"] = Json::array();
  EXPECT_NE(ReportText(r).find("Locked now: nothing."), std::string::npos);
  EXPECT_EQ(ReportText(r).find("on hold"), std::string::npos);
  r["held"] = Json::array(
      {{{"subject", "account:school@example.org"}, {"recorded", 300}, {"held_now", 280}},
       {{"subject", "account:b@example.org"}, {"recorded", 2}}});
  r["held_now_error"] = "postqueue -j failed";
  EXPECT_NE(ReportText(r).find("on hold by floodgate (recorded queue ids, and how many are still "
                               "held):\n  account:school@example.org               recorded 300, "
                               "held now 280\n  account:b@example.org"),
            std::string::npos)
      << ReportText(r);
  EXPECT_NE(ReportText(r).find("recorded 2, held now unknown\n  (postqueue -j failed)"),
            std::string::npos);
}

}  // namespace
}  // namespace floodgate::admin
