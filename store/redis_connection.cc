#include "store/redis_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>

#include "store/maxmemory_policy.h"
#include "store/one_shot.h"
#include "store/read_ownership.h"
#include "store/redis_multiplexer.h"
#include "store/sentinel_client.h"
#include "store/sentinel_resolver.h"

namespace floodgate::store {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Endpoint = asio::generic::stream_protocol::endpoint;
using SteadyClock = std::chrono::steady_clock;
using Command = RedisMultiplexer::Command;
using Completion = RedisMultiplexer::Completion;

void RunAll(std::vector<Completion>& done) {
  for (Completion& c : done) c.Run();
  done.clear();
}

}  // namespace

bool ReconnectGate::TryAttempt(Deadline now) {
  if (last_attempt_ && now - *last_attempt_ < backoff_) return false;
  last_attempt_ = now;
  return true;
}

// The I/O shell around RedisMultiplexer, which decides what is written, what each reply
// answers and what a lost connection fails. Everything below runs on the io thread,
// except Submit(), Execute(), what they call (ExecuteDirect(), ReadDirect() and the
// *Locked() functions, which run under mu_) and the constructor/destructor. Every
// asynchronous handler
// carries the connection generation it was started for and ignores itself once Fail()
// has moved on to a new generation.
//
// The multiplexer, the write side (state_, fd_, gen_, writing_) and who reads (own_, a
// ReadOwnership, which decides every hand-over of the read side; this class only carries
// its Steps out) are shared with the callers' threads under mu_: when the connection is
// up and idle, a command is written at once from the caller's thread with a non-blocking
// send(2), which saves waking the io thread for it, and Execute() reads the reply too
// (ExecuteDirect()); commands that arrive behind others are written together, by
// whoever reads the replies of those in flight right after reading them
// (FlushAfterRepliesLocked()), or by the io thread woken once for all of them when none
// are in flight. Whoever reads matches replies under mu_; the io thread parses outside
// it (no caller touches the parser while it reads), a caller under it (so that a Fail()
// meanwhile cannot reset the parser under it). The io thread does everything else
// (connecting, failing, the rest of a partial write). Callbacks never run under mu_: they
// may Submit() again.
class RedisConnection::Impl {
 public:
  Impl(RedisUrl url, Options options)
      : url_(std::move(url)),
        options_(std::move(options)),
        work_(asio::make_work_guard(io_)),
        socket_(io_),
        resolver_(io_),
        connect_timer_(io_),
        gate_(options_.reconnect_backoff),
        sentinel_(io_),
        discovery_(url_.sentinels, url_.master_name),
        target_{url_.host, url_.port},
        mux_(url_.kind == RedisUrl::Kind::kSentinel) {
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    asio::post(io_, [this] { Fail("connection closed"); });
    work_.reset();
    thread_.join();
  }

  void Connect() {
    asio::post(io_, [this] {
      if (state_ == State::kDisconnected && gate_.TryAttempt(SteadyClock::now())) StartConnect();
    });
  }

  void Submit(std::string wire, Deadline deadline, Callback done) {
    std::vector<Completion> expired;  // stays empty when the command was alone
    bool fast = false;
    {
      // The common case, on the caller's thread: connected, healthy, in time.
      const auto now = SteadyClock::now();  // read before the lock: less time holding it
      std::lock_guard lock(mu_);
      if (state_ == State::kConnected && now < deadline &&
          !mux_.Stalled(now, options_.stall_timeout)) {
        const bool idle = mux_.in_flight() == 0 && mux_.waiting() == 0;
        mux_.Add({std::move(wire), deadline, std::move(done)});
        PerformLocked(own_.NeedReader());
        // Alone: send it now (nothing waits that could have expired). Behind commands
        // still unanswered (in flight: written or being written), while fewer wait than
        // are in flight: whoever reads their replies (FlushAfterRepliesLocked()) or
        // finishes their write (WriteRest()) sends everything that queued up meanwhile
        // in one write, and nobody is woken for it. Once as many wait as are in flight,
        // the io thread is, once for all: Redis then has the next batch at hand when it
        // is done with this one.
        if (idle) {
          FlushLocked(now, expired);
        } else if (mux_.waiting() < mux_.in_flight()) {
          // Left for the reader, as above.
        } else if (!flush_posted_) {
          flush_posted_ = true;
          asio::post(io_, [this] {
            std::vector<Completion> expired;
            {
              std::lock_guard lock(mu_);
              flush_posted_ = false;
              FlushLocked(SteadyClock::now(), expired);
            }
            RunAll(expired);
          });
        }
        fast = true;
      }
    }
    if (fast) return RunAll(expired);
    asio::post(io_, [this, c = Command{std::move(wire), deadline, std::move(done)}]() mutable {
      OnSubmit(std::move(c));
    });
  }

