// Admin: the operations behind floodgatectl, on any AdminBackend: the Redis store
// (floodgatectl talks to it directly) or the memory store inside the daemon (reached
// through the admin socket, where the daemon runs these same operations). Each returns
// its result as JSON (nlohmann::json): `--json` prints it as is, otherwise floodgatectl
// turns it into a table. Failures are Error values with a message for the admin.
// Thread-safety: one Admin per thread.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "admin/admin_backend.h"
#include "floodgate/result.h"
#include "policy/config.h"
#include "policy/subject.h"
#include "policy/verdict.h"

namespace floodgate::admin {

using Json = nlohmann::json;

class Admin {
 public:
  // `notify` tells the world of a lock or unlock made here (syslog, alert_command); the
  // event is also appended to the store's events list, as the daemon does for its own.
  using Notify = std::function<void(const policy::Alert&)>;
  Admin(policy::Config config, AdminBackend& backend, Notify notify)
      : config_(std::move(config)), backend_(backend), notify_(std::move(notify)) {}

  Result<Json> Status();
  Result<Json> Show(const policy::Subject& subject);
  Result<Json> Top(int count);
  Result<Json> Lock(const policy::Subject& subject, std::int64_t ttl_s, const std::string& reason);
  Result<Json> Unlock(const policy::Subject& subject);
  Result<Json> Reset(const policy::Subject& subject);
  Result<Json> Events(int count);
  // The digest of the events of the last `since_s` seconds (report.h), with what is
  // locked now.
  Result<Json> Report(std::int64_t since_s);
  // The queue ids floodgate recorded for the subject (oldest first): its accepted
  // messages and the ones it put on hold.
  Result<std::vector<std::string>> QueueIds(const policy::Subject& subject);
  // Forgets the subject's held queue ids (after `queue --release` or `--delete` ended
  // those holds), so that they no longer count towards hold_max.
  Result<Json> ForgetHeld(const policy::Subject& subject);
  // {"account:alice@example.org": [queue ids, oldest first], ...}: every subject with
  // messages floodgate put on hold (whether Postfix still has them is the caller's
  // question: postqueue).
  Result<Json> Held();

 private:
  Result<Json> LockState(const policy::Subject& subject);
  // The subject's limit keys, one per limit of its kind.
  std::vector<std::string> LimitKeys(const policy::Subject& subject) const;
  void RecordEvent(const policy::Alert& alert);

  policy::Config config_;
  AdminBackend& backend_;
  Notify notify_;
};

// The store list of recent events: key_prefix + "events".
std::string EventsKey(const policy::Config& config);

}  // namespace floodgate::admin
