#include "tools/bench/stats.h"

#include <libmilter/mfdef.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "tools/bench/pacing.h"

namespace floodgate::bench {
namespace {

constexpr Stage kStages[] = {Stage::kOptneg, Stage::kConnect, Stage::kHelo,   Stage::kMail,
                             Stage::kRcpt,   Stage::kData,    Stage::kHeader, Stage::kEoh,
                             Stage::kBody,   Stage::kEom};
constexpr ReplyKind kKinds[] = {
    ReplyKind::kContinue,     ReplyKind::kTempfail, ReplyKind::kReject,  ReplyKind::kReply4xx,
    ReplyKind::kReply5xx,     ReplyKind::kAccept,   ReplyKind::kDiscard, ReplyKind::kOther,
    ReplyKind::kIntermediate, ReplyKind::kMalformed};

double PerSecond(std::uint64_t n, double seconds) { return seconds > 0 ? n / seconds : 0.0; }
double Micros(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }
double Achieved(const Stats& s) {
  return AchievedRate(s.starts, std::chrono::nanoseconds(s.last_start_ns));
}

template <class... Args>
void Appendf(std::string& out, const char* fmt, Args... args) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n > 0) out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

}  // namespace

const char* StageName(Stage s) {
  switch (s) {
    case Stage::kOptneg:
      return "optneg";
    case Stage::kConnect:
      return "connect";
    case Stage::kHelo:
      return "helo";
    case Stage::kMail:
      return "mail";
    case Stage::kRcpt:
      return "rcpt";
    case Stage::kData:
      return "data";
    case Stage::kHeader:
      return "header";
    case Stage::kEoh:
      return "eoh";
    case Stage::kBody:
      return "body";
    case Stage::kEom:
      return "eom";
  }
  return "?";
}

std::uint64_t Stats::RepliesAt(Stage s) const {
  std::uint64_t n = 0;
  for (std::uint64_t c : replies[static_cast<int>(s)]) n += c;
  return n;
}

void Stats::Merge(const Stats& o) {
  for (int i = 0; i < kStageCount; ++i) {
    latency_ns[i].Merge(o.latency_ns[i]);
    for (int k = 0; k < kReplyKindCount; ++k) replies[i][k] += o.replies[i][k];
  }
  connections += o.connections;
  messages_started += o.messages_started;
  messages_delivered += o.messages_delivered;
  messages_refused += o.messages_refused;
  messages_failed += o.messages_failed;
  connect_errors += o.connect_errors;
  io_errors += o.io_errors;
  protocol_errors += o.protocol_errors;
  timeouts += o.timeouts;
  if (o.negotiated.version != 0) negotiated = o.negotiated;
  starts += o.starts;
  start_lag_ns.Merge(o.start_lag_ns);
  if (o.last_start_ns >= last_start_ns) {
    last_start_ns = o.last_start_ns;
    last_start_lag_ns = o.last_start_lag_ns;
  }
}

