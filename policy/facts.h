// Facts: what floodgate knows about one SMTP transaction when it decides, already
// normalised (lower-cased login and sender, parsed client address). Built by milter/
// from libmilter callbacks; read by the planner. Thread-safety: plain value.
#pragma once

#include <optional>
#include <string>

#include "policy/network.h"
#include "policy/traffic.h"

namespace floodgate::policy {

struct Facts {
  std::optional<Address> client;        // nullopt when Postfix did not know it
  bool local_submission = false;        // sendmail/pickup mail via non_smtpd_milters
  std::string account;                  // SASL login, lower-cased; empty when not authenticated
  std::string sender;                   // envelope sender, lower-cased, no <>; empty: null sender
  Traffic traffic = Traffic::kInbound;  // decided once per transaction (classify.h)
};

// Lower-cases ASCII letters; other bytes are kept as they are.
std::string Lower(std::string_view s);

// "<Alice@Example.ORG>" -> "alice@example.org"; "<>" -> "".
std::string NormaliseAddress(std::string_view mail_from);

// The part after the last '@', or "" when there is none.
std::string_view DomainOf(std::string_view address);

}  // namespace floodgate::policy
