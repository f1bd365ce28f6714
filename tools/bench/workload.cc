#include "tools/bench/workload.h"

#include <cstdio>

namespace floodgate::bench {
namespace {

// splitmix64: a cheap, well-mixed hash so "random" account picks are reproducible.
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::optional<std::uint64_t> WorkQueue::Claim() {
  if (stopped()) return std::nullopt;
  if (deadline_ != Clock::time_point::max() && Clock::now() >= deadline_) {
    Stop();
    return std::nullopt;
  }
  const std::uint64_t n = next_.fetch_add(1, std::memory_order_relaxed);
  if (max_messages_ >= 0 && n >= static_cast<std::uint64_t>(max_messages_)) {
    Stop();
    return std::nullopt;
  }
  return n;
}

bool WorkQueue::ConnectFailed() {
  const int n = connect_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n < kMaxConnectFailuresInARow) return false;
  Stop();
  return n == kMaxConnectFailuresInARow;  // report it once
}

std::string AccountFor(const WorkloadOptions& w, std::uint64_t message) {
  if (w.accounts == 0) return {};
  const std::uint64_t k = (w.random_accounts ? Mix(message) : message) % w.accounts;
  return "user" + std::to_string(k) + "@example.org";
}

std::string SenderFor(const WorkloadOptions& w, std::uint64_t message) {
  if (w.accounts == 0) return "anonymous" + std::to_string(message % 1000) + "@example.com";
  return AccountFor(w, message);
}

std::string RecipientFor(const WorkloadOptions& w, std::uint64_t message, int r) {
  return "rcpt" + std::to_string(message * static_cast<std::uint64_t>(w.rcpts) + r) +
         "@example.net";
}

std::string ClientAddressFor(const WorkloadOptions& w, std::uint64_t connection) {
  const std::uint64_t distinct = w.addresses == 0 ? 1 : w.addresses;
  const std::uint64_t i = connection % distinct;
  // 254 usable host numbers per /24: 1..254.
  const std::uint64_t host = i % 254 + 1;
  const std::uint64_t net = i / 254;
  char buf[32];
  std::snprintf(buf, sizeof buf, "10.%u.%u.%u", static_cast<unsigned>((net >> 8) & 0xff),
                static_cast<unsigned>(net & 0xff), static_cast<unsigned>(host));
  return buf;
}

std::string QueueIdFor(std::uint64_t message) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%010llX",
                static_cast<unsigned long long>(message & 0xffffffffffULL));
  return buf;
}

}  // namespace floodgate::bench
