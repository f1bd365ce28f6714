// floodgate-bench: a load generator that speaks the milter protocol to a milter the way
// Postfix does, and reports decisions per second, latency per command and replies by kind.
// See bench/README.md.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange
//
#include <libmilter/mfdef.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "tools/bench/endpoint.h"
#include "tools/bench/pacing.h"
#include "tools/bench/session.h"
#include "tools/bench/stats.h"
#include "tools/bench/workload.h"

namespace {

namespace asio = boost::asio;
using floodgate::Error;
using floodgate::ErrorKind;
using floodgate::Result;
using namespace floodgate::bench;

// Lets 2,000 sessions (and the milter's side of them) have their descriptors.
void RaiseDescriptorLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

Result<asio::generic::stream_protocol::endpoint> Resolve(const Endpoint& e) {
  if (e.kind == Endpoint::Kind::kUnix) {
    return asio::generic::stream_protocol::endpoint(asio::local::stream_protocol::endpoint(e.path));
  }
  boost::system::error_code ec;
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(e.host, std::to_string(e.port), ec);
  if (ec || results.empty()) {
    return Error(ErrorKind::kNotFound, "cannot resolve " + e.host + ": " + ec.message());
  }
  return asio::generic::stream_protocol::endpoint(results.begin()->endpoint());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floodgate-bench - drive a milter over the milter protocol the way Postfix does"};
  std::string socket = "inet:8899@127.0.0.1";
  int sessions = 16;
  int threads = 1;
  std::int64_t messages = -1;
  double duration = 0;
  double rate = 0;
  int timeout_ms = 10000;
  bool nodelay = false;
  bool json = false;
  std::uint32_t protocol = SMFI_CURR_PROT;
  WorkloadOptions w;
  app.add_option("--socket", socket, "milter socket: inet:PORT@HOST, inet6:PORT@HOST, unix:/path")
      ->capture_default_str();
  app.add_option("--sessions", sessions, "concurrent milter connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--messages", messages,
                 "messages to send in total (default 10000 without --duration)");
  app.add_option("--duration", duration, "stop starting messages after this many seconds")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate", rate,
                 "offer N messages per second in total, spread over all sessions (open loop: "
                 "each message has a scheduled start; default: as fast as the milter answers)")
      ->check(CLI::PositiveNumber);
  app.add_option("--rcpts", w.rcpts, "recipients per message")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--accounts", w.accounts,
                 "distinct {auth_authen} logins (0: unauthenticated mail)")
      ->capture_default_str();
  app.add_flag("--random-accounts", w.random_accounts,
               "pick the account of each message at random, not round-robin");
  app.add_option("--addresses", w.addresses,
                 "distinct client addresses (10.x.y.z), one per connection")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 24))
      ->capture_default_str();
  app.add_option("--messages-per-connection", w.messages_per_connection,
                 "messages per milter connection")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--body-bytes", w.body_bytes, "body size, sent only if the milter wants the body")
      ->capture_default_str();
  app.add_option("--threads", threads, "client threads, each with its own io_context")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms, "give up on a reply after this long")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str();
  app.add_option("--protocol", protocol, "SMFIP_* flags offered in OPTNEG (default all: 0x1FFFFF)");
  app.add_flag("--nodelay", nodelay, "set TCP_NODELAY (Postfix does not)");
  app.add_flag("--json", json, "print the report as one JSON object");
  CLI11_PARSE(app, argc, argv);

  auto endpoint = ParseEndpoint(socket);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "floodgate-bench: %s\n", endpoint.error().message().c_str());
    return 2;
  }
  auto resolved = Resolve(*endpoint);
  if (!resolved.ok()) {
    std::fprintf(stderr, "floodgate-bench: %s\n", resolved.error().message().c_str());
    return 2;
  }
  if (messages < 0 && duration <= 0) messages = 10000;
  if (rate > 0 && duration > 0) {
    // Only the messages due within the duration; the deadline below still stops a run
    // that fell behind schedule.
    const std::int64_t due = MessagesDueWithin(duration, rate);
    messages = messages < 0 ? due : std::min(messages, due);
  }
  RaiseDescriptorLimit();

  SessionConfig config;
  config.endpoint = *resolved;
  config.inet = endpoint->kind == Endpoint::Kind::kInet;
  config.nodelay = nodelay;
  config.protocol_offer = protocol;
  config.actions_offer = SMFI_CURR_ACTS;
  config.timeout = std::chrono::milliseconds(timeout_ms);
  config.workload = w;

  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = duration > 0
                                         ? start + std::chrono::duration_cast<Clock::duration>(
                                                       std::chrono::duration<double>(duration))
                                         : Clock::time_point::max();
  WorkQueue queue(messages, deadline);
  config.pacing.rate = rate;
  config.pacing.start = start;

  threads = std::min(threads, sessions);
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::unique_ptr<Stats>> stats;
  for (int t = 0; t < threads; ++t) {
    ios.push_back(std::make_unique<asio::io_context>(1));
    stats.push_back(std::make_unique<Stats>());
  }
  for (int i = 0; i < sessions; ++i)
    SpawnSession(*ios[i % threads], config, queue, *stats[i % threads]);
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back([&io = *ios[t]] { io.run(); });
  ios[0]->run();
  for (auto& worker : workers) worker.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  Stats total;
  for (const auto& s : stats) total.Merge(*s);
  RunInfo run;
  run.socket = endpoint->ToString();
  run.sessions = sessions;
  run.threads = threads;
  run.rcpts = w.rcpts;
  run.messages_per_connection = w.messages_per_connection;
  run.accounts = w.accounts;
  run.seconds = seconds;
  run.offered_rate = rate;
  const std::string report = json ? FormatJson(total, run) : FormatText(total, run);
  std::fputs(report.c_str(), stdout);
  return total.errors() == 0 ? 0 : 1;
}
