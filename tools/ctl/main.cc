// floodgatectl: the admin tool. Inspects, locks, unlocks and resets subjects in the store
// a floodgate.toml names, lists and digests recent events (report, also as a mail to the
// admin), and holds/releases/deletes a subject's messages still in the Postfix queue.
// With the Redis store it works on Redis itself;
// with the memory store it asks the running daemon through store.admin_socket, which
// performs the same operations on its own counts. Human-readable tables by default,
// --json for scripts. Exit codes: 0 ok, 1 failure (store or daemon unreachable,
// postsuper failed), 2 usage.
#include <fmt/format.h>
#include <syslog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <set>

#include "admin/admin.h"
#include "admin/admin_server.h"
#include "admin/redis_admin_backend.h"
#include "admin/report.h"
#include "admin/request.h"
#include "admin/window_view.h"
#include "milter/alert_command.h"
#include "milter/alert_mailer.h"
#include "policy/alert_mail.h"
#include "policy/config_loader.h"
#include "policy/duration.h"
#include "store/redis_store.h"
#include "tools/ctl/queue.h"

namespace {

using floodgate::admin::Json;

// A lock or unlock made from here, told like the daemon tells its own: syslog (ident
// floodgate, facility mail), the admin's alert_command and alert mail.
void Notify(const floodgate::policy::Config& config, const floodgate::policy::Alert& alert) {
  const std::string line = floodgate::policy::FormatAlert(alert);
  openlog("floodgate", LOG_PID, LOG_MAIL);
  syslog(LOG_WARNING, "%s", line.c_str());
  closelog();
  floodgate::milter::ChildRunner runner;
  if (!config.alerts.alert_command.empty()) {
    runner.Submit(floodgate::milter::AlertCommandJob(config.alerts.alert_command, alert));
  }
  floodgate::milter::AlertMailer mailer(config.source.starts_with("(") ? "" : config.source);
  if (auto mail = mailer.Mail(config, alert)) runner.Submit(std::move(*mail));
  runner.Drain();  // a short-lived tool: let the notifications finish before exiting
}

// Runs the request where the counts are: on Redis here, or in the daemon (memory store).
floodgate::Result<Json> Run(const floodgate::policy::Config& config,
                            const floodgate::admin::Request& request) {
  if (config.store.backend != floodgate::policy::Backend::kRedis) {
    if (config.store.admin_socket.empty()) {
      return floodgate::Error(floodgate::ErrorKind::kInvalid,
                              "store.backend is \"memory\" and store.admin_socket is \"\": "
                              "the counts live inside the floodgate process and nothing "
                              "reaches them; set store.admin_socket and restart floodgate");
    }
    return floodgate::admin::CallAdminSocket(config.store.admin_socket,
                                             floodgate::admin::ToJson(request));
  }
  auto redis = floodgate::store::RedisStore::Open(config.store.url, 5000, config.store.key_prefix);
  if (!redis.ok()) return redis.error();
  floodgate::admin::RedisAdminBackend backend(**redis, config.store.url);
  floodgate::admin::Admin admin(
      config, backend, [&config](const floodgate::policy::Alert& a) { Notify(config, a); });
  return floodgate::admin::Perform(admin, request);
}

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "floodgatectl: %s\n", message.c_str());
  return code;
}

std::string Secs(const Json& j) {
  return j.is_number() ? floodgate::admin::HumanDuration(
                             static_cast<floodgate::Micros>(j.get<double>() * 1'000'000))
                       : "never";
}

