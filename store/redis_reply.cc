#include "store/redis_reply.h"

#include <hiredis/read.h>

#include <cassert>
#include <charconv>
#include <memory>
#include <vector>

namespace floodgate::store {
namespace {

// hiredis' reader builds replies through these callbacks, so RedisReply values are built
// in place: no hiredis reply objects to convert and free. An element is written into its
// parent's `elements`, which createArray sized up front (it never reallocates after), and
// only a top-level reply is heap-allocated; hiredis frees only top-level objects.
// The callbacks are called from C and must not throw: an allocation that fails, or an
// array too large to be a reply of ours, returns nullptr, which hiredis turns into an
// "out of memory" protocol error (the connection is then dropped, nothing crashes).
constexpr long long kMaxArrayElements = 1 << 20;  // our largest replies hold thousands

template <class F>
void* NoThrow(F build) noexcept {
  try {
    return build();
  } catch (...) {
    return nullptr;
  }
}

RedisReply* Place(const redisReadTask* task, RedisReply::Type type) {
  RedisReply* r = task->parent != nullptr
                      ? &static_cast<RedisReply*>(task->parent->obj)->elements[task->idx]
                      : new RedisReply;
  r->type = type;
  return r;
}

void* CreateString(const redisReadTask* task, char* str, size_t len) {
  return NoThrow([&] {
    RedisReply::Type type = RedisReply::Type::kString;
    if (task->type == REDIS_REPLY_STATUS) type = RedisReply::Type::kStatus;
    if (task->type == REDIS_REPLY_ERROR) type = RedisReply::Type::kError;
    std::string copy(str, len);  // before Place: a failure leaves nothing half-built
    RedisReply* r = Place(task, type);
    r->str = std::move(copy);
    return r;
  });
}

void* CreateArray(const redisReadTask* task, int elements) {
  if (elements > kMaxArrayElements) return nullptr;
  return NoThrow([&] {
    // Sized before it is placed: a failed allocation leaves no half-built top-level reply.
    std::vector<RedisReply> sized(elements > 0 ? static_cast<std::size_t>(elements) : 0);
    RedisReply* r = Place(task, RedisReply::Type::kArray);
    r->elements = std::move(sized);
    return r;
  });
}

void* CreateInteger(const redisReadTask* task, long long value) {
  return NoThrow([&] {
    RedisReply* r = Place(task, RedisReply::Type::kInteger);
    r->integer = value;
    return r;
  });
}

void* CreateNil(const redisReadTask* task) {
  return NoThrow([&] { return Place(task, RedisReply::Type::kNil); });
}

void FreeObject(void* reply) { delete static_cast<RedisReply*>(reply); }

redisReplyObjectFunctions kBuildRedisReply = {CreateString, CreateArray, CreateInteger, CreateNil,
                                              FreeObject};

// "*<n>\r\n" or "$<n>\r\n".
void AppendHeader(std::string& out, char type, std::size_t n) {
  char buf[24];
  buf[0] = type;
  const auto end = std::to_chars(buf + 1, buf + sizeof buf - 2, n).ptr;
  end[0] = '\r';
  end[1] = '\n';
  out.append(buf, static_cast<std::size_t>(end + 2 - buf));
}

}  // namespace

// Hand-written rather than hiredis' redisFormatCommandArgv: that formats every length
// with sprintf, and the profile of the Redis path (bench/RESULTS.md) put it at 36 % of the
// daemon's instructions. Writing arguments straight into the command also saves building
// an argv of strings first; the encoding tests pin the bytes.
CommandWriter::CommandWriter(std::size_t argc, std::size_t reserve) : left_(argc) {
  wire_.reserve(reserve);
  AppendHeader(wire_, '*', argc);
}

CommandWriter& CommandWriter::Arg(std::string_view arg) {
  assert(left_ > 0 && "more arguments than announced");
  --left_;
  AppendHeader(wire_, '$', arg.size());
  wire_.append(arg);
  wire_.append("\r\n", 2);
  return *this;
}

CommandWriter& CommandWriter::Arg(std::int64_t n) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  return Arg(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

std::string CommandWriter::Take() {
  assert(left_ == 0 && "fewer arguments than announced");
  return std::move(wire_);
}

std::string EncodeCommand(const std::vector<std::string>& argv) {
  std::size_t size = 16;
  for (const std::string& a : argv) size += a.size() + 16;
  CommandWriter w(argv.size(), size);
  for (const std::string& a : argv) w.Arg(std::string_view(a));
  return w.Take();
}

ReplyReader::ReplyReader() : reader_(redisReaderCreateWithFunctions(&kBuildRedisReply)) {}

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
  std::unique_ptr<RedisReply> reply(static_cast<RedisReply*>(raw));
  return std::optional<RedisReply>(std::move(*reply));
}

void ReplyReader::Reset() {
  redisReaderFree(static_cast<redisReader*>(reader_));
  reader_ = redisReaderCreateWithFunctions(&kBuildRedisReply);
}

}  // namespace floodgate::store
