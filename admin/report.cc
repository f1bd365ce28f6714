#include "admin/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "admin/window_view.h"
#include "policy/alert_line.h"
#include "policy/escape.h"

namespace floodgate::admin {
namespace {

using Json = nlohmann::json;

std::int64_t Number(const std::string& v) {
  std::int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || n > (INT64_MAX - 9) / 10) return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

struct SubjectDigest {
  // (limit, window) -> the limit_exceeded entry, its "times" counted up.
  std::map<std::pair<std::string, std::string>, Json> hits;
  std::int64_t refused = 0;
  Json locks = Json::array();
  Json unlocks = Json::array();
  std::vector<std::string> clients;  // distinct, in order seen, at most kMaxClients
};

constexpr std::size_t kMaxClients = 10;

void SeeClient(SubjectDigest& d, const std::string& client) {
  if (client.empty() || d.clients.size() >= kMaxClients ||
      std::find(d.clients.begin(), d.clients.end(), client) != d.clients.end()) {
    return;
  }
  d.clients.push_back(client);
}

std::string Clock(const std::string& stamp) {
  // "2026-12-01T19:41:03Z" -> "12-01 19:41"
  return stamp.size() == 20 ? stamp.substr(5, 5) + " " + stamp.substr(11, 5) : stamp;
}

std::string Cut(const std::string& s, std::size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 3) + "...";
}

}  // namespace

std::string ReportValue(const std::string& v) {
  const bool plain =
      std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
  return plain ? v : policy::LogValue(v);
}

Json BuildReport(const std::vector<std::string>& lines, std::time_t now, std::int64_t since_s,
                 std::size_t kept) {
  const std::time_t from = now - static_cast<std::time_t>(since_s);
  std::map<std::string, SubjectDigest> subjects;
  std::map<std::string, int> counts;
  int unreadable = 0, events = 0;
  std::optional<std::time_t> oldest;
  Json store = {{"down", 0}, {"up", 0}, {"errors", Json::array()}};
  Json config = {{"reloaded", 0}, {"rejected", 0}};
  for (const std::string& line : lines) {
    const std::optional<policy::AlertLine> e = policy::ParseAlertLine(line);
    if (!e) {
      ++unreadable;
      continue;
    }
    if (!oldest || e->time < *oldest) oldest = e->time;
    if (e->time < from || e->time > now) continue;
    ++events;
    const std::string& event = e->alert.event;
    ++counts[ReportValue(event)];
    const std::string at = policy::UtcStamp(e->time);
    const std::string subject = ReportValue(e->Field("subject"));
    if (event == "store_down") {
      store["down"] = store["down"].get<int>() + 1;
      if (store["errors"].size() < 10) {
        store["errors"].push_back({{"at", at}, {"error", ReportValue(e->Field("error"))}});
      }
    } else if (event == "store_up") {
      store["up"] = store["up"].get<int>() + 1;
    } else if (event == "config_reloaded") {
      config["reloaded"] = config["reloaded"].get<int>() + 1;
    } else if (event == "config_rejected") {
      config["rejected"] = config["rejected"].get<int>() + 1;
    }
    if (subject.empty()) continue;
    SubjectDigest& d = subjects[subject];
    SeeClient(d, ReportValue(e->Field("client")));
    if (event == "limit_exceeded") {
      const std::string limit = ReportValue(e->Field("limit")),
                        window = ReportValue(e->Field("window"));
      Json& hit = d.hits[{limit, window}];
      if (hit.is_null()) {
        hit = {{"limit", limit},
               {"window", window},
               {"count", Number(e->Field("count"))},
               {"action", ReportValue(e->Field("action"))},
               {"times", 0},
               {"first", at}};
        if (!e->Field("traffic").empty()) hit["traffic"] = ReportValue(e->Field("traffic"));
      }
      hit["times"] = hit["times"].get<int>() + 1;
      hit["last"] = at;
    } else if (event == "locked") {
      const std::int64_t refused = Number(e->Field("refused"));
      d.refused += refused;
      Json lock = {{"at", at},
                   {"reason", ReportValue(e->Field("reason"))},
                   {"by", e->Field("by").empty() ? "floodgate" : ReportValue(e->Field("by"))}};
      if (!e->Field("limit").empty()) lock["limit"] = ReportValue(e->Field("limit"));
      if (refused > 0) lock["refused"] = refused;
      if (!e->Field("ttl").empty()) lock["ttl"] = ReportValue(e->Field("ttl"));
      d.locks.push_back(lock);
    } else if (event == "unlocked") {
      d.unlocks.push_back(
          {{"at", at}, {"by", e->Field("by").empty() ? "floodgate" : ReportValue(e->Field("by"))}});
    }
  }
  Json rows = Json::array();
  for (auto& [name, d] : subjects) {
    Json row = {{"subject", name},  {"limits_hit", Json::array()}, {"units_refused", d.refused},
                {"locks", d.locks}, {"unlocks", d.unlocks},        {"clients", d.clients}};
    for (auto& [key, hit] : d.hits) row["limits_hit"].push_back(hit);
    rows.push_back(row);
  }
  // The worst first: locked, then most refused, then most limits hit.
  std::stable_sort(rows.begin(), rows.end(), [](const Json& a, const Json& b) {
    const auto key = [](const Json& r) {
      int hits = 0;
      for (const Json& h : r["limits_hit"]) hits += h["times"].get<int>();
      return std::make_tuple(r["locks"].size(), r["units_refused"].get<std::int64_t>(), hits);
    };
    return key(a) > key(b);
  });
  Json report = {{"since", policy::UtcStamp(from)},
                 {"until", policy::UtcStamp(now)},
                 {"since_s", since_s},
                 {"events", events},
                 {"unreadable_events", unreadable},
                 {"event_counts", counts},
                 {"subjects", rows},
                 {"store", store},
                 {"config", config}};
  if (lines.size() >= kept && oldest && *oldest > from) {
    report["oldest_event"] = policy::UtcStamp(*oldest);
  }
  return report;
}

