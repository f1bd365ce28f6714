// ConfigHolder: the current configuration snapshot. A reload swaps the pointer; a
// transaction takes a snapshot at MAIL FROM and keeps it to its end, so a reload never
// changes the rules in the middle of a message and never drops a session.
// Thread-safety: get/set from any thread.
#pragma once

#include <memory>
#include <mutex>

#include "policy/config.h"

namespace floodgate::milter {

class ConfigHolder {
 public:
  explicit ConfigHolder(std::shared_ptr<const policy::Config> c) : config_(std::move(c)) {}
  std::shared_ptr<const policy::Config> get() const {
    std::lock_guard lock(mu_);
    return config_;
  }
  void set(std::shared_ptr<const policy::Config> c) {
    std::lock_guard lock(mu_);
    config_.swap(c);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const policy::Config> config_;
};

}  // namespace floodgate::milter
