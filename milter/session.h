// Session: what floodgate remembers about one SMTP connection between libmilter
// callbacks. Owned through smfi_setpriv (libmilter may run one session's callbacks on
// different worker threads, never two at once), created at connect, freed at close.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/classify.h"
#include "policy/config.h"
#include "policy/facts.h"
#include "policy/planner.h"

namespace floodgate::milter {

struct Session {
  policy::Facts facts;
  // Per transaction (reset at MAIL FROM, end of message and abort):
  std::shared_ptr<const policy::Config> config;  // snapshot taken at MAIL FROM
  policy::ChargedLimits charged;                 // message-counted limits charged so far
  bool accepted = false;                         // a recipient was accepted
  std::int64_t recipients = 0;                   // recipients seen (local submissions)
  std::int64_t external_recipients = 0;          // ... of them outside local_domains
  std::string hold_reason;                       // non-empty: hold the message at its end
  std::vector<std::string> held_keys;            // ... and record it in these lists
  // Local submissions: the distinct domain tokens of the recipients, and of those outside
  // local_domains (at most kMaxDomains each: more say nothing more to a limit).
  std::vector<std::string> domains;
  std::vector<std::string> external_domains;
  static constexpr std::size_t kMaxDomains = 1000;

  void AddDomain(const policy::RecipientFacts& r) {
    auto add = [&](std::vector<std::string>& to) {
      if (to.size() >= kMaxDomains) return;
      for (const std::string& d : to) {
        if (d == r.domain_token) return;
      }
      to.push_back(r.domain_token);
    };
    add(domains);
    if (!r.local) add(external_domains);
  }

  void ResetTransaction() {
    config.reset();
    charged.Clear();
    accepted = false;
    recipients = 0;
    external_recipients = 0;
    hold_reason.clear();
    held_keys.clear();
    domains.clear();
    external_domains.clear();
    facts.account.clear();
    facts.sender.clear();
    facts.traffic = policy::Traffic::kInbound;
  }
};

// Builds the connection facts from what xxfi_connect gets. `hostaddr` may be null.
// A sendmail submission reaches the milter from cleanup with 127.0.0.1 and port 0 (a real
// SMTP client always has a non-zero port): that marks local_submission.
policy::Facts ConnectFacts(const sockaddr* hostaddr);

}  // namespace floodgate::milter
