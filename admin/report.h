// The digest behind `floodgatectl report`: what the stored events say happened in a
// period — per subject the limits it hit, the units refused, its locks (with reasons)
// and unlocks, the clients seen; the store's outages and the config reloads — as JSON
// (the stable shape `--json` prints, described in floodgatectl(8)), and that JSON as a
// table for people and for the daily report mail.
//
// Values read from events are network data: the report keeps a value as it is when it
// is printable ASCII and LogValue-escapes it otherwise, so the JSON is always valid
// UTF-8 and the table cannot carry terminal escapes.
// Thread-safety: pure functions.
#pragma once

#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace floodgate::admin {

// `lines`: event lines oldest first ("2026-12-01T19:41:03Z event=... ..."); those older
// than now - since_s, newer than now or unreadable are left out (the unreadable counted).
// The result has no "locked_now": Admin::Report adds what the store holds. The store
// keeps the newest `kept` events: when there are that many and the oldest is inside the
// period, "oldest_event" says from when the report knows anything.
nlohmann::json BuildReport(const std::vector<std::string>& lines, std::time_t now,
                           std::int64_t since_s, std::size_t kept = 1000);

// A value from the store as the report shows it: as is when printable ASCII, else
// LogValue-escaped.
std::string ReportValue(const std::string& value);

// The report (with "locked_now", and "held" when Admin::Report added it) as text: a table
// of subjects, then the locks, the clients, the holds, then what is locked now.
std::string ReportText(const nlohmann::json& report);

}  // namespace floodgate::admin
