// RedisReply and the RESP codec: an owned reply value, an incremental parser and the
// command encoder. hiredis does the parsing; transports live elsewhere
// (RedisConnection, SentinelClient).
// Thread-safety: plain values; a ReplyReader belongs to one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// Incremental RESP parser (a hiredis redisReader that builds RedisReply values in place):
// bytes in as they arrive, whole replies out. Thread-safety: none.
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

// Writes one RESP command (an array of binary-safe bulk strings) argument by argument,
// without an argv of strings first. `argc` must be the number of Arg() calls that follow.
class CommandWriter {
 public:
  explicit CommandWriter(std::size_t argc, std::size_t reserve = 256);
  CommandWriter& Arg(std::string_view arg);
  CommandWriter& Arg(std::int64_t n);  // as decimal text, as Redis expects numbers
  std::string Take();                  // the command; the writer is spent

 private:
  std::string wire_;
  std::size_t left_;
};

// Encodes argv as one RESP command.
std::string EncodeCommand(const std::vector<std::string>& argv);

}  // namespace floodgate::store
