// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
//
#include <libmilter/mfdef.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "tools/bench/session.h"
#include "tools/bench/transaction.h"
#include "tools/bench/wire.h"

namespace floodgate::bench {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Socket = asio::generic::stream_protocol::socket;

// Where a message goes after one milter reply.
enum class Step {
  kGoOn,      // continue (or no reply expected)
  kSkipRest,  // accept or discard: Postfix sends no more events for this message
  kRefused,   // tempfail, reject or a 4xx/5xx reply
  kBroken,    // the connection failed; already counted
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, const SessionConfig& config, WorkQueue& queue, Stats& stats)
      : config_(config), queue_(queue), stats_(stats), socket_(io), timer_(io), pace_(io) {}

  asio::awaitable<void> Run() {
    while (std::optional<std::uint64_t> first = queue_.Claim()) {
      co_await Pace(*first);
      co_await Connection(*first);
    }
    Finish();
  }

  // Ends the watchdog, so the io_context runs out of work.
  void Finish() {
    done_ = true;
    timer_.cancel();
  }

  // Closes the socket when a reply takes longer than the timeout; the pending read then
  // fails and is counted as a timeout.
  asio::awaitable<void> Watchdog() {
    while (!done_) {
      timer_.expires_at(waiting_ ? deadline_ : Clock::now() + config_.timeout);
      error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (done_) break;
      if (waiting_ && Clock::now() >= deadline_) {
        timed_out_ = true;
        socket_.close(ec);
      }
    }
  }

 private:
  std::uint32_t Proto(std::uint32_t bit) const { return negotiated_.protocol & bit; }

  void FailIo() {
    if (timed_out_) {
      ++stats_.timeouts;
    } else {
      ++stats_.io_errors;
    }
    broken_ = true;
  }
  void FailProtocol(const std::string& why) {
    if (stats_.protocol_errors++ == 0) std::fprintf(stderr, "floodgate-bench: %s\n", why.c_str());
    broken_ = true;
  }

  // Waits until message n is due (paced runs), then notes when it began and how late.
  asio::awaitable<void> Pace(std::uint64_t n) {
    const Pacing& pacing = config_.pacing;
    const Clock::time_point due = pacing.Due(n);
    if (pacing.paced() && Clock::now() < due) {
      pace_.expires_at(due);
      error_code ec;
      co_await pace_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    const Clock::time_point now = Clock::now();
    const auto since_start =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - pacing.start);
    const auto lag = std::chrono::duration_cast<std::chrono::nanoseconds>(now - due);
    stats_.NoteStart(static_cast<std::uint64_t>(std::max<std::int64_t>(since_start.count(), 0)),
                     pacing.paced() ? std::max<std::int64_t>(lag.count(), 0) : -1);
  }

  void StartWait() {
    waiting_ = true;
    deadline_ = Clock::now() + config_.timeout;
  }