  // Sends and reads the reply itself when the connection is idle (ExecuteDirect()), else
  // Submit() and wait. The slot is shared with the callback: a caller that gave up at
  // its deadline must not leave another thread completing a destroyed one.
  Result<RedisReply> Execute(std::string wire, Deadline deadline) {
    auto reply = std::make_shared<OneShot<Result<RedisReply>>>();
    Callback done = [reply](Result<RedisReply> r) { reply->Set(std::move(r)); };
    // ExecuteDirect() moves `wire` and `done` only when it takes the command.
    if (!ExecuteDirect(wire, deadline, done)) Submit(std::move(wire), deadline, std::move(done));
    std::optional<Result<RedisReply>> r = reply->WaitUntil(deadline);
    if (!r) return Error(ErrorKind::kTimeout, "redis: no reply within the deadline");
    return std::move(*r);
  }

 private:
  enum class State { kDisconnected, kConnecting, kConnected };
  enum class Flush { kAll, kPartial, kFailed };

  // When the connection is idle and nobody reads, the caller writes its command and reads
  // the reply itself, with its own deadline: no wake-up of the io thread, and one of the
  // caller instead of two hand-offs. Its command is the first in flight, so the first
  // reply read is its own. Replies to commands that others sent meanwhile and that came
  // in the same read are completed here too; if any are still due, the io thread takes
  // the reading over. False when the connection was not idle: nothing was sent.
  bool ExecuteDirect(std::string& wire, Deadline deadline, Callback& done) {
    const auto now = SteadyClock::now();
    std::optional<ReadOwnership::Claim> claim;
    int fd = -1;
    {
      std::lock_guard lock(mu_);
      if (state_ != State::kConnected || own_.reader() != ReadOwnership::Reader::kNobody ||
          BusyLocked() || now >= deadline) {
        return false;
      }
      // Nobody has watched the socket since it went idle: a server that closed it
      // meanwhile is noticed before the command is sent, so the command reconnects
      // instead of failing.
      char byte = 0;
      const ssize_t peeked = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      const int err = errno;
      if (peeked >= 0 || (err != EAGAIN && err != EWOULDBLOCK)) {
        if (peeked > 0) {
          PerformLocked(own_.NeedReader());  // the io thread reads it (and fails the connection)
        } else {
          PerformLocked(own_.Broken(), peeked == 0 ? "connection closed by the server"
                                                   : std::string("read: ") + std::strerror(err));
        }
        // After the Fail() posted above: OnSubmit() then finds the connection down.
        asio::post(io_, [this, c = Command{std::move(wire), deadline, std::move(done)}]() mutable {
          OnSubmit(std::move(c));
        });
        return true;
      }
      mux_.Add({std::move(wire), deadline, std::move(done)});
      std::vector<Completion> expired;  // none: it was in time, and alone
      switch (FlushLocked(now, expired)) {
        case Flush::kAll:
          claim = own_.TryClaim();  // from kNobody, checked above: always granted
          fd = fd_;
          break;
        case Flush::kPartial:  // rare (a full socket buffer): the io thread writes the rest
          PerformLocked(own_.NeedReader());
          return true;
        case Flush::kFailed:  // FlushLocked() has posted the Fail()
          return true;
      }
    }
    ReadDirect(fd, *claim, deadline);
    return true;
  }