std::string DescribeProtocol(std::uint32_t p) {
  static constexpr std::pair<std::uint32_t, const char*> kBits[] = {
      {SMFIP_NOCONNECT, "NOCONNECT"},
      {SMFIP_NOHELO, "NOHELO"},
      {SMFIP_NOMAIL, "NOMAIL"},
      {SMFIP_NORCPT, "NORCPT"},
      {SMFIP_NOBODY, "NOBODY"},
      {SMFIP_NOHDRS, "NOHDRS"},
      {SMFIP_NOEOH, "NOEOH"},
      {SMFIP_NR_HDR, "NR_HDR"},
      {SMFIP_NOUNKNOWN, "NOUNKNOWN"},
      {SMFIP_NODATA, "NODATA"},
      {SMFIP_SKIP, "SKIP"},
      {SMFIP_RCPT_REJ, "RCPT_REJ"},
      {SMFIP_NR_CONN, "NR_CONN"},
      {SMFIP_NR_HELO, "NR_HELO"},
      {SMFIP_NR_MAIL, "NR_MAIL"},
      {SMFIP_NR_RCPT, "NR_RCPT"},
      {SMFIP_NR_DATA, "NR_DATA"},
      {SMFIP_NR_UNKN, "NR_UNKN"},
      {SMFIP_NR_EOH, "NR_EOH"},
      {SMFIP_NR_BODY, "NR_BODY"},
      {SMFIP_HDR_LEADSPC, "HDR_LEADSPC"},
  };
  std::string out;
  for (const auto& [bit, name] : kBits) {
    if (!(p & bit)) continue;
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out.empty() ? "(none)" : out;
}

std::string FormatText(const Stats& s, const RunInfo& run) {
  std::string out;
  const std::uint64_t rcpts = s.RepliesAt(Stage::kRcpt);
  Appendf(out,
          "floodgate-bench: %s, %d sessions on %d threads, %d rcpt/message, %d "
          "messages/connection, %llu accounts\n",
          run.socket.c_str(), run.sessions, run.threads, run.rcpts, run.messages_per_connection,
          static_cast<unsigned long long>(run.accounts));
  Appendf(out, "negotiated: version %u, actions 0x%x, protocol 0x%x (%s)\n", s.negotiated.version,
          s.negotiated.actions, s.negotiated.protocol,
          DescribeProtocol(s.negotiated.protocol).c_str());
  Appendf(out, "runtime          %.3f s\n", run.seconds);
  Appendf(out,
          "messages         %llu decided, %.1f/s (delivered %llu, refused %llu; failed %llu)\n",
          static_cast<unsigned long long>(s.decided()), PerSecond(s.decided(), run.seconds),
          static_cast<unsigned long long>(s.messages_delivered),
          static_cast<unsigned long long>(s.messages_refused),
          static_cast<unsigned long long>(s.messages_failed));
  Appendf(out, "rcpt decisions   %llu, %.1f/s\n", static_cast<unsigned long long>(rcpts),
          PerSecond(rcpts, run.seconds));
  if (run.offered_rate > 0) {
    const Histogram& lag = s.start_lag_ns;
    Appendf(out,
            "pacing           offered %.1f messages/s, achieved %.1f/s; start lag p50 %.1f us, "
            "p99 %.1f us, max %.1f us, last message %.1f us\n",
            run.offered_rate, Achieved(s), Micros(lag.Percentile(0.50)),
            Micros(lag.Percentile(0.99)), Micros(lag.max()), Micros(s.last_start_lag_ns));
  }
  Appendf(out, "connections      %llu\n", static_cast<unsigned long long>(s.connections));
  Appendf(out, "errors           %llu (connect %llu, io %llu, protocol %llu, timeout %llu)\n\n",
          static_cast<unsigned long long>(s.errors()),
          static_cast<unsigned long long>(s.connect_errors),
          static_cast<unsigned long long>(s.io_errors),
          static_cast<unsigned long long>(s.protocol_errors),
          static_cast<unsigned long long>(s.timeouts));
  Appendf(out, "%-8s %9s %9s %9s %9s %9s  %s\n", "stage", "replies", "p50 us", "p99 us", "p99.9 us",
          "max us", "replies by kind");
  for (Stage st : kStages) {
    const int i = static_cast<int>(st);
    const Histogram& h = s.latency_ns[i];
    if (h.count() == 0) continue;
    std::string kinds;
    for (ReplyKind k : kKinds) {
      const std::uint64_t n = s.replies[i][static_cast<int>(k)];
      if (n == 0) continue;
      Appendf(kinds, "%s=%llu ", ReplyKindName(k), static_cast<unsigned long long>(n));
    }
    Appendf(out, "%-8s %9llu %9.1f %9.1f %9.1f %9.1f  %s\n", StageName(st),
            static_cast<unsigned long long>(h.count()), Micros(h.Percentile(0.50)),
            Micros(h.Percentile(0.99)), Micros(h.Percentile(0.999)), Micros(h.max()),
            kinds.c_str());
  }
  return out;
}

std::string FormatJson(const Stats& s, const RunInfo& run) {
  using ull = unsigned long long;
  std::string out = "{";
  // The socket spec is ours (command line); escape the two characters JSON cares about.
  std::string socket;
  for (char c : run.socket) {
    if (c == '"' || c == '\\') socket += '\\';
    socket += c;
  }
  const std::uint64_t rcpts = s.RepliesAt(Stage::kRcpt);
  Appendf(out, "\"socket\":\"%s\",\"sessions\":%d,\"threads\":%d,\"rcpts\":%d,", socket.c_str(),
          run.sessions, run.threads, run.rcpts);
  Appendf(out, "\"messages_per_connection\":%d,\"accounts\":%llu,\"seconds\":%.6f,",
          run.messages_per_connection, static_cast<ull>(run.accounts), run.seconds);
  Appendf(out, "\"negotiated\":{\"version\":%u,\"actions\":%u,\"protocol\":%u},",
          s.negotiated.version, s.negotiated.actions, s.negotiated.protocol);
  Appendf(out,
          "\"messages\":%llu,\"messages_per_s\":%.1f,\"delivered\":%llu,\"refused\":%llu,"
          "\"failed\":%llu,",
          static_cast<ull>(s.messages_started), PerSecond(s.decided(), run.seconds),
          static_cast<ull>(s.messages_delivered), static_cast<ull>(s.messages_refused),
          static_cast<ull>(s.messages_failed));
  Appendf(out, "\"rcpt_decisions\":%llu,\"rcpt_decisions_per_s\":%.1f,\"connections\":%llu,",
          static_cast<ull>(rcpts), PerSecond(rcpts, run.seconds), static_cast<ull>(s.connections));
  const Histogram& lag = s.start_lag_ns;
  Appendf(out,
          "\"offered_rate\":%.1f,\"achieved_rate\":%.1f,\"schedule_lag\":{\"count\":%llu,"
          "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"last_us\":%.1f},",
          run.offered_rate, Achieved(s), static_cast<ull>(lag.count()),
          Micros(lag.Percentile(0.50)), Micros(lag.Percentile(0.99)), Micros(lag.Percentile(0.999)),
          Micros(lag.max()), Micros(s.last_start_lag_ns));
  Appendf(out, "\"errors\":{\"connect\":%llu,\"io\":%llu,\"protocol\":%llu,\"timeout\":%llu},",
          static_cast<ull>(s.connect_errors), static_cast<ull>(s.io_errors),
          static_cast<ull>(s.protocol_errors), static_cast<ull>(s.timeouts));
  out += "\"stages\":{";
  bool first = true;
  for (Stage st : kStages) {
    const int i = static_cast<int>(st);
    const Histogram& h = s.latency_ns[i];
    if (h.count() == 0) continue;
    if (!first) out += ',';
    first = false;
    Appendf(out,
            "\"%s\":{\"count\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%."
            "1f,\"mean_us\":%.1f,\"replies\":{",
            StageName(st), static_cast<ull>(h.count()), Micros(h.Percentile(0.50)),
            Micros(h.Percentile(0.99)), Micros(h.Percentile(0.999)), Micros(h.max()),
            h.mean() / 1000.0);
    bool first_kind = true;
    for (ReplyKind k : kKinds) {
      if (!first_kind) out += ',';
      first_kind = false;
      Appendf(out, "\"%s\":%llu", ReplyKindName(k),
              static_cast<ull>(s.replies[i][static_cast<int>(k)]));
    }
    out += "}}";
  }
  out += "}}\n";
  return out;
}

}  // namespace floodgate::bench
