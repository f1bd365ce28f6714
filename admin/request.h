// Request: one floodgatectl command as data. floodgatectl builds it from its command line
// and either performs it itself (Redis store) or sends it over the daemon's admin socket
// (memory store), where the daemon performs it: Perform() is the one place that maps a
// command to Admin, whichever side runs it.
// Thread-safety: pure functions (Perform: as the Admin it is given).
#pragma once

#include <cstdint>
#include <string>

#include "admin/admin.h"
#include "floodgate/result.h"

namespace floodgate::admin {

struct Request {
  // status, show, top, lock, unlock, reset, events, report, queue-ids
  std::string op;
  std::string subject;     // show, lock, unlock, reset, queue-ids: "account:alice@example.org"
  int count = 20;          // top, events
  std::int64_t ttl_s = 0;  // lock: 0 until unlocked
  std::string reason;      // lock
  std::int64_t since_s = 86400;  // report: the last this many seconds
};

Json ToJson(const Request& r);
// Refuses an unknown op, a missing or malformed subject, or fields of the wrong type.
Result<Request> RequestFromJson(const Json& j);

// The command's result: what `floodgatectl --json` prints (queue-ids: an array of ids,
// oldest first).
Result<Json> Perform(Admin& admin, const Request& r);

}  // namespace floodgate::admin