void PrintShow(const Json& j) {
  fmt::print("{}\n", j["subject"].get<std::string>());
  const Json& lock = j["lock"];
  if (lock["locked"].get<bool>()) {
    fmt::print("  LOCKED  reason={}  expires in {}\n", lock["reason"].get<std::string>(),
               Secs(lock["expires_in_s"]));
  } else {
    fmt::print("  not locked\n");
  }
  // USUAL is an adaptive window's learned usual peak per period, ALLOWS the amount that
  // lets the subject send now (the rate's own when the window does not adapt).
  fmt::print("  {:<20} {:<10} {:>12} {:>6} {:>14} {:>12} {:>8} {:>8} {:>7}  {}\n", "LIMIT",
             "WINDOW", "USED", "OVER", "NEXT UNIT IN", "IDLE IN", "REFUSED", "USUAL", "ALLOWS",
             "TRAFFIC");
  for (const Json& l : j["limits"]) {
    std::string traffic = l.value("traffic", "");
    if (l.value("destinations", "any") == "external") traffic += " (external recipients)";
    for (const Json& w : l["windows"]) {
      const bool adaptive = w.value("adaptive", false);
      fmt::print("  {:<20} {:<10} {:>12} {:>6} {:>14} {:>12} {:>8} {:>8} {:>7}  {}\n",
                 l["limit"].get<std::string>(), w["rate"].get<std::string>(),
                 fmt::format("{}/{}", w["used"].get<long>(), w["capacity"].get<long>()),
                 w["over"].get<bool>() ? "yes" : "no", Secs(w["frees_in_s"]), Secs(w["idle_in_s"]),
                 w["refused"].get<long>(),
                 adaptive ? fmt::format("{:.1f}", w.value("usual_peak", 0.0)) : "-",
                 w.value("amount", 0L), traffic);
    }
    if (l.contains("recipient_domains")) {
      const Json& d = l["recipient_domains"];
      fmt::print("  {:<20} recipient domains: {} in the last {} (locks above {})\n",
                 l["limit"].get<std::string>(), d["seen"].get<long>(),
                 d["window"].get<std::string>(), d["max"].get<long>());
    }
  }
}

void PrintTop(const Json& rows) {
  fmt::print("{:<45} {:<20} {:<10} {:>12} {:>6} {:>8}  {}\n", "SUBJECT", "LIMIT", "WINDOW", "USED",
             "FILL", "REFUSED", "TRAFFIC");
  for (const Json& r : rows) {
    if (r.value("locked", false)) {
      fmt::print("{:<45} {:<20} LOCKED\n", r["subject"].get<std::string>(), "");
      continue;
    }
    fmt::print("{:<45} {:<20} {:<10} {:>12} {:>5.0f}% {:>8}  {}\n", r["subject"].get<std::string>(),
               r["limit"].get<std::string>(), r.value("window", ""),
               fmt::format("{}/{}", r.value("used", 0L), r.value("capacity", 0L)),
               r["fill"].get<double>() * 100, r.value("refused", 0L), r.value("traffic", ""));
  }
}

void PrintStatus(const Json& j) {
  fmt::print("store:  {} ({})\n", j["store"].get<std::string>(), j["url"].get<std::string>());
  fmt::print("keys:   {} under prefix {}, {} lock(s) active, {} limit(s) configured\n",
             j["keys"].get<long>(), j["key_prefix"].get<std::string>(),
             j["locks_active"].get<long>(), j["limits"].get<long>());
}

void PrintLock(const Json& j) {
  fmt::print("{} locked (reason={}), {}\n", j.value("subject", std::string("subject")),
             j.value("reason", std::string()),
             j["expires_in_s"].is_number() ? "expires in " + Secs(j["expires_in_s"])
                                           : std::string("until unlocked"));
}

void PrintUnlock(const Json& j) {
  fmt::print("{} {}\n", j["subject"].get<std::string>(),
             j["was_locked"].get<bool>()
                 ? "unlocked; the networks and refusals that locked it are forgotten"
                 : "was not locked; its networks and refusals are forgotten anyway");
}

void PrintReset(const Json& j) {
  fmt::print("{}: counts forgotten ({} limit key(s) held some)\n", j["subject"].get<std::string>(),
             j["deleted"].get<long>());
}

