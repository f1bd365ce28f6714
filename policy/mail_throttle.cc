#include "policy/mail_throttle.h"

#include <algorithm>

namespace floodgate::policy {

MailThrottle::Decision MailThrottle::Admit(const std::string& event, const std::string& subject,
                                           std::int64_t now_s) {
  while (!sent_.empty() && now_s - sent_.front().at >= kPeriodS) sent_.pop_front();
  const std::string key = event + '\n' + subject;
  const bool repeat =
      std::any_of(sent_.begin(), sent_.end(), [&](const Sent& s) { return s.key == key; });
  Decision d;
  if (repeat || sent_.size() >= kMaxPerPeriod) {
    auto it = suppressed_.find(event);
    if (it == suppressed_.end() && suppressed_.size() >= kMaxEventNames) {
      it = suppressed_.try_emplace("other").first;
    } else if (it == suppressed_.end()) {
      it = suppressed_.try_emplace(event).first;
    }
    ++it->second;
    return d;
  }
  sent_.push_back({now_s, key});
  d.send = true;
  d.suppressed.assign(suppressed_.begin(), suppressed_.end());
  suppressed_.clear();
  return d;
}

}  // namespace floodgate::policy
