// What floodgate-bench measured: per milter command, the latency from sending the command
// to its final reply and the count of replies by kind; message, connection and error
// counters; and the text and JSON reports made from them.
//
// Thread-safety: none. Each benchmark thread owns one Stats that its sessions update;
// the main thread Merge()s them after the threads have joined.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tools/bench/histogram.h"
#include "tools/bench/wire.h"

namespace floodgate::bench {

// The commands whose replies are measured.
enum class Stage { kOptneg, kConnect, kHelo, kMail, kRcpt, kData, kHeader, kEoh, kBody, kEom };
inline constexpr int kStageCount = 10;
const char* StageName(Stage s);

struct Stats {
  std::array<Histogram, kStageCount> latency_ns;
  std::array<std::array<std::uint64_t, kReplyKindCount>, kStageCount> replies{};

  std::uint64_t connections = 0;         // milter connections that completed negotiation
  std::uint64_t messages_started = 0;    // MAIL sent
  std::uint64_t messages_delivered = 0;  // reached end of message (or accepted early)
  std::uint64_t messages_refused = 0;    // refused at MAIL, or every recipient refused
  std::uint64_t messages_failed = 0;     // lost to a connection error or refused connect
  std::uint64_t connect_errors = 0;      // socket could not connect
  std::uint64_t io_errors = 0;           // read/write failed or peer closed mid-session
  std::uint64_t protocol_errors = 0;     // malformed or unexpected reply
  std::uint64_t timeouts = 0;            // no reply within the timeout
  Negotiation negotiated;                // what the milter answered to OPTNEG (last seen)

  // When messages began (for a paced run: after waiting until they were due).
  std::uint64_t starts = 0;             // messages begun
  std::uint64_t last_start_ns = 0;      // the latest start, from the start of the run
  std::uint64_t last_start_lag_ns = 0;  // how late that message was against its schedule
  Histogram start_lag_ns;               // paced runs: how late each message began

  // A message began offset_ns after the start of the run, lag_ns after it was due
  // (lag_ns < 0: the run is not paced).
  void NoteStart(std::uint64_t offset_ns, std::int64_t lag_ns) {
    ++starts;
    const std::uint64_t lag = lag_ns > 0 ? static_cast<std::uint64_t>(lag_ns) : 0;
    if (lag_ns >= 0) start_lag_ns.Record(lag);
    if (offset_ns >= last_start_ns) {
      last_start_ns = offset_ns;
      last_start_lag_ns = lag;
    }
  }

  void Record(Stage stage, ReplyKind kind, std::uint64_t ns) {
    latency_ns[static_cast<int>(stage)].Record(ns);
    ++replies[static_cast<int>(stage)][static_cast<int>(kind)];
  }
  // Messages the milter answered for: delivered or refused (not lost to an error).
  std::uint64_t decided() const { return messages_delivered + messages_refused; }
  std::uint64_t errors() const { return connect_errors + io_errors + protocol_errors + timeouts; }
  std::uint64_t RepliesAt(Stage s) const;
  void Merge(const Stats& other);
};

// The run's parameters, echoed in the report.
struct RunInfo {
  std::string socket;
  int sessions = 0;
  int threads = 0;
  int rcpts = 0;
  int messages_per_connection = 0;
  std::uint64_t accounts = 0;
  double seconds = 0;       // wall-clock time of the whole run
  double offered_rate = 0;  // --rate: messages per second offered (0: closed loop)
};

std::string FormatText(const Stats& s, const RunInfo& run);
std::string FormatJson(const Stats& s, const RunInfo& run);
// "NOHELO NOHDRS ..." for the protocol bits the milter asked for.
std::string DescribeProtocol(std::uint32_t protocol);

}  // namespace floodgate::bench