  // Reads until the first reply (the caller's) is in, the deadline passes or the
  // connection fails; then gives the read side back as own_ says. The bytes go to a
  // buffer of this thread, and are parsed under mu_ only while the claim still holds: a
  // Fail() meanwhile (which resets the parser) leaves them unused.
  void ReadDirect(int fd, const ReadOwnership::Claim& claim, Deadline deadline) {
    std::optional<std::string> fail;
    std::vector<Completion> done;
    std::array<char, 4096> buf;
    bool own = false;
    while (!own && !fail) {
      const auto left = deadline - SteadyClock::now();
      if (left <= Deadline::duration::zero()) break;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      const timespec wait{static_cast<time_t>(ns / 1'000'000'000),
                          static_cast<long>(ns % 1'000'000'000)};
      pollfd p{fd, POLLIN, 0};
      const int ready = ::ppoll(&p, 1, &wait, nullptr);
      if (ready < 0 && errno != EINTR) {
        fail = std::string("poll: ") + std::strerror(errno);
        break;
      }
      if (ready <= 0) continue;
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n == 0) {
        fail = "connection closed by the server";
      } else if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        fail = std::string("read: ") + std::strerror(errno);
      } else {
        std::lock_guard lock(mu_);
        if (!own_.Holds(claim)) break;
        if (Status fed = mux_.Feed(buf.data(), static_cast<std::size_t>(n)); !fed.ok()) {
          fail = fed.error().message();
        } else {
          fail = ParseReplies();
          own = MatchRepliesLocked(done, fail) > 0;
        }
      }
    }
    {
      std::lock_guard lock(mu_);
      if (!fail && own_.Holds(claim)) FlushAfterRepliesLocked(done);
      const ReadOwnership::Steps steps =
          fail ? own_.Failed(claim) : own_.Release(claim, BusyLocked());
      // Fail() ran while this thread read: it shut the socket down and left closing it
      // to this thread, which alone still uses the descriptor.
      if (steps.close) ::close(fd);
      PerformLocked(steps, fail.value_or(""));
    }
    RunAll(done);
  }

  // Splits what the parser holds into whole replies (replies_); an error means
  // bad RESP. Only the thread that reads calls it (a caller under mu_).
  std::optional<std::string> ParseReplies() {
    for (;;) {
      Result<std::optional<RedisReply>> reply = mux_.NextReply();
      if (!reply.ok()) return reply.error().message();
      if (!reply->has_value()) return std::nullopt;
      replies_.push_back(std::move(**reply));
    }
  }

  // Matches replies_ in order; returns how many it matched.
  std::size_t MatchRepliesLocked(std::vector<Completion>& done, std::optional<std::string>& fail) {
    std::size_t matched = 0;
    for (RedisReply& reply : replies_) {
      RedisMultiplexer::ReplyOutcome outcome = mux_.OnReply(std::move(reply));
      ++matched;
      if (outcome.completion) done.push_back(std::move(*outcome.completion));
      if (outcome.fail) {
        fail = std::move(outcome.fail);
        break;
      }
    }
    replies_.clear();
    return matched;
  }

  // Sends the commands that queued up behind unanswered ones (Submit() left them for
  // whoever reads the replies): after a read, with the io thread or the reading caller
  // awake anyway. Expired ones go to `done`.
  void FlushAfterRepliesLocked(std::vector<Completion>& done) {
    if (mux_.waiting() > 0 && state_ == State::kConnected) FlushLocked(SteadyClock::now(), done);
  }

  void PostFailLocked(std::string why) {
    asio::post(io_, [this, gen = gen_, why = std::move(why)] {
      if (gen == gen_) Fail(why);
    });
  }

  // Anything in flight, waiting to be written, being written or about to be flushed.
  bool BusyLocked() const {
    return mux_.in_flight() != 0 || mux_.waiting() != 0 || writing_ || flush_posted_;
  }

  // Carries out what own_ decided, from whichever thread holds mu_. Handing the
  // descriptor to the io thread's reactor or taking it out touches socket_, which nobody
  // else uses meanwhile: the io thread has no operation on it unless it holds the read
  // side. `why`: for a step that fails the connection.
  void PerformLocked(const ReadOwnership::Steps& steps, const std::string& why = "") {
    error_code ec;
    if (steps.park) socket_.release(ec);
    if (steps.start_io_read) {
      socket_.assign(protocol_, fd_, ec);
      if (!ec) StartRead(gen_);
    }
    if (ec) return PerformLocked(own_.Broken(), "socket: " + ec.message());
    if (steps.write_rest) asio::post(io_, [this, gen = gen_] { WriteRest(gen); });
    if (steps.fail) PostFailLocked(why);
  }

  void OnSubmit(Command c) {
    const auto now = SteadyClock::now();
    if (now >= c.deadline) {  // the caller has given up: do not send it at all
      Completion{std::move(c.done),
                 Error(ErrorKind::kTimeout, "redis: deadline passed before sending")}
          .Run();
      return;
    }
    if (state_ == State::kConnected && Stalled(now)) Fail("no reply: server hung");
    switch (state_) {
      case State::kConnected: {
        std::vector<Completion> expired;
        {
          std::lock_guard lock(mu_);
          mux_.Add(std::move(c));
          PerformLocked(own_.NeedReader());
          FlushLocked(now, expired);
        }
        RunAll(expired);
        return;
      }
      case State::kConnecting: {
        std::lock_guard lock(mu_);
        mux_.Add(std::move(c));
        return;
      }
      case State::kDisconnected:
        if (!gate_.TryAttempt(now)) {
          Completion{std::move(c.done),
                     Error(ErrorKind::kUnavailable, "redis: not connected: " + last_error_)}
              .Run();
          return;
        }
        {
          std::lock_guard lock(mu_);
          mux_.Add(std::move(c));
        }
        StartConnect();
        return;
    }
  }

  bool Stalled(Deadline now) {
    std::lock_guard lock(mu_);
    return mux_.Stalled(now, options_.stall_timeout);
  }

  bool sentinel() const { return url_.kind == RedisUrl::Kind::kSentinel; }

  // AUTH for the sentinels themselves (the URL's sentinel_password), or none.
  std::vector<std::string> SentinelAuth() const {
    if (url_.sentinel_password.empty()) return {};
    if (url_.sentinel_user.empty()) return {"AUTH", url_.sentinel_password};
    return {"AUTH", url_.sentinel_user, url_.sentinel_password};
  }

  // "host:port" of the server connected to; for a sentinel URL, the master's name too.
  std::string Where() const {
    if (url_.kind == RedisUrl::Kind::kUnix) return url_.Describe();
    const std::string addr = target_.host + ":" + std::to_string(target_.port);
    return sentinel() ? url_.Describe() + " at " + addr : addr;
  }

  void StartConnect() {
    std::uint64_t gen = 0;
    {
      std::lock_guard lock(mu_);
      state_ = State::kConnecting;
      gen = ++gen_;
    }
    // One deadline for the whole attempt, sentinels included.
    auto budget = options_.connect_timeout;
    if (sentinel()) budget += options_.sentinel_timeout * static_cast<int>(url_.sentinels.size());
    connect_timer_.expires_after(budget);
    connect_timer_.async_wait([this, gen](error_code ec) {
      if (!ec && gen == gen_) Fail("connect timed out");
    });
    if (sentinel()) return Discover(discovery_.Start(), gen);
    ConnectTarget(gen);
  }

  // Carries out the resolver's actions until it names the master (or gives up).
  void Discover(const SentinelResolver::Action& action, std::uint64_t gen) {
    switch (action.kind) {
      case SentinelResolver::Action::Kind::kAskSentinel:
        sentinel_.Ask(
            action.addr, discovery_.Query(), options_.sentinel_timeout,
            [this, gen](Result<RedisReply> reply) {
              if (gen == gen_) Discover(discovery_.OnSentinelReply(reply), gen);
            },
            SentinelAuth());
        return;
      case SentinelResolver::Action::Kind::kConnectMaster:
        target_ = action.addr;
        ConnectTarget(gen);
        return;
      case SentinelResolver::Action::Kind::kFail:
        Fail(action.error);
        return;
    }
  }

  void ConnectTarget(std::uint64_t gen) {
    endpoints_.clear();
    if (url_.kind == RedisUrl::Kind::kUnix) {
      endpoints_.emplace_back(asio::local::stream_protocol::endpoint(url_.path));
      ConnectNext(0, gen);
      return;
    }
    error_code ec;
    const asio::ip::address addr = asio::ip::make_address(target_.host, ec);
    if (!ec) {
      endpoints_.emplace_back(asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(target_.port)));
      ConnectNext(0, gen);
      return;
    }
    resolver_.async_resolve(
        target_.host, std::to_string(target_.port),
        [this, gen](error_code ec, const asio::ip::tcp::resolver::results_type& results) {
          if (gen != gen_) return;
          if (ec) return Fail("cannot resolve " + target_.host + ": " + ec.message());
          for (const auto& entry : results) endpoints_.emplace_back(entry.endpoint());
          ConnectNext(0, gen);
        });
  }

