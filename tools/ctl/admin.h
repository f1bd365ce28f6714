// Admin: the operations behind floodgatectl, against the store a floodgate.toml names.
// Each returns its result as JSON (nlohmann::json): `--json` prints it as is, otherwise
// render.h turns it into a table. Failures are Error values with a message for the admin.
// Thread-safety: one Admin per thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "floodgate/result.h"
#include "policy/config.h"
#include "policy/subject.h"
#include "policy/verdict.h"
#include "store/redis_store.h"

namespace floodgate::ctl {

using Json = nlohmann::json;

class Admin {
 public:
  Admin(policy::Config config, store::RedisStore& redis)
      : config_(std::move(config)), redis_(redis) {}

  Result<Json> Status();
  Result<Json> Show(const policy::Subject& subject);
  Result<Json> Top(int count);
  Result<Json> Lock(const policy::Subject& subject, std::int64_t ttl_s, const std::string& reason);
  Result<Json> Unlock(const policy::Subject& subject);
  Result<Json> Reset(const policy::Subject& subject);
  Result<Json> Events(int count);
  // The queue ids floodgate recorded for the subject (newest last).
  Result<std::vector<std::string>> QueueIds(const policy::Subject& subject);

 private:
  Result<Micros> Now();
  Result<store::RedisReply> Run(std::vector<std::string> argv);
  Result<Json> LockState(const policy::Subject& subject);
  void RecordEvent(const policy::Alert& alert);

  policy::Config config_;
  store::RedisStore& redis_;
};

// The store list of recent events: key_prefix + "events".
std::string EventsKey(const policy::Config& config);

}  // namespace floodgate::ctl
