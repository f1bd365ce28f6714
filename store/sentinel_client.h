// SentinelClient: asks one Redis Sentinel one command, asynchronously, on the io thread of
// the RedisConnection that discovers its master through it.
//
// Each Ask() opens a fresh TCP connection (sentinels are asked rarely: on connect and after
// a failure), sends the command, reads one reply and closes; the whole exchange has its own
// deadline so a dead or hung sentinel costs at most that before the next one is asked.
// With `auth` (AUTH [user] password, from the URL's sentinel_password) that goes first in
// the same write, and an error reply to it fails the Ask().
// Thread-safety: none; every call, and `done`, run on the io_context's thread.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "floodgate/result.h"
#include "store/redis_reply.h"
#include "store/redis_url.h"

namespace floodgate::store {

class SentinelClient {
 public:
  using Done = std::function<void(Result<RedisReply>)>;

  explicit SentinelClient(boost::asio::io_context& io);
  SentinelClient(const SentinelClient&) = delete;
  SentinelClient& operator=(const SentinelClient&) = delete;

  // Sends `argv` to `addr` (after `auth`, when not empty); calls `done` exactly once with
  // the reply (an error reply is a reply) or an Error (kUnavailable, kTimeout after
  // `timeout`; kUnavailable when AUTH is refused) — unless Cancel() or another Ask()
  // comes first. Replaces any Ask() in flight.
  void Ask(const HostPort& addr, const std::vector<std::string>& argv,
           std::chrono::milliseconds timeout, Done done, const std::vector<std::string>& auth = {});
  // Abandons the Ask() in flight, if any, without calling its `done`.
  void Cancel();

 private:
  void OnConnected(std::uint64_t gen);
  void StartRead(std::uint64_t gen);
  void Finish(Result<RedisReply> result);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer timer_;
  ReplyReader reader_;
  std::uint64_t gen_ = 0;  // handlers of an abandoned Ask() see a newer generation and stop
  Done done_;
  std::string wire_;
  bool awaiting_auth_ = false;  // the next reply answers AUTH
  std::array<char, 1024> read_buf_{};
};

}  // namespace floodgate::store