  void ConnectNext(std::size_t i, std::uint64_t gen) {
    if (i >= endpoints_.size()) return Fail("cannot connect to " + Where() + ": " + last_error_);
    error_code ec;
    socket_.close(ec);
    socket_.open(endpoints_[i].protocol(), ec);
    if (ec) return Fail("socket: " + ec.message());
    socket_.async_connect(endpoints_[i], [this, i, gen](error_code ec) {
      if (gen != gen_) return;
      if (ec) {
        last_error_ = ec.message();
        return ConnectNext(i + 1, gen);
      }
      protocol_ = endpoints_[i].protocol();
      OnConnected(gen);
    });
  }

  void OnConnected(std::uint64_t gen) {
    connect_timer_.cancel();
    error_code ec;
    if (url_.kind != RedisUrl::Kind::kUnix) socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    std::vector<Command> handshake = Handshake();
    std::vector<Completion> expired;
    {
      std::lock_guard lock(mu_);
      state_ = State::kConnected;
      own_.Connected();
      fd_ = socket_.native_handle();
      // The handshake goes first in the pipeline; whatever waited for the connection follows.
      mux_.Connected(Where(), std::move(handshake));
      FlushLocked(SteadyClock::now(), expired);
    }
    RunAll(expired);
    StartRead(gen);
  }

