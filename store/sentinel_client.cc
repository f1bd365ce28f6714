#include "store/sentinel_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <memory>

namespace floodgate::store {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

}  // namespace

SentinelClient::SentinelClient(asio::io_context& io) : socket_(io), resolver_(io), timer_(io) {}

void SentinelClient::Ask(const HostPort& addr, const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout, Done done,
                         const std::vector<std::string>& auth) {
  Cancel();
  const std::uint64_t gen = gen_;
  done_ = std::move(done);
  awaiting_auth_ = !auth.empty();
  wire_ = awaiting_auth_ ? EncodeCommand(auth) + EncodeCommand(argv) : EncodeCommand(argv);
  reader_.Reset();
  timer_.expires_after(timeout);
  timer_.async_wait([this, gen, timeout](error_code ec) {
    if (ec || gen != gen_) return;
    Finish(
        Error(ErrorKind::kTimeout, "no answer within " + std::to_string(timeout.count()) + " ms"));
  });
  auto connect = [this, gen](const auto& endpoints) {
    asio::async_connect(socket_, endpoints, [this, gen](error_code ec, const tcp::endpoint&) {
      if (gen != gen_) return;
      if (ec) return Finish(Error(ErrorKind::kUnavailable, "connect: " + ec.message()));
      OnConnected(gen);
    });
  };
  error_code ec;
  const asio::ip::address ip = asio::ip::make_address(addr.host, ec);
  if (!ec) {
    connect(std::vector<tcp::endpoint>{{ip, static_cast<std::uint16_t>(addr.port)}});
    return;
  }
  resolver_.async_resolve(
      addr.host, std::to_string(addr.port),
      [this, gen, connect](error_code ec, const tcp::resolver::results_type& results) {
        if (gen != gen_) return;
        if (ec) return Finish(Error(ErrorKind::kUnavailable, "cannot resolve: " + ec.message()));
        connect(results);
      });
}

void SentinelClient::OnConnected(std::uint64_t gen) {
  // The buffer lives as long as the write, even if a new Ask() replaces wire_ meanwhile.
  auto buf = std::make_shared<std::string>(wire_);
  asio::async_write(socket_, asio::buffer(*buf), [this, gen, buf](error_code ec, std::size_t) {
    if (gen != gen_) return;
    if (ec) Finish(Error(ErrorKind::kUnavailable, "write: " + ec.message()));
  });
  StartRead(gen);
}

void SentinelClient::StartRead(std::uint64_t gen) {
  socket_.async_read_some(asio::buffer(read_buf_), [this, gen](error_code ec, std::size_t n) {
    if (gen != gen_) return;
    if (ec) return Finish(Error(ErrorKind::kUnavailable, "read: " + ec.message()));
    if (Status fed = reader_.Feed(read_buf_.data(), n); !fed.ok()) return Finish(fed.error());
    for (;;) {
      Result<std::optional<RedisReply>> reply = reader_.Next();
      if (!reply.ok()) return Finish(reply.error());
      if (!reply->has_value()) return StartRead(gen);
      if (!awaiting_auth_) return Finish(std::move(**reply));
      awaiting_auth_ = false;
      if ((*reply)->is_error()) {
        return Finish(Error(ErrorKind::kUnavailable, "AUTH refused: " + (*reply)->str));
      }
    }
  });
}

void SentinelClient::Finish(Result<RedisReply> result) {
  Done done = std::move(done_);
  Cancel();
  if (done) done(std::move(result));  // may Ask() again
}

void SentinelClient::Cancel() {
  ++gen_;
  done_ = nullptr;
  error_code ec;
  socket_.close(ec);
  timer_.cancel();
  resolver_.cancel();
}

}  // namespace floodgate::store
