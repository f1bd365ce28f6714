#include "store/store_factory.h"

#include "store/memory_store.h"
#include "store/redis_store.h"

namespace floodgate::store {

Result<std::unique_ptr<CounterStore>> OpenStore(const policy::StoreConfig& config,
                                                const Clock& clock,
                                                std::function<void(const std::string&)> warn) {
  switch (config.backend) {
    case policy::Backend::kMemory:
      return std::unique_ptr<CounterStore>(std::make_unique<MemoryStore>(
          clock, MemoryStore::Options{static_cast<std::size_t>(config.max_subjects)}));
    case policy::Backend::kRedis: {
      auto redis =
          RedisStore::Open(config.url, config.timeout_ms, config.key_prefix, std::move(warn));
      if (!redis.ok()) return redis.error();
      return std::unique_ptr<CounterStore>(std::move(redis).value());
    }
  }
  return Error(ErrorKind::kInvalid, "unknown store backend");
}

}  // namespace floodgate::store
