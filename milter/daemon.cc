#include "milter/daemon.h"

#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "admin/admin_server.h"
#include "admin/memory_admin_backend.h"
#include "admin/request.h"
#include "milter/alert_command.h"
#include "milter/alert_log.h"
#include "milter/callbacks.h"
#include "milter/config_holder.h"
#include "milter/decider.h"
#include "milter/metrics_server.h"
#include "policy/config_loader.h"
#include "store/memory_store.h"
#include "store/state_dir.h"
#include "store/store_factory.h"

namespace floodgate::milter {
namespace {

Result<policy::Config> LoadOrDefault(const std::string& path) {
  if (path.empty()) return policy::DefaultConfig();
  return policy::LoadConfig(path);
}

Status DropPrivileges(const std::string& user) {
  if (user.empty() || geteuid() != 0) return OkStatus();
  const passwd* pw = getpwnam(user.c_str());
  if (!pw) return Error(ErrorKind::kInvalid, "milter.user '" + user + "' does not exist");
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
      setuid(pw->pw_uid) != 0) {
    return Error(ErrorKind::kInternal, "cannot switch to user '" + user + "'");
  }
  return OkStatus();
}

// Creates store.state_dir when it is missing, as root before privileges go, owned by
// milter.user so that floodgate can write it afterwards (systemd's StateDirectory= does the
// same for the packaged unit). Failures show when the directory is opened.
void PrepareStateDir(const std::string& dir, const std::string& user) {
  if (dir.empty() || ::mkdir(dir.c_str(), 0750) != 0) return;
  const passwd* pw = user.empty() || geteuid() != 0 ? nullptr : getpwnam(user.c_str());
  if (pw != nullptr && ::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) ::rmdir(dir.c_str());
}

// Waits for SIGUSR1 (blocked in every thread) and reloads the config. A config that does
// not load is refused and the running one stays. The store settings are read at start
// only: changing them needs a restart, which the reload says.
class Reloader {
 public:
  Reloader(std::string path, ConfigHolder& holder, AlertSink& alerts, Metrics& metrics)
      : path_(std::move(path)),
        holder_(holder),
        alerts_(alerts),
        metrics_(metrics),
        thread_([this] { Run(); }) {}
  ~Reloader() {
    stop_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

 private:
  void Run() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0 || stop_) return;
      Reload();
    }
  }
  void Reload() {
    if (path_.empty()) {
      metrics_.CountReload(false);
      alerts_.Emit(
          {"config_rejected", {{"reason", "running on built-in defaults: no file to reload"}}});
      return;
    }
    Result<policy::Config> next = policy::LoadConfig(path_);
    if (!next.ok()) {
      metrics_.CountReload(false);
      alerts_.Emit({"config_rejected", {{"file", path_}, {"error", next.error().message()}}});
      return;
    }
    const auto current = holder_.get();
    std::vector<std::pair<std::string, std::string>> fields = {
        {"file", path_}, {"limits", std::to_string(next->limits.size())}};
    if (next->store.backend != current->store.backend || next->store.url != current->store.url ||
        next->store.admin_socket != current->store.admin_socket ||
        next->store.state_dir != current->store.state_dir ||
        next->store.max_subjects != current->store.max_subjects ||
        next->milter.socket != current->milter.socket ||
        next->metrics_listen != current->metrics_listen) {
      fields.emplace_back("note", "store, socket and metrics changes take effect after a restart");
    }
    // Notices the running config already gave were logged then; only new ones are news.
    for (const std::string& notice : next->notices) {
      if (std::find(current->notices.begin(), current->notices.end(), notice) ==
          current->notices.end()) {
        alerts_.Info("config notice: " + notice);
      }
    }
    holder_.set(std::make_shared<const policy::Config>(std::move(next).value()));
    metrics_.CountReload(true);
    alerts_.Emit({"config_reloaded", fields});
  }

  std::string path_;
  ConfigHolder& holder_;
  AlertSink& alerts_;
  Metrics& metrics_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  Result<policy::Config> loaded = LoadOrDefault(options.config_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "floodgate: %s\n", loaded.error().message().c_str());
    return 78;  // EX_CONFIG
  }
  auto config = std::make_shared<const policy::Config>(std::move(loaded).value());
  SyslogAlertSink alerts(config->alerts.syslog_facility, options.log_stderr);
  if (options.config_path.empty()) {
    alerts.Info("no config file given (-c): running with built-in defaults (memory store, " +
                std::to_string(config->limits.size()) + " limit(s)); see floodgate -n");
  }
  for (const std::string& notice : config->notices) alerts.Info("config notice: " + notice);

  // Block the signals before any thread starts, so that every thread inherits the mask:
  // SIGUSR1 is ours (the reloader sigwaits it); SIGHUP, SIGTERM and SIGINT belong to
  // libmilter's signal thread, which sigwaits them and stops smfi_main gracefully. An
  // unblocked thread (the Redis I/O thread) would otherwise take SIGTERM and kill us.
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int sig : {SIGUSR1, SIGHUP, SIGTERM, SIGINT}) sigaddset(&blocked, sig);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);

  const std::string& socket = config->milter.socket;
  if (smfi_setconn(const_cast<char*>(socket.c_str())) == MI_FAILURE) {
    alerts.Error("cannot use milter socket " + socket);
    return 1;
  }
  smfi_settimeout(config->milter.timeout_s);
  smfiDesc desc = MakeFilterDescription();
  if (smfi_register(desc) == MI_FAILURE) {
    alerts.Error("smfi_register failed");
    return 1;
  }
  ConfigHolder holder(config);
  // The stores and the decider are created after the fork below (threads do not survive
  // fork); the callbacks see them through the context installed before smfi_main.
  SystemClock clock;
  std::unique_ptr<Decider> decider;
  std::unique_ptr<MilterContext> context;

  const mode_t old_umask = umask(static_cast<mode_t>(config->milter.umask));
  const int opened = smfi_opensocket(true);
  umask(old_umask);
  if (opened == MI_FAILURE) {
    alerts.Error("cannot open milter socket " + socket);
    return 1;
  }
  // The admin socket is bound as the user floodgate starts as (root: /run/floodgate is
  // root's), before privileges go; it serves once the memory store exists (below).
  std::unique_ptr<admin::AdminServer> admin_server;
  if (config->store.backend == policy::Backend::kMemory && !config->store.admin_socket.empty()) {
    Result<std::unique_ptr<admin::AdminServer>> bound =
        admin::AdminServer::Bind(config->store.admin_socket);
    if (bound.ok()) {
      admin_server = std::move(bound).value();
    } else {  // mail goes on; only floodgatectl cannot reach this daemon
      alerts.Error(bound.error().message() + "; floodgatectl cannot reach this floodgate");
    }
  }
  const bool keeps_state =
      config->store.backend == policy::Backend::kMemory && !config->store.state_dir.empty();
  if (keeps_state) PrepareStateDir(config->store.state_dir, config->milter.user);
  if (Status s = DropPrivileges(config->milter.user); !s.ok()) {
    alerts.Error(s.error().message());
    return 1;
  }
  if (!options.foreground && daemon(0, 0) != 0) {
    alerts.Error("cannot detach from the terminal");
    return 1;
  }

  // Warnings about the store's server (a Redis that may evict floodgate's keys) come from
  // its connection thread; `alerts` outlives the store.
  Result<std::unique_ptr<CounterStore>> primary = store::OpenStore(
      config->store, clock, [&alerts](const std::string& line) { alerts.Warning(line); });
  if (!primary.ok()) {
    alerts.Error("cannot open store: " + primary.error().message());
    return 1;
  }
  std::unique_ptr<CounterStore> fallback;
  if (config->store.backend != policy::Backend::kMemory) {
    // The in-process fallback: bounded like the embedded store, and never kept on disk
    // (Redis holds the truth; it resyncs when Redis is back).
    fallback = std::make_unique<store::MemoryStore>(
        clock, store::MemoryStore::Options{static_cast<std::size_t>(config->store.max_subjects)});
  }
  auto* memory = dynamic_cast<store::MemoryStore*>(primary->get());
  // Every event goes through one sink: syslog, then the admin's alert_command and alert
  // mail (if any).
  CommandAlertSink events(alerts, holder, options.config_path);
  decider =
      std::make_unique<Decider>(std::move(primary).value(), std::move(fallback), events, clock);

  // The embedded store's state, loaded before the first session and saved on SIGTERM.
  // Declared after the decider, which owns the store, so that it goes first.
  std::unique_ptr<store::StateDir> state;
  if (keeps_state && memory != nullptr) {
    store::StateDir::Options options;
    options.dir = config->store.state_dir;
    options.log = [&alerts](const std::string& line) { alerts.Error(line); };
    store::StateDir::Loaded loaded;
    Result<std::unique_ptr<store::StateDir>> opened =
        store::StateDir::Open(options, *memory, clock, &loaded);
    for (const std::string& problem : loaded.problems) alerts.Error(problem);
    if (opened.ok()) {
      alerts.Info(loaded.summary);
      state = std::move(opened).value();
      state->StartBackground();
    } else {  // mail goes on; only restarts lose what the store holds
      alerts.Error(opened.error().message() +
                   "; the memory store keeps its state in memory only: locks, counts and queue "
                   "ids will not survive a restart");
    }
  }
  context.reset(new MilterContext{holder, *decider, events});
  InstallContext(context.get());

  // After the fork (its thread would not survive it) and after dropping privileges (it
  // binds as milter.user: use a port above 1023). Declared after `context`, so it stops
  // before the context goes.
  decider->metrics().WatchSessions(&context->sessions_open);
  std::unique_ptr<MetricsServer> metrics_server;
  if (!config->metrics_listen.empty()) {
    Result<std::unique_ptr<MetricsServer>> started =
        MetricsServer::Start(config->metrics_listen, decider->metrics());
    if (!started.ok()) {
      alerts.Error(started.error().message());
      return 1;
    }
    metrics_server = std::move(started).value();
  }

  // floodgatectl's requests, performed on this daemon's memory store with the config in
  // force (a reload applies to them at once). Moved here so that it is destroyed, and its
  // thread stopped, before the store, the sink and the context it uses.
  std::unique_ptr<admin::AdminServer> admin_serving = std::move(admin_server);
  if (admin_serving && memory != nullptr) {
    auto backend = std::make_shared<admin::MemoryAdminBackend>(*memory, config->store.admin_socket);
    admin_serving->Start(
        [&holder, &events, backend](const nlohmann::json& json) -> Result<nlohmann::json> {
          Result<admin::Request> request = admin::RequestFromJson(json);
          if (!request.ok()) return request.error();
          admin::Admin a(*holder.get(), *backend,
                         [&events](const policy::Alert& alert) { events.Emit(alert); });
          return admin::Perform(a, *request);
        });
    alerts.Info("admin socket " + config->store.admin_socket + " (floodgatectl)");
  }

  Reloader reloader(options.config_path, holder, events, decider->metrics());
  alerts.Info("started: socket=" + socket + " store=" + decider->primary().name() +
              " limits=" + std::to_string(config->limits.size()));
  const int rc = smfi_main();
  if (state) {
    admin_serving.reset();  // no floodgatectl change may come after the last snapshot
    if (Status saved = state->Close(); saved.ok()) {
      alerts.Info("state saved to " + state->dir());
    } else {
      alerts.Error("cannot save state to " + state->dir() + ": " + saved.error().message());
    }
  }
  alerts.Info("stopped");
  return rc == MI_SUCCESS ? 0 : 1;
}

}  // namespace floodgate::milter
