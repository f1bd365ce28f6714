// The Redis URL types, under the store's names. The parser lives in policy/ (see
// policy/redis_url.h) so that the config loader refuses a bad url with the same code the
// store connects with, without policy/ depending on store/.
// Thread-safety: plain values and a pure function.
#pragma once

#include "policy/redis_url.h"

namespace floodgate::store {

using policy::HostPort;
using policy::ParseRedisUrl;
using policy::RedisUrl;

}  // namespace floodgate::store
