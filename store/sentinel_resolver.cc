#include "store/sentinel_resolver.h"

#include <algorithm>
#include <charconv>

namespace floodgate::store {

SentinelResolver::SentinelResolver(std::vector<HostPort> sentinels, std::string master_name)
    : sentinels_(std::move(sentinels)), master_name_(std::move(master_name)) {}

std::vector<std::string> SentinelResolver::Query() const {
  return {"SENTINEL", "get-master-addr-by-name", master_name_};
}

SentinelResolver::Action SentinelResolver::Start() {
  next_ = 0;
  errors_.clear();
  return AskCurrent();
}

SentinelResolver::Action SentinelResolver::AskCurrent() const {
  if (next_ >= sentinels_.size()) {
    return {Action::Kind::kFail, {}, "no sentinel knows master '" + master_name_ + "'" + errors_};
  }
  return {Action::Kind::kAskSentinel, sentinels_[next_], {}};
}

SentinelResolver::Action SentinelResolver::OnSentinelReply(const Result<RedisReply>& reply) {
  if (next_ >= sentinels_.size()) return AskCurrent();  // not asking anyone: stay failed
  const HostPort& asked = sentinels_[next_];
  Result<HostPort> addr = reply.ok() ? ParseMasterAddr(*reply) : Result<HostPort>(reply.error());
  if (addr.ok()) {
    // Ask this one first next time; the others keep their relative order.
    std::rotate(sentinels_.begin(), sentinels_.begin() + static_cast<std::ptrdiff_t>(next_),
                sentinels_.begin() + static_cast<std::ptrdiff_t>(next_) + 1);
    next_ = sentinels_.size();  // the round is over
    return {Action::Kind::kConnectMaster, std::move(addr).value(), {}};
  }
  errors_ += "; " + asked.host + ":" + std::to_string(asked.port) + ": " + addr.error().message();
  ++next_;
  return AskCurrent();
}

Result<HostPort> ParseMasterAddr(const RedisReply& reply) {
  if (reply.is_error()) return Error(ErrorKind::kUnavailable, reply.str);
  if (reply.type == RedisReply::Type::kNil) {
    return Error(ErrorKind::kNotFound, "does not monitor this master");
  }
  const Error bad(ErrorKind::kInternal, "unexpected reply to get-master-addr-by-name");
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2) return bad;
  const RedisReply& host = reply.elements[0];
  const RedisReply& port = reply.elements[1];
  if (host.type != RedisReply::Type::kString || host.str.empty() ||
      port.type != RedisReply::Type::kString) {
    return bad;
  }
  HostPort out{host.str, 0};
  const char* end = port.str.data() + port.str.size();
  auto [ptr, ec] = std::from_chars(port.str.data(), end, out.port);
  if (ec != std::errc() || ptr != end || out.port < 1 || out.port > 65535) return bad;
  return out;
}

bool IsMasterRole(const RedisReply& reply) {
  return reply.type == RedisReply::Type::kArray && !reply.elements.empty() &&
         reply.elements[0].type == RedisReply::Type::kString && reply.elements[0].str == "master";
}

}  // namespace floodgate::store
