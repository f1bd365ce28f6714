// AdminBackend: the few store operations Admin (floodgatectl's commands) is made of, so
// the same commands work on Redis (RedisAdminBackend, from floodgatectl) and on the
// memory store inside the daemon (MemoryAdminBackend, behind the admin socket). Keys are
// the Redis store's key names in both (policy/subject.h builds them).
// Thread-safety: as the store underneath (both are safe to share).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "floodgate/clock.h"
#include "floodgate/result.h"
#include "policy/gcra.h"

namespace floodgate::admin {

struct LockInfo {
  std::string reason;
  std::optional<Micros> expires_in_us;  // none: until unlocked
};

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  // "redis" or "memory", and where it is, for `status` (never with a password in it).
  virtual std::string name() const = 0;
  virtual std::string where() const = 0;
  // The store's clock (Redis TIME): windows are judged by the time the store decides with.
  virtual Result<Micros> Now() = 0;
  // Every key that starts with `prefix`.
  virtual Result<std::vector<std::string>> Keys(const std::string& prefix) = 0;
  // A limit key's windows, by period (empty when it holds nothing).
  virtual Result<policy::StoredWindows> Windows(const std::string& key) = 0;
  virtual Result<std::optional<LockInfo>> GetLock(const std::string& lock_key) = 0;
  // ttl_us 0: until unlocked. Also what floodgate_locks_active counts from then on. An
  // Error when the lock was not set; a warning for the admin (empty: none) when it was set
  // but something around it was not.
  virtual Result<std::string> SetLock(const std::string& lock_key, const std::string& reason,
                                      Micros ttl_us) = 0;
  // Drops the lock and its network set and forgets the refused units of `limit_keys`;
  // true when a lock was there.
  virtual Result<bool> Unlock(const std::string& lock_key,
                              const std::vector<std::string>& limit_keys) = 0;
  // How many members of the distinct set `set_key` (a network or domain set) were last
  // seen after `since` (store time).
  virtual Result<std::int64_t> Distinct(const std::string& set_key, Micros since) = 0;
  // Forgets limit keys and lists; how many held something.
  virtual Result<std::int64_t> Delete(const std::vector<std::string>& keys) = 0;
  // The newest `count` entries of a list (0: all), newest first.
  virtual Result<std::vector<std::string>> List(const std::string& key, int count) = 0;
  virtual Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                        Micros ttl_us) = 0;
};

}  // namespace floodgate::admin