  // AUTH (when the URL has a password) and SELECT; for a sentinel URL, ROLE (a sentinel
  // may name a master that has since been demoted: commands pipelined behind it fail with
  // the connection if it is not a master); with a warning sink, maxmemory-policy.
  std::vector<Command> Handshake() {
    std::vector<Command> out;
    const Deadline deadline = SteadyClock::now() + options_.connect_timeout;
    if (!url_.password.empty()) {
      out.push_back(
          {EncodeCommand(url_.user.empty()
                             ? std::vector<std::string>{"AUTH", url_.password}
                             : std::vector<std::string>{"AUTH", url_.user, url_.password}),
           deadline, nullptr, RedisMultiplexer::Check::kHandshake, "AUTH"});
    }
    if (url_.db != 0) {
      out.push_back({EncodeCommand({"SELECT", std::to_string(url_.db)}), deadline, nullptr,
                     RedisMultiplexer::Check::kHandshake, "SELECT"});
    }
    if (sentinel()) {
      out.push_back(
          {EncodeCommand({"ROLE"}), deadline, nullptr, RedisMultiplexer::Check::kRole, "ROLE"});
    }
    if (options_.warn) {
      // Its reply arrives on the io thread; a lost connection (an Error) is ignored.
      out.push_back({EncodeCommand(MaxmemoryPolicyWatch::Query()), deadline,
                     [this](Result<RedisReply> reply) {
                       if (!reply.ok()) return;
                       if (auto line = policy_.Observe(Where(), reply)) options_.warn(*line);
                     }});
    }
    return out;
  }

