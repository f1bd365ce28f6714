// RedisAdminBackend: AdminBackend on the Redis store, as floodgatectl uses it (it reads
// and writes the same keys as every floodgate daemon of the site).
// Thread-safety: as RedisStore.
#pragma once

#include "admin/admin_backend.h"
#include "policy/config_loader.h"
#include "store/redis_store.h"

namespace floodgate::admin {

class RedisAdminBackend final : public AdminBackend {
 public:
  RedisAdminBackend(store::RedisStore& redis, std::string url)
      : redis_(redis), url_(std::move(url)) {}

  std::string name() const override { return "redis"; }
  std::string where() const override { return policy::RedactUrl(url_); }
  Result<Micros> Now() override;
  Result<std::vector<std::string>> Keys(const std::string& prefix) override;
  Result<policy::StoredWindows> Windows(const std::string& key) override;
  Result<std::int64_t> Distinct(const std::string& set_key, Micros since) override;
  Result<std::optional<LockInfo>> GetLock(const std::string& lock_key) override;
  Result<std::string> SetLock(const std::string& lock_key, const std::string& reason,
                              Micros ttl_us) override;
  Result<bool> Unlock(const std::string& lock_key,
                      const std::vector<std::string>& limit_keys) override;
  Result<std::int64_t> Delete(const std::vector<std::string>& keys) override;
  Result<std::vector<std::string>> List(const std::string& key, int count) override;
  Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                Micros ttl_us) override;

 private:
  // A command whose error reply becomes an Error naming it.
  Result<store::RedisReply> Run(std::vector<std::string> argv);

  store::RedisStore& redis_;
  std::string url_;  // as the config wrote it
};

}  // namespace floodgate::admin
