#include "admin/memory_admin_backend.h"

namespace floodgate::admin {

Result<std::optional<LockInfo>> MemoryAdminBackend::GetLock(const std::string& lock_key) {
  const std::optional<store::MemoryStore::LockInfo> lock = store_.GetLock(lock_key);
  if (!lock) return std::optional<LockInfo>();
  LockInfo info{lock->reason, std::nullopt};
  if (lock->until != store::MemoryStore::kNoExpiry) info.expires_in_us = lock->until - store_.Now();
  return std::optional<LockInfo>(std::move(info));
}

Result<std::vector<std::string>> MemoryAdminBackend::List(const std::string& key, int count) {
  std::vector<std::string> items = store_.List(key);
  if (count > 0 && items.size() > static_cast<std::size_t>(count)) items.resize(count);
  return items;
}

}  // namespace floodgate::admin