  // Writes what the multiplexer has to write, from whichever thread holds mu_: a
  // non-blocking send(2) first, which usually takes it all; what the socket does not take
  // goes to the io thread as an async_write, and later commands wait behind it. kAll
  // also when there was nothing to write; kPartial also when the io thread was already
  // writing; kFailed: the connection is failing or gone (a Fail() is posted or ran).
  Flush FlushLocked(Deadline now, std::vector<Completion>& expired) {
    if (writing_) return Flush::kPartial;
    if (fd_ < 0) return Flush::kFailed;
    const std::string_view out = mux_.PrepareWrite(now, expired);
    if (out.empty()) return Flush::kAll;
    const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(out.size())) {
      mux_.CommitWrite(out.size());
      return Flush::kAll;
    }
    const int err = errno;
    if (n > 0) mux_.CommitWrite(static_cast<std::size_t>(n));
    writing_ = true;  // nobody else writes until the io thread has sent the rest
    const std::uint64_t gen = gen_;
    if (n < 0 && err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
      std::string why = std::string("write: ") + std::strerror(err);
      asio::post(io_, [this, gen, why = std::move(why)] {
        if (gen == gen_) Fail(why);
      });
      return Flush::kFailed;
    }
    asio::post(io_, [this, gen] { WriteRest(gen); });
    return Flush::kPartial;
  }

  void WriteRest(std::uint64_t gen) {
    std::shared_ptr<std::string> buf;
    {
      std::lock_guard lock(mu_);
      if (gen != gen_) return;
      // While a caller reads, the rest waits until it gives the read side back (busy:
      // this command is still due), and own_ has this posted again.
      ReadOwnership::Steps steps = own_.RestToWrite();
      if (!steps.write_rest) return;
      steps.write_rest = false;  // here and now
      PerformLocked(steps);
      if (own_.reader() != ReadOwnership::Reader::kIo) return;  // broken: a Fail() is posted
      buf = std::make_shared<std::string>(mux_.Unwritten());
    }
    asio::async_write(socket_, asio::buffer(*buf), [this, gen, buf](error_code ec, std::size_t) {
      std::vector<Completion> expired;
      {
        std::unique_lock lock(mu_);
        if (gen != gen_) return;
        writing_ = false;
        if (ec) {
          lock.unlock();
          return Fail("write: " + ec.message());
        }
        mux_.CommitWrite(buf->size());
        FlushLocked(SteadyClock::now(), expired);
      }
      RunAll(expired);
    });
  }

  void StartRead(std::uint64_t gen) {
    socket_.async_read_some(asio::buffer(read_buf_), [this, gen](error_code ec, std::size_t n) {
      if (gen != gen_) return;
      if (ec == asio::error::eof) return Fail("connection closed by the server");
      if (ec) return Fail("read: " + ec.message());
      // Parsed outside mu_ (only this thread touches the parser), matched under it once
      // for every reply this read brought.
      if (Status fed = mux_.Feed(read_buf_.data(), n); !fed.ok()) {
        return Fail(fed.error().message());
      }
      std::optional<std::string> fail = ParseReplies();
      ReadOwnership::Steps steps;
      {
        std::lock_guard lock(mu_);
        MatchRepliesLocked(done_, fail);
        // Nothing in flight: the io thread stops watching the socket, so that the next
        // caller may read its reply itself.
        if (!fail) {
          FlushAfterRepliesLocked(done_);
          steps = own_.IoReadDone(BusyLocked());
          PerformLocked(steps);
        }
      }
      RunAll(done_);
      if (gen != gen_) return;
      if (fail) return Fail(*fail);
      if (steps.read_again) StartRead(gen);
    });
  }

  // Drops the connection and fails everything pending; the next command reconnects.
  void Fail(const std::string& why) {
    std::vector<Completion> failed;
    {
      // After this no caller sends on the old socket, so closing it below is safe.
      std::lock_guard lock(mu_);
      ++gen_;
      state_ = State::kDisconnected;
      const int fd = fd_;
      fd_ = -1;
      writing_ = false;
      failed = mux_.LoseConnection(why);
      error_code ec;
      if (own_.Lost().wake_caller) {
        ::shutdown(fd, SHUT_RDWR);  // wakes the reading caller, which closes it
      } else if (socket_.is_open()) {
        socket_.close(ec);
      } else if (fd >= 0) {
        ::close(fd);  // nobody reads: nobody else holds it
      }
    }
    last_error_ = why;
    error_code ec;
    resolver_.cancel();
    connect_timer_.cancel();
    sentinel_.Cancel();
    RunAll(failed);
  }

  const RedisUrl url_;
  const Options options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::generic::stream_protocol::socket socket_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  ReconnectGate gate_;
  SentinelClient sentinel_;
  SentinelResolver discovery_;  // sentinel URLs only
  HostPort target_;             // TCP: from the URL, or the master the sentinels named
  MaxmemoryPolicyWatch policy_;
  std::string last_error_ = "never connected";
  std::vector<Endpoint> endpoints_;
  Endpoint::protocol_type protocol_ = Endpoint().protocol();  // of the connected socket
  // Used by whoever reads (Reader): the replies of one read. The io thread's buffer.
  std::vector<RedisReply> replies_;
  std::array<char, 16384> read_buf_{};
  std::vector<Completion> done_;  // of one read by the io thread, to run
  // Shared with the callers' threads: written under mu_ (the io thread may read state_
  // and gen_ without it, since only the io thread writes them).
  std::mutex mu_;
  State state_ = State::kDisconnected;
  std::uint64_t gen_ = 0;
  int fd_ = -1;  // the connected socket, for callers' send(2)
  RedisMultiplexer mux_;
  bool writing_ = false;       // the io thread is sending the rest of a write
  bool flush_posted_ = false;  // a FlushLocked() is queued for the io thread
  ReadOwnership own_;          // who reads the socket
  std::thread thread_;
};

RedisConnection::RedisConnection(RedisUrl url, Options options)
    : impl_(std::make_unique<Impl>(std::move(url), std::move(options))) {}

RedisConnection::~RedisConnection() = default;

Result<RedisReply> RedisConnection::Execute(const std::vector<std::string>& argv,
                                            Deadline deadline) {
  return impl_->Execute(EncodeCommand(argv), deadline);
}

Result<RedisReply> RedisConnection::ExecuteEncoded(std::string wire, Deadline deadline) {
  return impl_->Execute(std::move(wire), deadline);
}

void RedisConnection::Submit(std::string wire, Deadline deadline, Callback done) {
  impl_->Submit(std::move(wire), deadline, std::move(done));
}

void RedisConnection::Connect() { impl_->Connect(); }

}  // namespace floodgate::store
