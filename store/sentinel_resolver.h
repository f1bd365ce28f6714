// SentinelResolver: which Redis is the master, according to the sentinels — the decision
// half of a redis+sentinel:// connection, kept free of I/O so it is tested without a server.
//
// One discovery round asks the sentinels in turn `SENTINEL get-master-addr-by-name NAME`
// (the I/O layer gives each a short deadline) and stops at the first that names an address;
// a sentinel that cannot be reached, errs or does not know the master passes the turn to
// the next. The sentinel that answered is asked first next round (Redis' client guidelines),
// so a dead sentinel costs one timeout once, not on every reconnect. The address is then
// only a candidate: the connection checks with ROLE that it really is a master (a sentinel
// may lag behind a failover) and otherwise fails, so its next reconnect rediscovers.
// Thread-safety: none; the connection's io thread owns it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "floodgate/result.h"
#include "store/redis_reply.h"
#include "store/redis_url.h"

namespace floodgate::store {

class SentinelResolver {
 public:
  struct Action {
    enum class Kind {
      kAskSentinel,    // send Query() to `addr`, report with OnSentinelReply()
      kConnectMaster,  // discovery is over: connect to `addr`, then check ROLE
      kFail,           // no sentinel named a master: `error` says why
    };
    Kind kind = Kind::kFail;
    HostPort addr;
    std::string error;
  };

  SentinelResolver(std::vector<HostPort> sentinels, std::string master_name);

  // Starts a discovery round (any round in progress is abandoned).
  Action Start();
  // The asked sentinel's reply, or why there is none (connect error, timeout).
  Action OnSentinelReply(const Result<RedisReply>& reply);

  std::vector<std::string> Query() const;
  const std::vector<HostPort>& sentinels() const { return sentinels_; }

 private:
  Action AskCurrent() const;

  std::vector<HostPort> sentinels_;  // in the order to ask them
  std::string master_name_;
  std::size_t next_ = 0;  // index of the sentinel being asked
  std::string errors_;    // of this round, for the kFail message
};

// The address in a get-master-addr-by-name reply: a two-string array ["ip", "port"].
// A nil reply (the sentinel does not monitor that name) or an error reply is an Error.
Result<HostPort> ParseMasterAddr(const RedisReply& reply);

// True when a ROLE reply says "master" (a replica answers ["slave", ...]).
bool IsMasterRole(const RedisReply& reply);

}  // namespace floodgate::store
