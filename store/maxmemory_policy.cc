#include "store/maxmemory_policy.h"

namespace floodgate::store {
namespace {

constexpr const char* kAdvice =
    " Set maxmemory-policy noeviction (Redis then refuses writes when full, and floodgate "
    "applies store.on_error) and give Redis enough memory; volatile-* policies are not safe "
    "either, since every floodgate count and timed lock has a TTL.";

}  // namespace

std::vector<std::string> MaxmemoryPolicyWatch::Query() {
  return {"CONFIG", "GET", "maxmemory-policy"};
}

std::optional<std::string> MaxmemoryPolicyWatch::Observe(const std::string& where,
                                                         const Result<RedisReply>& reply) {
  if (!reply.ok()) return std::nullopt;  // no answer: the next connection asks again
  std::string policy;
  std::string why;
  if (reply->is_error()) {
    why = reply->str;
  } else if (reply->type == RedisReply::Type::kArray && reply->elements.size() == 2 &&
             reply->elements[1].type == RedisReply::Type::kString) {
    policy = reply->elements[1].str;
  } else {
    why = "unexpected reply";
  }
  if (last_ == policy) return std::nullopt;
  last_ = policy;
  const std::string prefix = "redis " + where + ": ";
  if (policy.empty()) {
    warned_ = false;
    return prefix + "cannot check maxmemory-policy (CONFIG GET maxmemory-policy: " + why +
           "); make sure it is noeviction: an evicting policy lets Redis silently delete "
           "floodgate's counts and locks";
  }
  if (policy.starts_with("allkeys-")) {
    warned_ = true;
    return prefix + "warning: maxmemory-policy is " + policy +
           ": when Redis reaches maxmemory it may silently evict any of floodgate's keys, "
           "resetting limits and unlocking accounts (even those locked until unlocked)." +
           kAdvice;
  }
  if (policy.starts_with("volatile-")) {
    warned_ = true;
    return prefix + "warning: maxmemory-policy is " + policy +
           ": when Redis reaches maxmemory it may silently evict floodgate's counts and timed "
           "locks (every key with a TTL), resetting limits and unlocking accounts early." +
           kAdvice;
  }
  if (warned_) {
    warned_ = false;
    return prefix + "maxmemory-policy is now " + policy;
  }
  return std::nullopt;
}

}  // namespace floodgate::store
