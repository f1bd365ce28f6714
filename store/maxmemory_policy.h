// MaxmemoryPolicyWatch: what Redis' maxmemory-policy means for floodgate's keys, said in
// words once per change rather than on every reconnect.
//
// When Redis reaches maxmemory, an allkeys-* policy evicts any key: floodgate's counts
// (limits reset), its locks (accounts unlocked, even those locked until unlocked) and its
// queue ids vanish without an error. A volatile-* policy evicts keys with a TTL, which
// are all of floodgate's keys except locks set until unlocked and the lock index: counts
// and timed locks still vanish. Only noeviction is safe: Redis then refuses writes when
// full, which floodgate sees as a store error and handles per store.on_error.
// The connection sends Query() after every (re)connect and hands the reply to Observe().
// Thread-safety: none; the connection's io thread owns it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "floodgate/result.h"
#include "store/redis_reply.h"

namespace floodgate::store {

class MaxmemoryPolicyWatch {
 public:
  // CONFIG GET maxmemory-policy
  static std::vector<std::string> Query();

  // The reply to Query() from the server at `where`. Returns a line to log when what it
  // says differs from the last reply observed: a warning for an evicting policy, a note
  // when the policy cannot be read (CONFIG renamed or forbidden), a note when an evicting
  // policy became safe; nothing for noeviction first seen or for a lost connection.
  std::optional<std::string> Observe(const std::string& where, const Result<RedisReply>& reply);

 private:
  std::optional<std::string> last_;  // the policy last observed, "" when unreadable
  bool warned_ = false;              // the last line logged was a warning
};

}  // namespace floodgate::store
