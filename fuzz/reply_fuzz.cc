// Fuzzes the RESP reply reader (hiredis' parser with floodgate's in-place RedisReply
// callbacks) with arbitrary bytes from a "server", fed in two chunks split where the
// input says: every input must give replies or an Error value — never a crash, a leak,
// an exception or a sanitizer report — and a Reset() reader must parse a PONG after.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/redis_reply.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Reads every complete reply; false once the reader reports bad RESP.
bool Drain(floodgate::store::ReplyReader& reader) {
  for (;;) {
    auto next = reader.Next();
    if (!next.ok()) return false;
    if (!next->has_value()) return true;
    const floodgate::store::RedisReply& r = **next;
    if (r.type == floodgate::store::RedisReply::Type::kArray) {
      for (const auto& e : r.elements) (void)e.str.size();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = all.empty() ? 0 : data[0] % (all.size() + 1);
  floodgate::store::ReplyReader reader;
  bool ok = true;
  for (const std::string_view part : {all.substr(0, cut), all.substr(cut)}) {
    if (!ok) break;
    ok = reader.Feed(part.data(), part.size()).ok() && Drain(reader);
  }
  reader.Reset();
  Check(reader.Feed("+PONG\r\n", 7).ok());
  auto pong = reader.Next();
  Check(pong.ok() && pong->has_value() && (*pong)->str == "PONG");
  return 0;
}
