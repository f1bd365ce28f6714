// RedisReply and the RESP codec: an owned reply value, an incremental parser and the
// command encoder. hiredis does the parsing; transports live elsewhere
// (RedisConnection, SentinelClient).
// Thread-safety: plain values; a ReplyReader belongs to one thread at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "floodgate/result.h"

namespace floodgate::store {

// An owned copy of one RESP reply.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
};

// Incremental RESP parser (a hiredis redisReader): bytes in as they arrive, whole replies
// out. Thread-safety: none.
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  Status Feed(const char* data, std::size_t n);
  // The next complete reply, nullopt until more bytes arrive, or an Error on bad RESP.
  Result<std::optional<RedisReply>> Next();
  void Reset();  // forgets any partial reply (after a disconnect)

 private:
  void* reader_;  // redisReader*
};

// Encodes argv as one RESP command (binary-safe bulk strings).
std::string EncodeCommand(const std::vector<std::string>& argv);

}  // namespace floodgate::store
