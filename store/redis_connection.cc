#include "store/redis_connection.h"

#include <sys/socket.h>

#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <string_view>
#include <thread>

#include "store/sentinel_client.h"
#include "store/sentinel_resolver.h"

namespace floodgate::store {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Endpoint = asio::generic::stream_protocol::endpoint;
using SteadyClock = std::chrono::steady_clock;

struct Request {
  std::string wire;
  Deadline deadline;
  RedisConnection::Callback done;   // runs once, on the io thread, with the outcome (none
                                    // for handshake commands)
  const char* handshake = nullptr;  // "AUTH"/"SELECT"/"ROLE": an error fails the connection
};
using RequestPtr = std::unique_ptr<Request>;

}  // namespace

bool ReconnectGate::TryAttempt(Deadline now) {
  if (last_attempt_ && now - *last_attempt_ < backoff_) return false;
  last_attempt_ = now;
  return true;
}

// Everything below runs on the io thread, except Submit(), Execute() and the
// constructor/destructor. Every asynchronous handler carries the connection generation it
// was started for and ignores itself once Fail() has moved on to a new generation.
//
// The write side (state_, fd_, gen_, inflight_, next_buf_, writing_) is shared with the
// callers' threads under mu_: when the connection is up, Submit() enqueues on the
// caller's thread and, if no write is in flight, sends at once with a non-blocking
// send(2). That saves waking the io thread for every command; the io thread still reads
// every reply, completes every callback, and does everything else (connecting, failing,
// the rest of a partial write). Callbacks never run under mu_: they may Submit() again.
class RedisConnection::Impl {
 public:
  Impl(RedisUrl url, Options options)
      : url_(std::move(url)),
        options_(options),
        work_(asio::make_work_guard(io_)),
        socket_(io_),
        resolver_(io_),
        connect_timer_(io_),
        gate_(options.reconnect_backoff),
        sentinel_(io_),
        discovery_(url_.sentinels, url_.master_name),
        target_{url_.host, url_.port} {
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    asio::post(io_, [this] { Fail("connection closed"); });
    work_.reset();
    thread_.join();
  }

  void Submit(std::string wire, Deadline deadline, Callback done) {
    auto req = std::make_unique<Request>();
    req->wire = std::move(wire);
    req->deadline = deadline;
    req->done = std::move(done);
    {
      // The common case, on the caller's thread: connected, healthy, in time.
      const auto now = SteadyClock::now();  // read before the lock: less time holding it
      std::lock_guard lock(mu_);
      if (state_ == State::kConnected && now < req->deadline && !StalledLocked(now)) {
        EnqueueLocked(std::move(req));
        // Alone: send it now. Behind others: the io thread sends everything that queued
        // up in one write, woken once for all of them (auto-pipelining).
        if (inflight_.size() == 1) {
          FlushLocked();
        } else if (!flush_posted_) {
          flush_posted_ = true;
          asio::post(io_, [this] {
            std::lock_guard lock(mu_);
            flush_posted_ = false;
            FlushLocked();
          });
        }
        return;
      }
    }
    asio::post(io_, [this, r = std::move(req)]() mutable { OnSubmit(std::move(r)); });
  }

  // Submit() and wait. The promise is shared with the callback: a caller that gave up at
  // its deadline must not leave the io thread completing a destroyed promise.
  Result<RedisReply> Execute(std::string wire, Deadline deadline) {
    auto promise = std::make_shared<std::promise<Result<RedisReply>>>();
    std::future<Result<RedisReply>> reply = promise->get_future();
    Submit(std::move(wire), deadline,
           [promise](Result<RedisReply> r) { promise->set_value(std::move(r)); });
    if (reply.wait_until(deadline) != std::future_status::ready) {
      return Error(ErrorKind::kTimeout, "redis: no reply within the deadline");
    }
    return reply.get();
  }

 private:
  enum class State { kDisconnected, kConnecting, kConnected };

  static void Complete(Request& r, Result<RedisReply> result) {
    if (r.done) r.done(std::move(result));
  }