  asio::awaitable<bool> Flush() {
    if (out_.empty()) co_return true;
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(out_),
                               asio::redirect_error(asio::use_awaitable, ec));
    out_.clear();
    if (ec) FailIo();
    co_return !ec;
  }

  asio::awaitable<std::optional<Packet>> ReadPacket() {
    for (;;) {
      auto next = decoder_.Next();
      if (!next.ok()) {
        FailProtocol(next.error().message());
        co_return std::nullopt;
      }
      if (next->has_value()) co_return std::move(**next);
      error_code ec;
      const std::size_t n = co_await socket_.async_read_some(
          asio::buffer(in_), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        FailIo();
        co_return std::nullopt;
      }
      decoder_.Feed(std::string_view(in_.data(), n));
    }
  }

  // Sends everything buffered and waits for the final reply to the last command; records
  // its latency and kind under stage.
  asio::awaitable<std::optional<ReplyKind>> Exchange(Stage stage) {
    StartWait();
    const Clock::time_point start = Clock::now();
    if (!co_await Flush()) co_return std::nullopt;
    for (;;) {
      std::optional<Packet> p = co_await ReadPacket();
      if (!p) co_return std::nullopt;
      const ReplyKind kind = ClassifyReply(*p);
      if (kind == ReplyKind::kMalformed) {
        FailProtocol(std::string("malformed reply '") + p->command + "' to " + StageName(stage));
        co_return std::nullopt;
      }
      if (!IsFinal(kind)) continue;
      waiting_ = false;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
      stats_.Record(stage, kind, static_cast<std::uint64_t>(ns.count()));
      co_return kind;
    }
  }

  // The reply to the command just appended, unless the milter negotiated no reply for it.
  asio::awaitable<Step> Answer(Stage stage, std::uint32_t no_reply_bit) {
    if (Proto(no_reply_bit)) co_return Step::kGoOn;
    const std::optional<ReplyKind> kind = co_await Exchange(stage);
    if (!kind) co_return Step::kBroken;
    switch (*kind) {
      case ReplyKind::kAccept:
      case ReplyKind::kDiscard:
        co_return Step::kSkipRest;
      case ReplyKind::kTempfail:
      case ReplyKind::kReject:
      case ReplyKind::kReply4xx:
      case ReplyKind::kReply5xx:
        co_return Step::kRefused;
      default:
        co_return Step::kGoOn;
    }
  }

  asio::awaitable<bool> Negotiate() {
    Negotiation offer;
    offer.version = SMFI_PROT_VERSION;
    offer.actions = config_.actions_offer;
    offer.protocol = config_.protocol_offer;
    AppendOptneg(out_, offer);
    StartWait();
    const Clock::time_point start = Clock::now();
    if (!co_await Flush()) co_return false;
    std::optional<Packet> reply = co_await ReadPacket();
    if (!reply) co_return false;
    waiting_ = false;
    auto n = ParseOptnegReply(*reply);
    if (!n.ok()) {
      FailProtocol(n.error().message());
      co_return false;
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
    stats_.Record(Stage::kOptneg, ReplyKind::kContinue, static_cast<std::uint64_t>(ns.count()));
    negotiated_ = *n;
    stats_.negotiated = *n;
    co_return true;
  }

  asio::awaitable<void> Connection(std::uint64_t first) {
    broken_ = timed_out_ = in_message_ = false;
    out_.clear();
    decoder_ = PacketDecoder();
    const std::uint64_t connection = queue_.NextConnection();
    error_code ec;
    socket_.open(config_.endpoint.protocol(), ec);
    if (!ec && config_.inet && config_.nodelay)
      socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    if (!ec) {
      StartWait();
      co_await socket_.async_connect(config_.endpoint,
                                     asio::redirect_error(asio::use_awaitable, ec));
      waiting_ = false;
    }
    if (ec) {
      if (stats_.connect_errors++ == 0) {
        std::fprintf(stderr, "floodgate-bench: connect: %s\n", ec.message().c_str());
      }
      ++stats_.messages_started;
      ++stats_.messages_failed;
      socket_.close(ec);
      if (queue_.ConnectFailed()) {
        std::fprintf(stderr, "floodgate-bench: %d connects in a row failed; stopping\n",
                     WorkQueue::kMaxConnectFailuresInARow);
      }
      asio::steady_timer pause(socket_.get_executor(), std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }

    queue_.ConnectSucceeded();
    std::uint64_t message = first;
    if (co_await Negotiate()) {
      ++stats_.connections;
      const Step step = co_await Connect(connection);
      for (int sent = 1; step == Step::kGoOn; ++sent) {
        co_await Message(message);
        if (broken_ || sent >= config_.workload.messages_per_connection) break;
        std::optional<std::uint64_t> next = queue_.Claim();
        if (!next) break;
        message = *next;
        co_await Pace(message);
      }
      if (step != Step::kGoOn && !broken_) {
        // Refused (or accepted) at connect: the SMTP session carries no milter traffic.
        ++stats_.messages_started;
        ++(step == Step::kRefused ? stats_.messages_refused : stats_.messages_delivered);
      }
    }
    if (broken_) {
      ++stats_.messages_failed;
      if (!in_message_) ++stats_.messages_started;  // failed before its MAIL was sent
    } else {
      AppendEmpty(out_, SMFIC_QUIT);
      co_await Flush();
    }
    socket_.close(ec);
  }

  asio::awaitable<Step> Connect(std::uint64_t connection) {
    const std::string addr = ClientAddressFor(config_.workload, connection);
    const auto port = static_cast<std::uint16_t>(1024 + connection % 64000);
    const bool send = !Proto(SMFIP_NOCONNECT);
    AppendConnectStage(out_, addr, port, config_.inet, send);
    Step step = Step::kGoOn;
    if (send) step = co_await Answer(Stage::kConnect, SMFIP_NR_CONN);
    if (step == Step::kGoOn && !Proto(SMFIP_NOHELO)) {
      AppendHeloStage(out_);
      step = co_await Answer(Stage::kHelo, SMFIP_NR_HELO);
    }
    co_return step;
  }

  // Counts a message's outcome and buffers the ABORT with which Postfix resets the milter
  // after every transaction (it leaves with the next command).
  void EndMessage(bool refused) {
    ++(refused ? stats_.messages_refused : stats_.messages_delivered);
    AppendEmpty(out_, SMFIC_ABORT);
    in_message_ = false;
  }

  // One transaction: MAIL, RCPTs, and if a recipient was accepted DATA, headers, end of
  // headers, body (each unless skipped) and end of message.
  asio::awaitable<void> Message(std::uint64_t n) {
    const WorkloadOptions& w = config_.workload;
    ++stats_.messages_started;
    in_message_ = true;  // until it ends without breaking the connection
    const MessageFacts m = FactsFor(w, n);
    bool refused = false;
    bool skip_rest = false;  // accepted or discarded: Postfix stops sending events
    // Records a reply's effect; false when the connection broke.
    auto note = [&](Step s) {
      if (s == Step::kRefused) refused = true;
      if (s == Step::kSkipRest) skip_rest = true;
      return s != Step::kBroken;
    };
    auto more = [&](std::uint32_t skip_bit) { return !skip_rest && !refused && !Proto(skip_bit); };

    AppendMailStage(out_, m, !Proto(SMFIP_NOMAIL));
    if (!Proto(SMFIP_NOMAIL) && !note(co_await Answer(Stage::kMail, SMFIP_NR_MAIL))) co_return;
    if (refused) co_return EndMessage(true);

    int accepted = 0;
    for (int r = 0; r < w.rcpts; ++r) {
      if (skip_rest || Proto(SMFIP_NORCPT)) {
        ++accepted;
        continue;
      }
      AppendRcptStage(out_, m, RecipientFor(w, n, r), true);
      refused = false;
      if (!note(co_await Answer(Stage::kRcpt, SMFIP_NR_RCPT))) co_return;
      if (!refused) ++accepted;
    }
    if (accepted == 0) co_return EndMessage(true);
    refused = false;

    if (!skip_rest) {
      AppendDataStage(out_, m, !Proto(SMFIP_NODATA));
      if (!Proto(SMFIP_NODATA) && !note(co_await Answer(Stage::kData, SMFIP_NR_DATA))) co_return;
    }
    const std::string rcpt0 = RecipientFor(w, n, 0);
    for (int h = 0; h < kHeaderCount && more(SMFIP_NOHDRS); ++h) {
      AppendHeader(out_, m, rcpt0, h);
      if (!note(co_await Answer(Stage::kHeader, SMFIP_NR_HDR))) co_return;
    }
    if (more(SMFIP_NOEOH)) {
      AppendEmpty(out_, SMFIC_EOH);
      if (!note(co_await Answer(Stage::kEoh, SMFIP_NR_EOH))) co_return;
    }
    if (more(SMFIP_NOBODY)) {
      const std::string body = BodyOf(w.body_bytes);
      for (std::size_t at = 0; at < body.size() && more(SMFIP_NOBODY); at += MILTER_CHUNK_SIZE) {
        AppendPacket(out_, SMFIC_BODY, std::string_view(body).substr(at, MILTER_CHUNK_SIZE));
        if (!note(co_await Answer(Stage::kBody, SMFIP_NR_BODY))) co_return;
      }
    }
    if (!skip_rest && !refused) {
      AppendEndOfMessage(out_, m);
      if (!note(co_await Answer(Stage::kEom, 0))) co_return;
    }
    EndMessage(refused);
  }

  const SessionConfig& config_;
  WorkQueue& queue_;
  Stats& stats_;
  Socket socket_;
  asio::steady_timer timer_;
  asio::steady_timer pace_;  // waits for the next message's scheduled start
  Negotiation negotiated_;
  PacketDecoder decoder_;
  std::string out_;
  std::array<char, 4096> in_{};
  Clock::time_point deadline_{};
  bool waiting_ = false;
  bool timed_out_ = false;
  bool broken_ = false;
  bool in_message_ = false;  // a MAIL was sent and its outcome is not counted yet
  bool done_ = false;
};

void Report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "floodgate-bench: session ended: %s\n", ex.what());
  } catch (...) {
    std::fprintf(stderr, "floodgate-bench: session ended by an unknown exception\n");
  }
}

}  // namespace

void SpawnSession(asio::io_context& io, const SessionConfig& config, WorkQueue& queue,
                  Stats& stats) {
  auto session = std::make_shared<Session>(io, config, queue, stats);
  asio::co_spawn(
      io, [session] { return session->Run(); },
      [session](std::exception_ptr e) {
        Report(e);
        session->Finish();  // after an exception Run() did not get to it
      });
  asio::co_spawn(
      io, [session] { return session->Watchdog(); }, Report);
}

}  // namespace floodgate::bench
