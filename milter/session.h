// Session: what floodgate remembers about one SMTP connection between libmilter
// callbacks. Owned through smfi_setpriv (libmilter may run one session's callbacks on
// different worker threads, never two at once), created at connect, freed at close.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "policy/config.h"
#include "policy/facts.h"

namespace floodgate::milter {

struct Session {
  policy::Facts facts;
  // Per transaction (reset at MAIL FROM, end of message and abort):
  std::shared_ptr<const policy::Config> config;  // snapshot taken at MAIL FROM
  bool message_charged = false;                  // a recipient was accepted
  std::int64_t recipients = 0;                   // recipients seen (local submissions)

  void ResetTransaction() {
    config.reset();
    message_charged = false;
    recipients = 0;
    facts.account.clear();
    facts.sender.clear();
  }
};

// Builds the connection facts from what xxfi_connect gets. `hostaddr` may be null.
// A sendmail submission reaches the milter from cleanup with 127.0.0.1 and port 0 (a real
// SMTP client always has a non-zero port): that marks local_submission.
policy::Facts ConnectFacts(const sockaddr* hostaddr);

}  // namespace floodgate::milter