// Says for each subject's recorded holds how many are still in this host's hold queue
// (postqueue -j); when postqueue fails, the report says so instead.
void AddHeldNow(Json& report, const std::string& postfix_config) {
  if (!report.contains("held") || report["held"].empty()) return;
  std::vector<std::string> ids;
  for (const Json& h : report["held"]) {
    for (const Json& id : h["queue_ids"]) ids.push_back(id.get<std::string>());
  }
  auto queued = floodgate::ctl::FindQueued(ids, postfix_config);
  if (!queued.ok()) {
    report["held_now_error"] = queued.error().message();
    return;
  }
  std::set<std::string> on_hold;
  for (const auto& m : *queued) {
    if (m.queue_name == "hold") on_hold.insert(m.queue_id);
  }
  for (Json& h : report["held"]) {
    Json now = Json::array();
    for (const Json& id : h["queue_ids"]) {
      if (on_hold.count(id.get<std::string>()) != 0) now.push_back(id);
    }
    h["held_now"] = now.size();
    h["held_now_ids"] = now;
  }
}

// Mails the report to alerts.mail_to through sendmail_path, as the daemon's alert mails
// go; 0 when sendmail took it.
int MailReport(const floodgate::policy::Config& config, const Json& report) {
  const floodgate::policy::AlertsConfig& alerts = config.alerts;
  if (alerts.mail_to.empty()) {
    return Fail("--mail: alerts.mail_to in " + config.source + " names nobody to mail", 2);
  }
  floodgate::policy::MailEnvelope envelope;
  envelope.mail_from = alerts.mail_from;
  envelope.mail_to = alerts.mail_to;
  envelope.host = floodgate::milter::HostName();
  envelope.time = std::time(nullptr);
  envelope.message_id = fmt::format("{}.{}.report.floodgate", envelope.time, getpid());
  int locks = 0;
  for (const Json& s : report["subjects"]) locks += static_cast<int>(s["locks"].size());
  const std::string subject =
      fmt::format("[floodgate] report for {}: {} subject(s) over limits, {} lock(s), {} locked now",
                  envelope.host, report["subjects"].size(), locks, report["locked_now"].size());
  floodgate::milter::ChildJob job = floodgate::milter::SendmailJob(
      alerts, floodgate::policy::BuildPlainMail(envelope, "report", subject,
                                                floodgate::admin::ReportText(report)));
  int status = -1;
  job.done = [&status](int s) { status = s; };
  {
    floodgate::milter::ChildRunner runner;
    runner.Submit(std::move(job));
    runner.Drain();
  }
  if (status != 0) return Fail(floodgate::milter::SendmailFailure(alerts, status));
  std::string to;
  for (const std::string& a : alerts.mail_to) to += (to.empty() ? "" : ", ") + a;
  fmt::print("report mailed to {}\n", to);
  return 0;
}

