#include "store/redis_connection.h"

#include <hiredis/hiredis.h>

#include <array>
#include <boost/asio.hpp>
#include <deque>
#include <future>
#include <thread>

namespace floodgate::store {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Endpoint = asio::generic::stream_protocol::endpoint;
using SteadyClock = std::chrono::steady_clock;

struct Request {
  std::string wire;
  Deadline deadline;
  std::promise<Result<RedisReply>> promise;
  const char* handshake = nullptr;  // "AUTH"/"SELECT": an error reply fails the connection
};
using RequestPtr = std::unique_ptr<Request>;

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      break;  // nil
  }
  return out;
}

}  // namespace

std::string EncodeCommand(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  const int len =
      redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), args.data(), lens.data());
  if (len < 0) return {};
  std::string out(cmd, static_cast<size_t>(len));
  redisFreeCommand(cmd);
  return out;
}

bool ReconnectGate::TryAttempt(Deadline now) {
  if (last_attempt_ && now - *last_attempt_ < backoff_) return false;
  last_attempt_ = now;
  return true;
}

// Everything below runs on the io thread, except Execute() and the constructor/destructor.
// Every asynchronous handler carries the connection generation it was started for and
// ignores itself once Fail() has moved on to a new generation.
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
        reader_(redisReaderCreate()) {
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    asio::post(io_, [this] { Fail("connection closed"); });
    work_.reset();
    thread_.join();
    redisReaderFree(reader_);
  }

  Result<RedisReply> Execute(const std::vector<std::string>& argv, Deadline deadline) {
    auto req = std::make_unique<Request>();
    req->wire = EncodeCommand(argv);
    if (req->wire.empty()) return Error(ErrorKind::kInternal, "redis: cannot encode command");
    req->deadline = deadline;
    std::future<Result<RedisReply>> reply = req->promise.get_future();
    asio::post(io_, [this, r = std::move(req)]() mutable { OnSubmit(std::move(r)); });
    if (reply.wait_until(deadline) != std::future_status::ready) {
      return Error(ErrorKind::kTimeout, "redis: no reply within the deadline");
    }
    return reply.get();
  }

 private:
  enum class State { kDisconnected, kConnecting, kConnected };

  static void Complete(Request& r, Result<RedisReply> result) {
    r.promise.set_value(std::move(result));
  }

  void OnSubmit(RequestPtr r) {
    const auto now = SteadyClock::now();
    if (now >= r->deadline) {  // the caller has given up: do not send it at all
      Complete(*r, Error(ErrorKind::kTimeout, "redis: deadline passed before sending"));
      return;
    }
    if (state_ == State::kConnected && Stalled(now)) Fail("no reply: server hung");
    switch (state_) {
      case State::kConnected:
        Enqueue(std::move(r));
        MaybeWrite();
        return;
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

  bool Stalled(Deadline now) const {
    if (inflight_.empty()) return false;
    return now - inflight_.front()->deadline > options_.stall_timeout;
  }

  void StartConnect() {
    state_ = State::kConnecting;
    const std::uint64_t gen = ++gen_;
    connect_timer_.expires_after(options_.connect_timeout);
    connect_timer_.async_wait([this, gen](error_code ec) {
      if (!ec && gen == gen_) Fail("connect timed out");
    });
    endpoints_.clear();
    if (url_.kind == RedisUrl::Kind::kUnix) {
      endpoints_.emplace_back(asio::local::stream_protocol::endpoint(url_.path));
      ConnectNext(0, gen);
      return;
    }
    error_code ec;
    const asio::ip::address addr = asio::ip::make_address(url_.host, ec);
    if (!ec) {
      endpoints_.emplace_back(asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(url_.port)));
      ConnectNext(0, gen);
      return;
    }
    resolver_.async_resolve(
        url_.host, std::to_string(url_.port),
        [this, gen](error_code ec, const asio::ip::tcp::resolver::results_type& results) {
          if (gen != gen_) return;
          if (ec) return Fail("cannot resolve " + url_.host + ": " + ec.message());
          for (const auto& entry : results) endpoints_.emplace_back(entry.endpoint());
          ConnectNext(0, gen);
        });
  }

  void ConnectNext(std::size_t i, std::uint64_t gen) {
    if (i >= endpoints_.size())
      return Fail("cannot connect to " + url_.Describe() + ": " + last_error_);
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
    state_ = State::kConnected;
    error_code ec;
    if (url_.kind == RedisUrl::Kind::kTcp) socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    // The handshake goes first in the pipeline; whatever waited for the connection follows.
    if (!url_.password.empty()) {
      Handshake(url_.user.empty() ? std::vector<std::string>{"AUTH", url_.password}
                                  : std::vector<std::string>{"AUTH", url_.user, url_.password},
                "AUTH");
    }
    if (url_.db != 0) Handshake({"SELECT", std::to_string(url_.db)}, "SELECT");
    const auto now = SteadyClock::now();
    while (!queued_.empty()) {
      RequestPtr r = std::move(queued_.front());
      queued_.pop_front();
      if (now >= r->deadline) {
        Complete(*r, Error(ErrorKind::kTimeout, "redis: deadline passed while connecting"));
      } else {
        Enqueue(std::move(r));
      }
    }
    StartRead(gen);
    MaybeWrite();
  }

  void Handshake(const std::vector<std::string>& argv, const char* what) {
    auto r = std::make_unique<Request>();
    r->wire = EncodeCommand(argv);
    r->deadline = SteadyClock::now() + options_.connect_timeout;
    r->handshake = what;
    Enqueue(std::move(r));
  }

  void Enqueue(RequestPtr r) {
    next_buf_ += r->wire;
    inflight_.push_back(std::move(r));
  }

  // Writes everything enqueued since the last write began: auto-pipelining.
  void MaybeWrite() {
    if (writing_ || next_buf_.empty()) return;
    auto buf = std::make_shared<std::string>(std::move(next_buf_));
    next_buf_.clear();
    writing_ = true;
    const std::uint64_t gen = gen_;
    asio::async_write(socket_, asio::buffer(*buf), [this, gen, buf](error_code ec, std::size_t) {
      if (gen != gen_) return;
      writing_ = false;
      if (ec) return Fail("write: " + ec.message());
      MaybeWrite();
    });
  }

  void StartRead(std::uint64_t gen) {
    socket_.async_read_some(asio::buffer(read_buf_), [this, gen](error_code ec, std::size_t n) {
      if (gen != gen_) return;
      if (ec == asio::error::eof) return Fail("connection closed by the server");
      if (ec) return Fail("read: " + ec.message());
      if (redisReaderFeed(reader_, read_buf_.data(), n) != REDIS_OK) {
        return Fail("cannot parse reply");
      }
      for (;;) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
          return Fail(std::string("protocol error: ") + reader_->errstr);
        }
        if (raw == nullptr) break;
        RedisReply reply = Convert(static_cast<redisReply*>(raw));
        freeReplyObject(raw);
        if (!OnReply(std::move(reply))) return;
      }
      StartRead(gen);
    });
  }

  // Completes the oldest request in flight; false when the connection was failed.
  bool OnReply(RedisReply reply) {
    if (inflight_.empty()) {
      Fail("reply without a request");
      return false;
    }
    RequestPtr r = std::move(inflight_.front());
    inflight_.pop_front();
    if (r->handshake != nullptr && reply.is_error()) {
      Fail(std::string(r->handshake) + " failed: " + reply.str);
      return false;
    }
    Complete(*r, std::move(reply));
    return true;
  }

  // Drops the connection and fails everything pending; the next command reconnects.
  void Fail(const std::string& why) {
    ++gen_;
    state_ = State::kDisconnected;
    last_error_ = why;
    error_code ec;
    socket_.close(ec);
    resolver_.cancel();
    connect_timer_.cancel();
    writing_ = false;
    next_buf_.clear();
    redisReaderFree(reader_);
    reader_ = redisReaderCreate();
    for (auto* q : {&inflight_, &queued_}) {
      for (RequestPtr& r : *q) Complete(*r, Error(ErrorKind::kUnavailable, "redis: " + why));
      q->clear();
    }
  }

  const RedisUrl url_;
  const Options options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::generic::stream_protocol::socket socket_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  ReconnectGate gate_;
  redisReader* reader_;
  State state_ = State::kDisconnected;
  std::uint64_t gen_ = 0;
  std::string last_error_ = "never connected";
  std::vector<Endpoint> endpoints_;
  std::deque<RequestPtr> queued_;    // waiting for the connection
  std::deque<RequestPtr> inflight_;  // enqueued or written, awaiting replies in FIFO order
  std::string next_buf_;             // encoded commands not yet handed to a write
  bool writing_ = false;
  std::array<char, 16384> read_buf_{};
  std::thread thread_;
};

RedisConnection::RedisConnection(RedisUrl url, Options options)
    : impl_(std::make_unique<Impl>(std::move(url), options)) {}

RedisConnection::~RedisConnection() = default;

Result<RedisReply> RedisConnection::Execute(const std::vector<std::string>& argv,
                                            Deadline deadline) {
  return impl_->Execute(argv, deadline);
}

}  // namespace floodgate::store
