#include "store/redis_multiplexer.h"

#include <algorithm>
#include <utility>

#include "store/sentinel_resolver.h"

namespace floodgate::store {

void RedisMultiplexer::Connected(std::string where, std::vector<Command> handshake) {
  where_ = std::move(where);
  for (auto it = handshake.rbegin(); it != handshake.rend(); ++it) {
    waiting_.push_front(std::move(*it));
  }
}

void RedisMultiplexer::Add(Command command) { waiting_.push_back(std::move(command)); }

std::string_view RedisMultiplexer::PrepareWrite(Deadline now, std::vector<Completion>& expired) {
  if (!writing()) {
    write_buffer_.clear();
    write_offset_ = 0;
    while (!waiting_.empty()) {
      Command c = std::move(waiting_.front());
      waiting_.pop_front();
      if (now >= c.deadline) {  // its caller has given up: do not send it at all
        expired.push_back({std::move(c.done),
                           Error(ErrorKind::kTimeout, "redis: deadline passed before sending")});
        continue;
      }
      write_buffer_ += c.wire;
      in_flight_.push_back({c.deadline, std::move(c.done), c.check, c.name});
    }
  }
  return std::string_view(write_buffer_).substr(write_offset_);
}

void RedisMultiplexer::CommitWrite(std::size_t n) {
  write_offset_ = std::min(write_buffer_.size(), write_offset_ + n);
}

Status RedisMultiplexer::Feed(const char* data, std::size_t n) { return reader_.Feed(data, n); }

Result<std::optional<RedisReply>> RedisMultiplexer::NextReply() { return reader_.Next(); }

RedisMultiplexer::ReplyOutcome RedisMultiplexer::OnReply(RedisReply reply) {
  ReplyOutcome out;
  if (in_flight_.empty()) {
    out.fail = "reply without a request";
    return out;
  }
  Pending p = std::move(in_flight_.front());
  in_flight_.pop_front();
  switch (p.check) {
    case Check::kNone:
      break;
    case Check::kHandshake:
      if (reply.is_error()) {
        out.fail = std::string(p.name) + " failed: " + reply.str;
        return out;
      }
      break;
    case Check::kRole:
      if (!IsMasterRole(reply)) {
        out.fail = where_ + " is not a master";
        return out;
      }
      break;
  }
  // A master demoted by a failover refuses writes (READONLY), and so does an old master
  // that lost its replicas to the new one under min-replicas-to-write (NOREPLICAS): the
  // command gets its reply, and the transport finds the master again.
  if (follow_failover_ && reply.is_error() &&
      (reply.str.starts_with("READONLY") || reply.str.starts_with("NOREPLICAS"))) {
    out.fail = where_ + " is no longer the master";
  }
  out.completion = Completion{std::move(p.done), std::move(reply)};
  return out;
}

std::optional<std::string> RedisMultiplexer::Consume(const char* data, std::size_t n,
                                                     std::vector<Completion>& done) {
  if (Status fed = Feed(data, n); !fed.ok()) return fed.error().message();
  for (;;) {
    Result<std::optional<RedisReply>> reply = NextReply();
    if (!reply.ok()) return reply.error().message();
    if (!reply->has_value()) return std::nullopt;
    ReplyOutcome outcome = OnReply(std::move(**reply));
    if (outcome.completion) done.push_back(std::move(*outcome.completion));
    if (outcome.fail) return outcome.fail;
  }
}

std::vector<RedisMultiplexer::Completion> RedisMultiplexer::LoseConnection(const std::string& why) {
  std::vector<Completion> failed;
  failed.reserve(in_flight_.size() + waiting_.size());
  for (Pending& p : in_flight_) {
    failed.push_back({std::move(p.done), Error(ErrorKind::kUnavailable, "redis: " + why)});
  }
  for (Command& c : waiting_) {
    failed.push_back({std::move(c.done), Error(ErrorKind::kUnavailable, "redis: " + why)});
  }
  in_flight_.clear();
  waiting_.clear();
  write_buffer_.clear();
  write_offset_ = 0;
  reader_.Reset();
  return failed;
}

bool RedisMultiplexer::Stalled(Deadline now, std::chrono::milliseconds grace) const {
  return !in_flight_.empty() && now - in_flight_.front().deadline > grace;
}

}  // namespace floodgate::store
