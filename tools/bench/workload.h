// What floodgate-bench sends: the shape of the simulated mail (accounts, client addresses,
// recipients, messages per connection) and the shared queue of messages still to send.
//
// Thread-safety: WorkloadOptions and the name functions are plain values and pure
// functions. WorkQueue is shared by every session on every thread; its members are
// atomics and safe to call concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace floodgate::bench {

struct WorkloadOptions {
  std::uint64_t accounts = 1000;     // distinct {auth_authen}; 0 sends unauthenticated mail
  bool random_accounts = false;      // pick accounts at random instead of round-robin
  std::uint64_t addresses = 256;     // distinct client addresses, one per connection
  int rcpts = 1;                     // recipients per message
  int messages_per_connection = 10;  // messages per simulated SMTP session
  std::size_t body_bytes = 2000;     // body size, sent only if the milter wants bodies
};

// Hands out message numbers until the message budget is spent or the deadline passes.
class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;
  // max_messages < 0: no message limit; deadline: Clock::time_point::max() for none.
  WorkQueue(std::int64_t max_messages, Clock::time_point deadline)
      : max_messages_(max_messages), deadline_(deadline) {}

  // The next message number (0, 1, 2, ...), or nullopt once the run is over.
  std::optional<std::uint64_t> Claim();
  // The next connection number (0, 1, 2, ...), used to pick the client address.
  std::uint64_t NextConnection() { return connections_.fetch_add(1, std::memory_order_relaxed); }
  void Stop() { stopped_.store(true, std::memory_order_relaxed); }
  // Connect outcomes: after kMaxConnectFailuresInARow failures with no success in between
  // the target is taken to be down and the run stops, instead of spending the whole
  // message budget on refused connects. Returns true once, when that happens.
  static constexpr int kMaxConnectFailuresInARow = 100;
  bool ConnectFailed();
  void ConnectSucceeded() { connect_failures_.store(0, std::memory_order_relaxed); }
  bool stopped() const { return stopped_.load(std::memory_order_relaxed); }

 private:
  const std::int64_t max_messages_;
  const Clock::time_point deadline_;
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<int> connect_failures_{0};
};

// The account (SASL login) of message n: "user<k>@example.org".
std::string AccountFor(const WorkloadOptions& w, std::uint64_t message);
// The envelope sender of message n: the account's address, or an anonymous sender when
// accounts == 0.
std::string SenderFor(const WorkloadOptions& w, std::uint64_t message);
// Recipient r of message n: "rcpt<n*rcpts+r>@example.net".
std::string RecipientFor(const WorkloadOptions& w, std::uint64_t message, int r);
// The client address of connection c: 10.0.0.1, 10.0.0.2, ... (addresses distinct ones,
// cycling), never a network or broadcast-looking .0 / .255.
std::string ClientAddressFor(const WorkloadOptions& w, std::uint64_t connection);
// A Postfix-looking queue id for message n (upper-case hex, 10 characters).
std::string QueueIdFor(std::uint64_t message);

}  // namespace floodgate::bench
