// MemoryAdminBackend: AdminBackend on the daemon's own memory store (store/memory_store.h),
// which floodgatectl reaches through the admin socket (admin/admin_server.h).
// Thread-safety: as MemoryStore (safe to share).
#pragma once

#include "admin/admin_backend.h"
#include "store/memory_store.h"

namespace floodgate::admin {

class MemoryAdminBackend final : public AdminBackend {
 public:
  MemoryAdminBackend(store::MemoryStore& store, std::string socket)
      : store_(store), socket_(std::move(socket)) {}

  std::string name() const override { return "memory"; }
  std::string where() const override { return "inside floodgate, admin socket " + socket_; }
  Result<Micros> Now() override { return store_.Now(); }
  Result<std::vector<std::string>> Keys(const std::string& prefix) override {
    return store_.Keys(prefix);
  }
  Result<policy::StoredWindows> Windows(const std::string& key) override {
    return store_.Windows(key);
  }
  Result<std::optional<LockInfo>> GetLock(const std::string& lock_key) override;
  Result<std::string> SetLock(const std::string& lock_key, const std::string& reason,
                              Micros ttl_us) override {
    store_.SetLock(lock_key, reason, ttl_us);  // CountActiveLocks counts it from now on
    return std::string();
  }
  Result<bool> Unlock(const std::string& lock_key,
                      const std::vector<std::string>& limit_keys) override {
    return store_.Unlock(lock_key, limit_keys);
  }
  Result<std::int64_t> Distinct(const std::string& set_key, Micros since) override {
    return store_.Distinct(set_key, since);
  }
  Result<std::int64_t> Delete(const std::vector<std::string>& keys) override {
    return store_.Delete(keys);
  }
  Result<std::vector<std::string>> List(const std::string& key, int count) override;
  Status Append(const std::string& key, const std::string& value, std::size_t max_len,
                Micros ttl_us) override {
    return store_.Append(key, value, max_len, ttl_us);
  }

 private:
  store::MemoryStore& store_;
  std::string socket_;
};

}  // namespace floodgate::admin