  void OnSubmit(RequestPtr r) {
    const auto now = SteadyClock::now();
    if (now >= r->deadline) {  // the caller has given up: do not send it at all
      Complete(*r, Error(ErrorKind::kTimeout, "redis: deadline passed before sending"));
      return;
    }
    if (state_ == State::kConnected && Stalled(now)) Fail("no reply: server hung");
    switch (state_) {
      case State::kConnected: {
        std::lock_guard lock(mu_);
        EnqueueLocked(std::move(r));
        FlushLocked();
        return;
      }
      case State::kConnecting:
        queued_.push_back(std::move(r));
        return;
      case State::kDisconnected:
        if (!gate_.TryAttempt(now)) {
          Complete(*r, Error(ErrorKind::kUnavailable, "redis: not connected: " + last_error_));
          return;
        }
        queued_.push_back(std::move(r));
        StartConnect();
        return;
    }
  }

  bool Stalled(Deadline now) {
    std::lock_guard lock(mu_);
    return StalledLocked(now);
  }

  bool StalledLocked(Deadline now) const {
    if (inflight_.empty()) return false;
    return now - inflight_.front()->deadline > options_.stall_timeout;
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
      OnConnected(gen);
    });
  }

  void OnConnected(std::uint64_t gen) {
    connect_timer_.cancel();
    error_code ec;
    if (url_.kind != RedisUrl::Kind::kUnix) socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    std::vector<RequestPtr> late;
    std::unique_lock lock(mu_);
    state_ = State::kConnected;
    fd_ = socket_.native_handle();
    // The handshake goes first in the pipeline; whatever waited for the connection follows.
    if (!url_.password.empty()) {
      Handshake(url_.user.empty() ? std::vector<std::string>{"AUTH", url_.password}
                                  : std::vector<std::string>{"AUTH", url_.user, url_.password},
                "AUTH");
    }
    if (url_.db != 0) Handshake({"SELECT", std::to_string(url_.db)}, "SELECT");
    // A sentinel may name a master that has since been demoted: make sure. Commands
    // pipelined behind ROLE fail with the connection if it is not a master.
    if (sentinel()) Handshake({"ROLE"}, "ROLE");
    const auto now = SteadyClock::now();
    while (!queued_.empty()) {
      RequestPtr r = std::move(queued_.front());
      queued_.pop_front();
      if (now >= r->deadline) {
        late.push_back(std::move(r));
      } else {
        EnqueueLocked(std::move(r));
      }
    }
    FlushLocked();
    lock.unlock();
    for (RequestPtr& r : late) {
      Complete(*r, Error(ErrorKind::kTimeout, "redis: deadline passed while connecting"));
    }
    StartRead(gen);
  }

  void Handshake(const std::vector<std::string>& argv, const char* what) {
    auto r = std::make_unique<Request>();
    r->wire = EncodeCommand(argv);
    r->deadline = SteadyClock::now() + options_.connect_timeout;
    r->handshake = what;
    EnqueueLocked(std::move(r));  // called with mu_ held, by OnConnected
  }

  void EnqueueLocked(RequestPtr r) {
    next_buf_ += r->wire;
    r->wire.clear();
    inflight_.push_back(std::move(r));
  }

  // Writes everything enqueued since the last write began (auto-pipelining), from
  // whichever thread holds mu_: a non-blocking send(2) first, which usually takes it all;
  // what the socket does not take goes to the io thread as an async_write, and later
  // commands queue behind it until it is done.
  void FlushLocked() {
    if (writing_ || next_buf_.empty() || fd_ < 0) return;
    const ssize_t n = ::send(fd_, next_buf_.data(), next_buf_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(next_buf_.size())) {
      next_buf_.clear();
      return;
    }
    const int err = errno;
    if (n > 0) next_buf_.erase(0, static_cast<std::size_t>(n));
    writing_ = true;  // nobody else writes until the io thread has sent the rest
    const std::uint64_t gen = gen_;
    if (n < 0 && err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
      std::string why = std::string("write: ") + std::strerror(err);
      asio::post(io_, [this, gen, why = std::move(why)] {
        if (gen == gen_) Fail(why);
      });
      return;
    }
    asio::post(io_, [this, gen] { WriteRest(gen); });
  }

  void WriteRest(std::uint64_t gen) {
    std::shared_ptr<std::string> buf;
    {
      std::lock_guard lock(mu_);
      if (gen != gen_) return;
      buf = std::make_shared<std::string>(std::move(next_buf_));
      next_buf_.clear();
    }
    asio::async_write(socket_, asio::buffer(*buf), [this, gen, buf](error_code ec, std::size_t) {
      std::unique_lock lock(mu_);
      if (gen != gen_) return;
      writing_ = false;
      if (ec) {
        lock.unlock();
        return Fail("write: " + ec.message());
      }
      FlushLocked();
    });
  }

  void StartRead(std::uint64_t gen) {
    socket_.async_read_some(asio::buffer(read_buf_), [this, gen](error_code ec, std::size_t n) {
      if (gen != gen_) return;
      if (ec == asio::error::eof) return Fail("connection closed by the server");
      if (ec) return Fail("read: " + ec.message());
      if (Status fed = reader_.Feed(read_buf_.data(), n); !fed.ok()) {
        return Fail(fed.error().message());
      }
      for (;;) {
        Result<std::optional<RedisReply>> reply = reader_.Next();
        if (!reply.ok()) return Fail(reply.error().message());
        if (!reply->has_value()) break;
        if (!OnReply(std::move(**reply))) return;
      }
      StartRead(gen);
    });
  }

  // Completes the oldest request in flight; false when the connection was failed.
  bool OnReply(RedisReply reply) {
    RequestPtr r;
    {
      std::lock_guard lock(mu_);
      if (!inflight_.empty()) {
        r = std::move(inflight_.front());
        inflight_.pop_front();
      }
    }
    if (!r) {
      Fail("reply without a request");
      return false;
    }
    if (r->handshake != nullptr && reply.is_error()) {
      Fail(std::string(r->handshake) + " failed: " + reply.str);
      return false;
    }
    if (r->handshake != nullptr && std::string_view(r->handshake) == "ROLE" &&
        !IsMasterRole(reply)) {
      Fail(Where() + " is not a master");
      return false;
    }
    // A master demoted by a failover refuses writes (READONLY), and so does an old master
    // that lost its replicas to the new one under min-replicas-to-write (NOREPLICAS): find
    // the master again.
    const bool demoted = sentinel() && reply.is_error() &&
                         (reply.str.starts_with("READONLY") || reply.str.starts_with("NOREPLICAS"));
    Complete(*r, std::move(reply));
    if (demoted) {
      Fail(Where() + " is no longer the master");
      return false;
    }
    return true;
  }

  // Drops the connection and fails everything pending; the next command reconnects.
  void Fail(const std::string& why) {
    std::deque<RequestPtr> failed;
    {
      // After this no caller sends on the old socket, so closing it below is safe.
      std::lock_guard lock(mu_);
      ++gen_;
      state_ = State::kDisconnected;
      fd_ = -1;
      writing_ = false;
      next_buf_.clear();
      failed.swap(inflight_);
    }
    last_error_ = why;
    error_code ec;
    socket_.close(ec);
    resolver_.cancel();
    connect_timer_.cancel();
    sentinel_.Cancel();
    reader_.Reset();
    for (auto& r : queued_) failed.push_back(std::move(r));
    queued_.clear();
    for (RequestPtr& r : failed) Complete(*r, Error(ErrorKind::kUnavailable, "redis: " + why));
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
  ReplyReader reader_;
  std::string last_error_ = "never connected";
  std::vector<Endpoint> endpoints_;
  std::deque<RequestPtr> queued_;  // waiting for the connection
  // Shared with the callers' threads: written under mu_ (the io thread may read state_
  // and gen_ without it, since only the io thread writes them).
  std::mutex mu_;
  State state_ = State::kDisconnected;
  std::uint64_t gen_ = 0;
  int fd_ = -1;                      // the connected socket, for callers' send(2)
  std::deque<RequestPtr> inflight_;  // enqueued or written, awaiting replies in FIFO order
  std::string next_buf_;             // encoded commands not yet sent
  bool writing_ = false;             // the io thread is sending (part of) next_buf_
  bool flush_posted_ = false;        // a FlushLocked() is queued for the io thread
  std::array<char, 16384> read_buf_{};
  std::thread thread_;
};

RedisConnection::RedisConnection(RedisUrl url, Options options)
    : impl_(std::make_unique<Impl>(std::move(url), options)) {}

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

}  // namespace floodgate::store
