#include "tools/simulate/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

namespace floodgate::simulate {
namespace {

constexpr int kLabelWidth = 40;
constexpr int kColumnWidth = 22;

std::string Share(std::int64_t part, std::int64_t whole) {
  if (whole == 0) return fmt::format("{}", part);
  return fmt::format("{} ({:.3f}%)", part,
                     100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

class Table {
 public:
  explicit Table(const std::vector<RunResult>& runs) : runs_(runs) {}

  void Header(std::string* out) const {
    std::vector<std::string> names;
    for (const RunResult& r : runs_) names.push_back(r.variant);
    Line(out, "", names);
  }
  void Row(std::string* out, const std::string& label,
           const std::function<std::string(const RunResult&)>& cell) const {
    std::vector<std::string> cells;
    for (const RunResult& r : runs_) cells.push_back(cell(r));
    Line(out, label, cells);
  }

 private:
  static void Line(std::string* out, const std::string& label,
                   const std::vector<std::string>& cells) {
    std::string line = fmt::format("{:<{}}", label, kLabelWidth);
    for (const std::string& c : cells) line += fmt::format("{:<{}}", c, kColumnWidth);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    *out += line + "\n";
  }
  const std::vector<RunResult>& runs_;
};

struct Spread {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};

Spread UsualDays(const Scenario& s) {
  std::vector<double> v;
  for (const Account& a : s.accounts()) v.push_back(a.usual_day);
  Spread sp;
  if (v.empty()) return sp;
  std::sort(v.begin(), v.end());
  double total = 0;
  for (double x : v) total += x;
  const auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  sp.mean = total / static_cast<double>(v.size());
  sp.p50 = at(0.5);
  sp.p90 = at(0.9);
  sp.p99 = at(0.99);
  sp.max = v.back();
  return sp;
}

std::string Lock(const HijackResult& h) {
  return h.time_to_lock ? FormatSpan(*h.time_to_lock) : "not locked";
}

}  // namespace

std::string TextReport(const ReportInput& in) {
  const Workload& w = in.scenario->workload();
  const Spread usual = UsualDays(*in.scenario);
  std::string out;
  out += fmt::format("workload {}: {} accounts, {} days, seed {}; config {}\n", w.source,
                     w.population.accounts, w.days, w.seed, in.config_path);
  out += fmt::format(
      "usual day (messages on a weekday): {}; drawn mean {:.1f}, median {:.1f}, p90 {:.1f}, "
      "p99 {:.1f}, max {:.1f}\n",
      w.population.daily_messages.Describe(), usual.mean, usual.p50, usual.p90, usual.p99,
      usual.max);
  out +=
      fmt::format("legitimate refusals are final{}\n",
                  w.retry.attempts > 0 ? fmt::format(" after {} retries, {} apart (tempfail only)",
                                                     w.retry.attempts, FormatSpan(w.retry.delay_us))
                                       : " (no retries)");
  for (const std::string& n : in.notes) out += "note: " + n + "\n";
  out += "\n";

  const Table t(in.runs);
  t.Header(&out);
  t.Row(&out, "legitimate messages", [](auto& r) { return fmt::format("{}", r.legit.messages); });
  t.Row(&out, "legitimate recipients",
        [](auto& r) { return fmt::format("{}", r.legit.recipients); });
  t.Row(&out, "  of them in bursts",
        [](auto& r) { return fmt::format("{}", r.legit.burst_recipients); });
  t.Row(&out, "recipients refused",
        [](auto& r) { return Share(r.legit.refused(), r.legit.recipients); });
  t.Row(&out, "  tempfail / reject", [](auto& r) {
    return fmt::format("{} / {}", r.legit.refused_tempfail, r.legit.refused_reject);
  });
  t.Row(&out, "  in bursts",
        [](auto& r) { return Share(r.legit.burst_refused, r.legit.burst_recipients); });
  t.Row(&out, "messages with a refused recipient",
        [](auto& r) { return Share(r.legit.messages_refused, r.legit.messages); });
  t.Row(&out, "accounts with a refusal",
        [](auto& r) { return fmt::format("{}", r.accounts_refused); });
  t.Row(&out, "accounts locked by their own mail",
        [](auto& r) { return fmt::format("{}", r.legit_locks.size()); });
  t.Row(&out, "recipients held", [](auto& r) { return fmt::format("{}", r.legit.held); });
  if (w.retry.attempts > 0) {
    t.Row(&out, "retried / refused again",
          [](auto& r) { return fmt::format("{} / {}", r.legit.retries, r.legit.retries_refused); });
    t.Row(&out, "undelivered after the last attempt",
          [](auto& r) { return Share(r.legit.undelivered, r.legit.recipients); });
  }

  for (std::size_t i = 0; i < w.hijacks.size(); ++i) {
    const HijackResult& first = in.runs.front().hijacks[i];
    out += fmt::format("\nhijack {}: {}; victim {} (usual day {:.1f}), from {}\n", first.name,
                       first.profile, first.login, first.usual_day, FormatSimTime(first.start));
    const auto h = [i](const RunResult& r) -> const HijackResult& { return r.hijacks[i]; };
    t.Row(&out, "  spam recipients (messages) sent",
          [&](auto& r) { return fmt::format("{} ({})", h(r).recipients, h(r).messages); });
    t.Row(&out, "  escaped before the lock: rcpt (msgs)", [&](auto& r) {
      return fmt::format("{} ({})", h(r).escaped_recipients, h(r).escaped_messages);
    });
    t.Row(&out, "  escaped in all: rcpt (msgs)", [&](auto& r) {
      return fmt::format("{} ({})", h(r).escaped_recipients_total, h(r).escaped_messages_total);
    });
    t.Row(&out, "  held", [&](auto& r) { return fmt::format("{}", h(r).held_recipients); });
    t.Row(&out, "  time to lock", [&](auto& r) { return Lock(h(r)); });
    t.Row(&out, "  lock reason", [&](auto& r) {
      return h(r).time_to_lock ? h(r).lock_reason + (h(r).lock_subject.rfind("account:", 0) == 0
                                                         ? ""
                                                         : " (" + h(r).lock_subject + ")")
                               : "-";
    });
    t.Row(&out, "  victim's own recipients refused", [&](auto& r) {
      return fmt::format("{} of {}", h(r).collateral_refused, h(r).collateral_recipients);
    });
  }

  out += "\nmost refused accounts (recipients refused / written, usual day):\n";
  for (const RunResult& r : in.runs) {
    out += fmt::format("  {}:", r.variant);
    if (r.top_refused.empty()) out += " none";
    for (const AccountRefusals& a : r.top_refused) {
      out += fmt::format(" {} {}/{} ({:.1f});", a.login, a.refused, a.recipients, a.usual_day);
    }
    if (out.back() == ';') out.pop_back();
    out += "\n";
  }
  // The first few locks of legitimate accounts per variant (--json has them all).
  constexpr std::size_t kLocksShown = 3;
  for (const RunResult& r : in.runs) {
    for (std::size_t i = 0; i < r.legit_locks.size() && i < kLocksShown; ++i) {
      const LegitLock& l = r.legit_locks[i];
      out += fmt::format("  {}: {} (usual day {:.1f}) locked by its own mail at {}: {}\n",
                         r.variant, l.login, l.usual_day, FormatSimTime(l.at), l.reason);
    }
    if (r.legit_locks.size() > kLocksShown) {
      out += fmt::format("  {}: and {} more accounts locked by their own mail\n", r.variant,
                         r.legit_locks.size() - kLocksShown);
    }
  }

  const auto per_subject = [](std::size_t bytes, std::size_t subjects) {
    return subjects == 0
               ? std::string("-")
               : fmt::format("{:.0f}", static_cast<double>(bytes) / static_cast<double>(subjects));
  };
  const auto sample_rows = [&](const StoreSample& (*pick)(const RunResult&)) {
    t.Row(&out, "  at", [&](auto& r) { return FormatSimTime(pick(r).at).substr(0, 18); });
    t.Row(&out, "  limit keys / net sets / domain sets", [&](auto& r) {
      return fmt::format("{} / {} / {}", pick(r).limit_keys, pick(r).network_sets,
                         pick(r).domain_sets);
    });
    t.Row(&out, "  lists / locks",
          [&](auto& r) { return fmt::format("{} / {}", pick(r).lists, pick(r).locks); });
    t.Row(&out, "  subjects with a key",
          [&](auto& r) { return fmt::format("{}", pick(r).subjects); });
    t.Row(&out, "  snapshot bytes per subject",
          [&](auto& r) { return per_subject(pick(r).snapshot_bytes, pick(r).subjects); });
  };
  out += "\nembedded store at its fullest hour\n";
  sample_rows([](const RunResult& r) -> const StoreSample& { return r.store.peak; });
  out += "embedded store at the end\n";
  sample_rows([](const RunResult& r) -> const StoreSample& { return r.store.end; });
  t.Row(&out, "  RSS bytes per subject", [&](auto& r) {
    return r.store.rss_bytes
               ? per_subject(static_cast<std::size_t>(std::max(0L, *r.store.rss_bytes)),
                             r.store.end.subjects)
               : std::string("-");
  });
  t.Row(&out, "  keys evicted (max_subjects)",
        [](auto& r) { return fmt::format("{}", r.store.evicted); });
  t.Row(&out, "store checks / real seconds",
        [](auto& r) { return fmt::format("{} / {:.1f}", r.checks, r.seconds); });
  return out;
}

std::string JsonReport(const ReportInput& in) {
  using nlohmann::json;
  const Workload& w = in.scenario->workload();
  const Spread usual = UsualDays(*in.scenario);
  json j;
  j["workload"] = w.source;
  j["config"] = in.config_path;
  j["accounts"] = w.population.accounts;
  j["days"] = w.days;
  j["seed"] = w.seed;
  j["retry_attempts"] = w.retry.attempts;
  j["usual_day"] = {{"mean", usual.mean},
                    {"p50", usual.p50},
                    {"p90", usual.p90},
                    {"p99", usual.p99},
                    {"max", usual.max}};
  j["notes"] = in.notes;
  j["variants"] = json::array();
  for (const RunResult& r : in.runs) {
    const LegitTally& l = r.legit;
    json v;
    v["name"] = r.variant;
    v["legit"] = {{"messages", l.messages},
                  {"recipients", l.recipients},
                  {"burst_messages", l.burst_messages},
                  {"burst_recipients", l.burst_recipients},
                  {"refused", l.refused()},
                  {"refused_tempfail", l.refused_tempfail},
                  {"refused_reject", l.refused_reject},
                  {"burst_refused", l.burst_refused},
                  {"messages_refused", l.messages_refused},
                  {"held", l.held},
                  {"retries", l.retries},
                  {"retries_refused", l.retries_refused},
                  {"undelivered", l.undelivered},
                  {"accounts_refused", r.accounts_refused},
                  {"accounts_locked", r.legit_locks.size()}};
    v["top_refused"] = json::array();
    for (const AccountRefusals& a : r.top_refused) {
      v["top_refused"].push_back({{"login", a.login},
                                  {"usual_day", a.usual_day},
                                  {"refused", a.refused},
                                  {"recipients", a.recipients}});
    }
    v["legit_locks"] = json::array();
    for (const LegitLock& k : r.legit_locks) {
      v["legit_locks"].push_back({{"login", k.login},
                                  {"usual_day", k.usual_day},
                                  {"at_s", k.at / kSecondUs},
                                  {"reason", k.reason}});
    }
    v["hijacks"] = json::array();
    for (const HijackResult& h : r.hijacks) {
      json hj = {{"name", h.name},
                 {"profile", h.profile},
                 {"login", h.login},
                 {"usual_day", h.usual_day},
                 {"start_s", h.start / kSecondUs},
                 {"messages", h.messages},
                 {"recipients", h.recipients},
                 {"escaped_recipients", h.escaped_recipients},
                 {"escaped_messages", h.escaped_messages},
                 {"escaped_recipients_total", h.escaped_recipients_total},
                 {"escaped_messages_total", h.escaped_messages_total},
                 {"held_recipients", h.held_recipients},
                 {"locked", h.time_to_lock.has_value()},
                 {"time_to_lock_s", nullptr},
                 {"lock_reason", h.lock_reason},
                 {"lock_subject", h.lock_subject},
                 {"collateral_recipients", h.collateral_recipients},
                 {"collateral_refused", h.collateral_refused}};
      if (h.time_to_lock) hj["time_to_lock_s"] = static_cast<double>(*h.time_to_lock) / 1e6;
      v["hijacks"].push_back(hj);
    }
    const auto sample = [](const StoreSample& x) {
      return json{
          {"at_s", x.at / kSecondUs},       {"limit_keys", x.limit_keys},        {"locks", x.locks},
          {"network_sets", x.network_sets}, {"domain_sets", x.domain_sets},      {"lists", x.lists},
          {"subjects", x.subjects},         {"snapshot_bytes", x.snapshot_bytes}};
    };
    v["store"] = {{"peak", sample(r.store.peak)},
                  {"end", sample(r.store.end)},
                  {"evicted", r.store.evicted},
                  {"rss_bytes", nullptr}};
    if (r.store.rss_bytes) v["store"]["rss_bytes"] = *r.store.rss_bytes;
    v["checks"] = r.checks;
    v["seconds"] = r.seconds;
    j["variants"].push_back(v);
  }
  return j.dump() + "\n";
}

}  // namespace floodgate::simulate
