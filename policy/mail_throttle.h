// MailThrottle: how many alert mails may go out — at most one per (event, subject) an
// hour and at most 20 an hour in all, so an attack cannot flood the admin's mailbox (or
// the mail queue) with notices. A mail that may not go is counted; the next mail that
// goes out carries the counts, by event, so the admin learns how many were held back
// (every event is in syslog and `floodgatectl events` anyway).
// Memory is bounded: it remembers only the mails sent in the last hour (at most 20) and
// one counter per event name (at most kMaxEventNames).
// Thread-safety: none; the caller serialises calls.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace floodgate::policy {

class MailThrottle {
 public:
  static constexpr std::int64_t kPeriodS = 3600;
  static constexpr std::size_t kMaxPerPeriod = 20;
  static constexpr std::size_t kMaxEventNames = 16;

  struct Decision {
    bool send = false;
    // When send: the mails suppressed since the last one sent, by event (then reset).
    std::vector<std::pair<std::string, int>> suppressed;
  };

  // `now_s`: seconds on a monotonic clock.
  Decision Admit(const std::string& event, const std::string& subject, std::int64_t now_s);

 private:
  struct Sent {
    std::int64_t at;
    std::string key;  // event + '\n' + subject
  };
  std::deque<Sent> sent_;  // oldest first, the last hour only
  std::map<std::string, int> suppressed_;
};

}  // namespace floodgate::policy
