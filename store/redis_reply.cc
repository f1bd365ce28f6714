#include "store/redis_reply.h"

#include <hiredis/hiredis.h>

namespace floodgate::store {
namespace {

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      break;  // nil
  }
  return out;
}

}  // namespace

std::string EncodeCommand(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  const int len =
      redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), args.data(), lens.data());
  if (len < 0) return {};
  std::string out(cmd, static_cast<size_t>(len));
  redisFreeCommand(cmd);
  return out;
}

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {}

ReplyReader::~ReplyReader() { redisReaderFree(static_cast<redisReader*>(reader_)); }

Status ReplyReader::Feed(const char* data, std::size_t n) {
  if (redisReaderFeed(static_cast<redisReader*>(reader_), data, n) != REDIS_OK) {
    return Error(ErrorKind::kInternal, "cannot parse reply");
  }
  return OkStatus();
}

Result<std::optional<RedisReply>> ReplyReader::Next() {
  auto* reader = static_cast<redisReader*>(reader_);
  void* raw = nullptr;
  if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
    return Error(ErrorKind::kInternal, std::string("protocol error: ") + reader->errstr);
  }
  if (raw == nullptr) return std::optional<RedisReply>();
  RedisReply reply = Convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return std::optional<RedisReply>(std::move(reply));
}

void ReplyReader::Reset() {
  redisReaderFree(static_cast<redisReader*>(reader_));
  reader_ = redisReaderCreate();
}

}  // namespace floodgate::store
