#include "tests/testing/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "tests/testing/wait.h"

extern char** environ;

namespace floodgate::testing {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);

std::string ServerBinary() {
  const char* env = std::getenv("REDIS_SERVER");
  return env && *env ? env : "redis-server";
}

std::string CliBinary() {
  const char* env = std::getenv("REDIS_CLI");
  return env && *env ? env : "redis-cli";
}

// A port nobody listens on right now (the kernel's pick for port 0).
int FreeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Sends PING on the Unix socket; true once anything RESP-like comes back (+PONG, or
// -NOAUTH when a password is required: the server is up either way).
bool Pings(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::write(fd, "PING\r\n", 6) == 6) {
    char buf[64];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    ok = n > 0 && (buf[0] == '+' || buf[0] == '-');
  }
  ::close(fd);
  return ok;
}

// Runs argv, returns its stdout, or an Error when it cannot start or exits non-zero.
Result<std::string> Capture(const std::vector<std::string>& argv) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return Error(ErrorKind::kInternal, "pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    return Error(ErrorKind::kNotFound, "cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error(ErrorKind::kUnavailable, argv[0] + " failed: " + out);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

Result<std::unique_ptr<RedisServer>> RedisServer::Start(Options options) {
  std::unique_ptr<RedisServer> server(new RedisServer(std::move(options)));
  std::error_code ec;
  std::string tmpl = (std::filesystem::temp_directory_path(ec) / "floodgate-redis-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Error(ErrorKind::kInternal, "mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  server->dir_ = tmpl;
  server->socket_path_ = tmpl + "/redis.sock";
  if (!server->options_.sentinel_config.empty()) {
    FILE* f = std::fopen((tmpl + "/sentinel.conf").c_str(), "w");
    if (f == nullptr) return Error(ErrorKind::kInternal, "cannot write sentinel.conf");
    const std::string& conf = server->options_.sentinel_config;
    const bool written = std::fwrite(conf.data(), 1, conf.size(), f) == conf.size();
    if (std::fclose(f) != 0 || !written) {
      return Error(ErrorKind::kInternal, "cannot write sentinel.conf");
    }
  }
  // A free port can be taken between our probe and redis' bind: try a few.
  Status status = OkStatus();
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (server->options_.tcp) server->port_ = FreeTcpPort();
    status = server->Launch();
    if (status.ok()) status = server->WaitReady();
    if (status.ok()) return server;
    server->Kill();
  }
  return status.error();
}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string RedisServer::unix_url(int db) const {
  std::string url = "unix://" + socket_path_ + "?db=" + std::to_string(db);
  if (!options_.password.empty()) url += "&password=" + options_.password;
  return url;
}

std::string RedisServer::tcp_url(int db) const {
  const std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

Status RedisServer::Launch() {
  std::vector<std::string> argv = {
      ServerBinary(), "--port",     std::to_string(port_), "--bind", "127.0.0.1",
      "--unixsocket", socket_path_, "--unixsocketperm",    "700",    "--dir",
      dir_,           "--logfile",  dir_ + "/redis.log",   "--save", "",
      "--appendonly", "no",         "--daemonize",         "no"};
  if (!options_.password.empty()) {
    argv.insert(argv.end(), {"--requirepass", options_.password});
  }
  if (!options_.sentinel_config.empty()) {
    // The config file must come first; the command line then overrides it.
    argv.insert(argv.begin() + 1, {dir_ + "/sentinel.conf", "--sentinel"});
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), environ);
  if (rc != 0) {
    pid_ = -1;
    return Error(ErrorKind::kNotFound,
                 "cannot start " + argv[0] + " (set REDIS_SERVER): " + std::strerror(rc));
  }
  return OkStatus();
}

Status RedisServer::WaitReady() {
  bool exited = false;
  const bool ready = WaitFor(
      [&] {
        int status = 0;
        exited = ::waitpid(pid_, &status, WNOHANG) == pid_;
        return exited || Pings(socket_path_);
      },
      kStartTimeout);
  if (exited) {
    pid_ = -1;
    return Error(ErrorKind::kUnavailable,
                 "redis-server exited during start-up; see " + dir_ + "/redis.log");
  }
  if (!ready) return Error(ErrorKind::kTimeout, "redis-server did not answer PING within 10 s");
  return OkStatus();
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);  // also ends a paused (SIGSTOPped) server
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  ::unlink(socket_path_.c_str());
}

void RedisServer::Pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

Status RedisServer::Restart() {
  Kill();
  Status status = Launch();
  if (!status.ok()) return status;
  return WaitReady();
}

Result<std::string> RedisServer::RedisCli(const std::vector<std::string>& args, int db) const {
  std::vector<std::string> argv = {CliBinary(), "-s", socket_path_, "-n", std::to_string(db)};
  if (!options_.password.empty())
    argv.insert(argv.end(), {"-a", options_.password, "--no-auth-warning"});
  argv.insert(argv.end(), args.begin(), args.end());
  return Capture(argv);
}

}  // namespace floodgate::testing