std::string ReportText(const Json& r) {
  std::string out = fmt::format("floodgate report, {} to {}: {} event(s)\n\n", r.value("since", ""),
                                r.value("until", ""), r.value("events", 0));
  if (r.contains("oldest_event")) {
    out += fmt::format("The store keeps only its newest events: this covers {} on.\n\n",
                       r["oldest_event"].get<std::string>());
  }
  const Json& subjects = r["subjects"];
  if (subjects.empty()) {
    out += "No subject hit a limit or was locked.\n";
  } else {
    out += fmt::format("{:<40} {:<28} {:>8} {}\n", "SUBJECT", "LIMITS HIT", "REFUSED", "LOCKS");
    for (const Json& s : subjects) {
      std::string hits;
      for (const Json& h : s["limits_hit"]) {
        hits += fmt::format("{}{} {}/{} x{}", hits.empty() ? "" : ", ",
                            h["limit"].get<std::string>(), h["count"].get<std::int64_t>(),
                            h["window"].get<std::string>(), h["times"].get<int>());
      }
      std::string locks;
      for (const Json& l : s["locks"]) {
        locks += fmt::format("{}{} {}", locks.empty() ? "" : ", ", l["reason"].get<std::string>(),
                             Clock(l["at"].get<std::string>()));
      }
      const std::int64_t refused = s["units_refused"].get<std::int64_t>();
      out += fmt::format("{:<40} {:<28} {:>8} {}\n", Cut(s["subject"].get<std::string>(), 40),
                         hits.empty() ? "-" : hits, refused > 0 ? std::to_string(refused) : "-",
                         locks.empty() ? "-" : locks);
    }
    bool header = false;
    for (const Json& s : subjects) {
      for (const auto* list : {&s["locks"], &s["unlocks"]}) {
        for (const Json& l : *list) {
          if (!header) {
            out += "\nLocks and unlocks:\n";
            header = true;
          }
          const bool lock = list == &s["locks"];
          std::string detail = "by " + l["by"].get<std::string>();
          if (lock) {
            detail = "reason " + l["reason"].get<std::string>() + ", " + detail;
            if (l.contains("limit")) detail += ", limit " + l["limit"].get<std::string>();
            if (l.contains("refused")) {
              detail += fmt::format(", {} refused", l["refused"].get<std::int64_t>());
            }
          }
          out += fmt::format("  {}  {} {} ({})\n", l["at"].get<std::string>(),
                             s["subject"].get<std::string>(), lock ? "locked" : "unlocked", detail);
        }
      }
    }
  }
  bool clients_header = false;
  for (const Json& s : subjects) {
    if (s["clients"].empty()) continue;
    if (!clients_header) {
      out += "\nClients seen:\n";
      clients_header = true;
    }
    std::string clients;
    for (const Json& c : s["clients"]) {
      clients += (clients.empty() ? "" : ", ") + c.get<std::string>();
    }
    out += fmt::format("  {}: {}\n", s["subject"].get<std::string>(), clients);
  }
  const Json& store = r["store"];
  out += fmt::format(
      "\nStore: down {} time(s), back {} time(s). Config: reloaded {}, "
      "rejected {}.\n",
      store["down"].get<int>(), store["up"].get<int>(), r["config"]["reloaded"].get<int>(),
      r["config"]["rejected"].get<int>());
  if (r.value("unreadable_events", 0) > 0) {
    out += fmt::format("({} stored event line(s) could not be read.)\n",
                       r["unreadable_events"].get<int>());
  }
  if (r.contains("held") && !r["held"].empty()) {
    out += "\nPut on hold by floodgate (recorded queue ids, and how many are still held):\n";
    for (const Json& h : r["held"]) {
      out += fmt::format("  {:<40} recorded {}, {}\n", h["subject"].get<std::string>(),
                         h["recorded"].get<std::size_t>(),
                         h.contains("held_now") && h["held_now"].is_number()
                             ? fmt::format("held now {}", h["held_now"].get<std::size_t>())
                             : std::string("held now unknown"));
    }
    if (r.contains("held_now_error")) {
      out += "  (" + r["held_now_error"].get<std::string>() + ")\n";
    }
  }
  if (r.contains("locked_now")) {
    if (r["locked_now"].empty()) {
      out += "\nLocked now: nothing.\n";
    } else {
      out += "\nLocked now:\n";
      for (const Json& l : r["locked_now"]) {
        out += fmt::format("  {:<40} reason={}  {}\n", l["subject"].get<std::string>(),
                           l["reason"].get<std::string>(),
                           l["expires_in_s"].is_number()
                               ? "expires in " + HumanDuration(static_cast<Micros>(
                                                     l["expires_in_s"].get<double>() * 1e6))
                               : std::string("until unlocked"));
      }
    }
  }
  return out;
}

}  // namespace floodgate::admin
