// OpenStore: builds the CounterStore a [store] section asks for.
// Thread-safety: call once at start-up (or reload); the stores it returns are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "floodgate/clock.h"
#include "floodgate/counter_store.h"
#include "policy/config.h"

namespace floodgate::store {

// A memory store comes empty: its state directory is the daemon's to open (StateDir), so
// that only the primary store of a running floodgate keeps state on disk.
// A Redis store does not need Redis to be up to be opened: it connects lazily, so
// floodgate starts (and falls back per on_error) while Redis is still down. `warn`
// receives the Redis store's warnings about its server (see RedisStore::Open).
Result<std::unique_ptr<CounterStore>> OpenStore(const policy::StoreConfig& config,
                                                const Clock& clock,
                                                std::function<void(const std::string&)> warn = {});

}  // namespace floodgate::store