void Print(const Json& j, bool json, void (*human)(const Json&)) {
  if (json || !human) {
    // Logins and addresses are bytes from the network, not always UTF-8: replaced, never
    // thrown on.
    std::cout << j.dump(json ? 2 : -1, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    human(j);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floodgatectl - inspect and clean up after floodgate"};
  app.require_subcommand(1);
  // --json and -c are accepted after the subcommand too (`show SUBJECT --json`); the
  // subcommands inherit this when they are added, so it comes first.
  app.fallthrough();
  std::string config_path = "/etc/floodgate/floodgate.toml";
  bool json = false;
  std::string subject_text, reason, postfix_config, ttl_text;
  int count = 20;
  app.add_option("-c,--config", config_path, "floodgate configuration file")->capture_default_str();
  app.add_flag("--json", json, "machine-readable output");
  auto* status = app.add_subcommand("status", "store reachability, keys and active locks");
  auto* show = app.add_subcommand("show", "every window's level and the lock state of a subject");
  auto* top = app.add_subcommand("top", "subjects nearest to or over their limits");
  auto* lock = app.add_subcommand("lock", "lock a subject's sending");
  auto* unlock = app.add_subcommand("unlock", "unlock a subject");
  auto* reset = app.add_subcommand("reset", "forget a subject's counts");
  auto* events = app.add_subcommand("events", "recent events (newest last)");
  auto* queue = app.add_subcommand("queue", "the subject's messages still in the Postfix queue");
  auto* held = app.add_subcommand("held", "messages floodgate put on hold, by subject");
  auto* report =
      app.add_subcommand("report", "what happened lately, per subject, and what is locked now");
  std::string since_text = "24h";
  bool mail = false;
  report->add_option("--since", since_text, "the period, back from now (30m, 24h, 7d)")
      ->capture_default_str();
  report->add_flag("--mail", mail, "mail the report to alerts.mail_to instead of printing it");
  report->add_option("--postfix-config", postfix_config,
                     "Postfix config directory (postqueue -c), to count what is still held");
  for (auto* sc : {show, lock, unlock, reset, queue}) {
    sc->add_option("SUBJECT", subject_text, "e.g. account:alice@example.org, ip:203.0.113.9")
        ->required();
  }
  top->add_option("-n,--count", count, "rows")->capture_default_str();
  events->add_option("-n,--count", count, "events")->capture_default_str();
  lock->add_option("--ttl", ttl_text, "lock duration (30m, 1h, 7d); default: until unlocked");
  lock->add_option("--reason", reason, "why (shown by show and in the log)");
  bool hold = false, release = false, del = false;
  auto* hold_flag = queue->add_flag("--hold", hold, "put the messages on hold");
  auto* release_flag = queue->add_flag("--release", release, "release held messages");
  auto* delete_flag = queue->add_flag("--delete", del, "delete the messages");
  hold_flag->excludes(release_flag)->excludes(delete_flag);
  release_flag->excludes(delete_flag);
  for (auto* sc : {queue, held}) {
    sc->add_option("--postfix-config", postfix_config, "Postfix config directory (postqueue -c)");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; every usage error exits 2, as documented (CLI11's own codes vary).
    return app.exit(e) == 0 ? 0 : 2;
  }

  // Like the daemon: no config file at all means the built-in defaults (memory store,
  // admin socket /run/floodgate/admin.sock), so floodgatectl reaches a floodgate started
  // without -c. A file named with -c must exist.
  const bool defaults = app.count("--config") == 0 && access(config_path.c_str(), F_OK) != 0;
  auto config =
      defaults ? floodgate::Result<floodgate::policy::Config>(floodgate::policy::DefaultConfig())
               : floodgate::policy::LoadConfig(config_path);
  if (!config.ok()) return Fail(config.error().message(), 2);

  floodgate::admin::Request request;
  request.count = count;
  request.reason = reason;
  if (!subject_text.empty()) {
    // Checked here too, for a usage error (2) before anything is asked of the store.
    auto s = floodgate::policy::ParseSubject(subject_text);
    if (!s.ok()) return Fail(s.error().message(), 2);
    request.subject = s->ToString();
  }
  if (*lock && !ttl_text.empty()) {
    auto d = floodgate::policy::ParseDuration(ttl_text);
    if (!d) return Fail("--ttl: not a duration: " + ttl_text, 2);
    request.ttl_s = *d;
  }
  if (*report) {
    auto d = floodgate::policy::ParseDuration(since_text);
    if (!d) return Fail("--since: not a duration: " + since_text, 2);
    request.since_s = *d;
  }
  void (*human)(const Json&) = nullptr;
  if (*status) {
    request.op = "status";
    human = PrintStatus;
  } else if (*show) {
    request.op = "show";
    human = PrintShow;
  } else if (*top) {
    request.op = "top";
    human = PrintTop;
  } else if (*lock) {
    request.op = "lock";
    human = PrintLock;
  } else if (*unlock) {
    request.op = "unlock";
    human = PrintUnlock;
  } else if (*reset) {
    request.op = "reset";
    human = PrintReset;
  } else if (*events) {
    request.op = "events";
    human = [](const Json& lines) {
      for (const Json& l : lines) fmt::print("{}\n", l.get<std::string>());
    };
  } else if (*queue) {
    request.op = "queue-ids";
  } else if (*held) {
    request.op = "held";
  } else if (*report) {
    request.op = "report";
    human = [](const Json& r) { fmt::print("{}", floodgate::admin::ReportText(r)); };
  }
  floodgate::Result<Json> result = Run(*config, request);
  if (result.ok() && *held) {
    // Only what Postfix still holds: released or deleted messages have left the hold queue.
    Json j = Json::array();
    for (const auto& [subject, recorded] : result->items()) {
      std::vector<std::string> ids;
      for (const Json& id : recorded) ids.push_back(id.get<std::string>());
      auto queued = floodgate::ctl::FindQueued(ids, postfix_config);
      if (!queued.ok()) return Fail(queued.error().message());
      Json messages = Json::array();
      for (const auto& m : *queued) {
        if (m.queue_name != "hold") continue;
        messages.push_back(
            {{"queue_id", m.queue_id}, {"sender", m.sender}, {"recipients", m.recipients}});
      }
      if (!messages.empty()) j.push_back({{"subject", subject}, {"messages", messages}});
    }
    result = j;
    human = [](const Json& rows) {
      if (rows.empty()) fmt::print("no messages on hold by floodgate\n");
      for (const Json& r : rows) {
        fmt::print("{}: {} message(s) on hold\n", r["subject"].get<std::string>(),
                   r["messages"].size());
        for (const Json& m : r["messages"]) {
          fmt::print("  {:<14} {:>4} rcpt  {}\n", m["queue_id"].get<std::string>(),
                     m["recipients"].get<std::size_t>(), m["sender"].get<std::string>());
        }
      }
    };
  }
  if (result.ok() && *queue) {
    std::vector<std::string> ids;
    for (const Json& id : *result) ids.push_back(id.get<std::string>());
    auto queued = floodgate::ctl::FindQueued(ids, postfix_config);
    if (!queued.ok()) return Fail(queued.error().message());
    Json j = {{"subject", request.subject}, {"recorded", ids.size()}, {"messages", Json::array()}};
    std::vector<std::string> found;
    for (const auto& m : *queued) {
      found.push_back(m.queue_id);
      j["messages"].push_back({{"queue_id", m.queue_id},
                               {"queue", m.queue_name},
                               {"sender", m.sender},
                               {"recipients", m.recipients}});
    }
    if (hold || release || del) {
      auto n = floodgate::ctl::Postsuper(hold ? 'h' : release ? 'H' : 'd', found, postfix_config);
      if (!n.ok()) return Fail(n.error().message());
      j["action"] = hold ? "hold" : release ? "release" : "delete";
      j["acted_on"] = *n;
      if (release || del) {
        // Those holds are over: they no longer count towards the subject's hold_max.
        floodgate::admin::Request forget = request;
        forget.op = "held-forget";
        auto forgotten = Run(*config, forget);
        if (!forgotten.ok()) return Fail(forgotten.error().message());
      }
    }
    result = j;
    human = [](const Json& q) {
      fmt::print("{}: {} message(s) in the queue ({} recorded)\n", q["subject"].get<std::string>(),
                 q["messages"].size(), q["recorded"].get<std::size_t>());
      for (const Json& m : q["messages"]) {
        fmt::print("  {:<14} {:<9} {:>4} rcpt  {}\n", m["queue_id"].get<std::string>(),
                   m["queue"].get<std::string>(), m["recipients"].get<std::size_t>(),
                   m["sender"].get<std::string>());
      }
      if (q.contains("action")) {
        fmt::print("{}: {} message(s)\n", q["action"].get<std::string>(),
                   q["acted_on"].get<std::size_t>());
      }
    };
  }
  if (!result.ok()) return Fail(result.error().message());
  if (*report) AddHeldNow(*result, postfix_config);
  if (*report && mail) return MailReport(*config, *result);
  Print(*result, json, human);
  return 0;
}
