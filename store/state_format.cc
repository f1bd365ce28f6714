#include "store/state_format.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <vector>

namespace floodgate::store::state {
namespace {

constexpr std::string_view kSnapshotMagic = "FGSTATE\n";
constexpr std::string_view kJournalMagic = "FGJOURN\n";

constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

void PutU32(std::string& out, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}
void PutU64(std::string& out, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 8);
}
std::uint64_t GetU64(std::string_view s, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
std::uint32_t GetU32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

Error Refused(const std::string& what) { return Error(ErrorKind::kInvalid, what); }

// Moves a time written at `from` to the clock of `to`, less the wall time in between.
class TimeShift {
 public:
  TimeShift(Stamp from, Stamp to) {
    const Micros elapsed = to.wall > from.wall ? to.wall - from.wall : 0;
    delta_ = static_cast<__int128>(to.clock) - from.clock - elapsed;
  }
  Micros operator()(Micros t) const {
    if (t == 0 || t == kNever) return t;
    const __int128 v = static_cast<__int128>(t) + delta_;
    // A time moved before the clock's start is long past: 1 keeps it distinct from "never".
    if (v <= 0) return 1;
    if (v >= kNever) return kNever - 1;
    return static_cast<Micros>(v);
  }

 private:
  __int128 delta_ = 0;
};

// Reads records from a byte range; any overrun makes it fail (and stay failed).
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool ok() const { return ok_; }
  bool done() const { return at_ == s_.size(); }
  std::uint8_t U8() {
    if (!Need(1)) return 0;
    return static_cast<std::uint8_t>(s_[at_++]);
  }
  std::uint32_t U32() {
    if (!Need(4)) return 0;
    const std::uint32_t v = GetU32(s_, at_);
    at_ += 4;
    return v;
  }
  std::int64_t I64() {
    if (!Need(8)) return 0;
    const std::uint64_t v = GetU64(s_, at_);
    at_ += 8;
    return static_cast<std::int64_t>(v);
  }
  std::string_view Str() {
    const std::uint32_t n = U32();
    if (!Need(n)) return {};
    std::string_view v = s_.substr(at_, n);
    at_ += n;
    return v;
  }
  // A count of elements of at least `min_size` bytes each: refused when the rest of the
  // input cannot hold that many (so a damaged count cannot make us reserve gigabytes).
  std::uint32_t Count(std::size_t min_size) {
    const std::uint32_t n = U32();
    if (ok_ && static_cast<std::uint64_t>(n) * min_size > s_.size() - at_) ok_ = false;
    return ok_ ? n : 0;
  }

 private:
  bool Need(std::size_t n) {
    if (ok_ && s_.size() - at_ < n) ok_ = false;
    return ok_;
  }
  std::string_view s_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

// Decodes one record from `r` and hands it to `v`. False when it is malformed.
bool DecodeRecord(Reader& r, const TimeShift& shift, Visitor& v, bool journal,
                  std::uint32_t version) {
  const char type = static_cast<char>(r.U8());
  switch (type) {
    case 'C': {
      if (journal) return false;
      const std::string_view key = r.Str();
      const std::uint32_t n = r.Count(version >= 2 ? 56 : 32);
      std::vector<Window> windows(n);
      for (Window& w : windows) {
        w.period_us = r.I64();
        w.tat = shift(r.I64());
        w.reported_until = shift(r.I64());
        w.refused = Saturated(r.I64());
        if (version >= 2) {  // version 1 had no adaptive windows: they start as new
          w.period_end = shift(r.I64());
          w.accepted = Saturated(r.I64());
          w.usual = r.I64();
        }
      }
      if (!r.ok()) return false;
      v.Counter(key, windows);
      return true;
    }
    case 'K': {
      const std::string_view key = r.Str();
      const std::string_view reason = r.Str();
      const Micros until = shift(r.I64());
      if (!r.ok()) return false;
      v.Lock(key, reason, until);
      return true;
    }
    case 'N':
    case 'R': {
      if (journal || (type == 'R' && version < 2)) return false;
      const std::string_view key = r.Str();
      const Micros window = r.I64();
      const std::uint32_t n = r.Count(16);
      std::vector<SeenNetwork> seen(n);
      for (SeenNetwork& s : seen) {
        s.hash = static_cast<std::uint64_t>(r.I64());
        s.seen = shift(r.I64());
      }
      if (!r.ok()) return false;
      if (type == 'N') {
        v.Networks(key, window, seen);
      } else {
        v.Domains(key, window, seen);
      }
      return true;
    }
    case 'Q': {
      if (journal) return false;
      const std::string_view key = r.Str();
      const Micros expires = shift(r.I64());
      const std::uint32_t max_len = r.U32();
      const auto seq = static_cast<std::uint64_t>(r.I64());
      const std::uint32_t n = r.Count(4);
      std::vector<std::string_view> items(n);
      for (std::string_view& item : items) item = r.Str();
      if (!r.ok()) return false;
      v.List(key, expires, max_len, seq, items);
      return true;
    }
    case 'U': {
      if (!journal) return false;
      const std::string_view key = r.Str();
      const std::uint32_t n = r.Count(4);
      std::vector<std::string_view> keys(n);
      for (std::string_view& k : keys) k = r.Str();
      if (!r.ok()) return false;
      v.Unlock(key, keys);
      return true;
    }
    case 'A': {
      if (!journal) return false;
      const std::string_view key = r.Str();
      const std::string_view value = r.Str();
      const std::uint32_t max_len = r.U32();
      const Micros expires = shift(r.I64());
      const auto seq = static_cast<std::uint64_t>(r.I64());
      if (!r.ok()) return false;
      v.Append(key, value, max_len, expires, seq);
      return true;
    }
    case 'D': {
      if (!journal) return false;
      const std::uint32_t n = r.Count(4);
      std::vector<std::string_view> keys(n);
      for (std::string_view& k : keys) k = r.Str();
      if (!r.ok()) return false;
      v.Delete(keys);
      return true;
    }
    default:
      return false;
  }
}

class NullVisitor final : public Visitor {
 public:
  void Counter(std::string_view, std::span<const Window>) override {}
  void Lock(std::string_view, std::string_view, Micros) override {}
  void Networks(std::string_view, Micros, std::span<const SeenNetwork>) override {}
  void Domains(std::string_view, Micros, std::span<const SeenNetwork>) override {}
  void List(std::string_view, Micros, std::uint32_t, std::uint64_t,
            std::span<const std::string_view>) override {}
  void Unlock(std::string_view, std::span<const std::string_view>) override {}
  void Append(std::string_view, std::string_view, std::uint32_t, Micros, std::uint64_t) override {}
  void Delete(std::span<const std::string_view>) override {}
};

}  // namespace

std::uint64_t NetworkHash(std::string_view network) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : network) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::uint64_t TokenHash(std::string_view token) {
  std::uint64_t v = 0;
  if (token.size() != 8) return NetworkHash(token);
  for (const char c : token) {
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return NetworkHash(token);
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  return v;
}

std::uint32_t Crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (const char ch : data) c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void RecordWriter::U32(std::uint32_t v) { PutU32(out_, v); }
void RecordWriter::I64(std::int64_t v) { PutU64(out_, static_cast<std::uint64_t>(v)); }
void RecordWriter::Str(std::string_view s) {
  U32(static_cast<std::uint32_t>(s.size()));
  out_.append(s);
}

void RecordWriter::Counter(std::string_view key, std::span<const Window> windows) {
  U8('C');
  Str(key);
  U32(static_cast<std::uint32_t>(windows.size()));
  for (const Window& w : windows) {
    I64(w.period_us);
    I64(w.tat);
    I64(w.reported_until);
    I64(w.refused);
    I64(w.period_end);
    I64(w.accepted);
    I64(w.usual);
  }
  ++records_;
}

void RecordWriter::Lock(std::string_view key, std::string_view reason, Micros until) {
  U8('K');
  Str(key);
  Str(reason);
  I64(until);
  ++records_;
}

void RecordWriter::Networks(std::string_view key, Micros window_us,
                            std::span<const SeenNetwork> seen) {
  Seen('N', key, window_us, seen);
}

void RecordWriter::Domains(std::string_view key, Micros window_us,
                           std::span<const SeenNetwork> seen) {
  Seen('R', key, window_us, seen);
}

void RecordWriter::Seen(char type, std::string_view key, Micros window_us,
                        std::span<const SeenNetwork> seen) {
  U8(static_cast<std::uint8_t>(type));
  Str(key);
  I64(window_us);
  U32(static_cast<std::uint32_t>(seen.size()));
  for (const SeenNetwork& s : seen) {
    I64(static_cast<std::int64_t>(s.hash));
    I64(s.seen);
  }
  ++records_;
}

void RecordWriter::ListHeader(std::string_view key, Micros expires_at, std::uint32_t max_len,
                              std::uint64_t seq, std::uint32_t count) {
  U8('Q');
  Str(key);
  I64(expires_at);
  U32(max_len);
  I64(static_cast<std::int64_t>(seq));
  U32(count);
  ++records_;
}

void RecordWriter::Unlock(std::string_view lock_key, std::span<const std::string> limit_keys) {
  U8('U');
  Str(lock_key);
  U32(static_cast<std::uint32_t>(limit_keys.size()));
  for (const std::string& k : limit_keys) Str(k);
  ++records_;
}

void RecordWriter::Append(std::string_view key, std::string_view value, std::uint32_t max_len,
                          Micros expires_at, std::uint64_t seq) {
  U8('A');
  Str(key);
  Str(value);
  U32(max_len);
  I64(expires_at);
  I64(static_cast<std::int64_t>(seq));
  ++records_;
}

void RecordWriter::Delete(std::span<const std::string> keys) {
  U8('D');
  U32(static_cast<std::uint32_t>(keys.size()));
  for (const std::string& k : keys) Str(k);
  ++records_;
}

void StartSnapshot(std::string* out, std::uint64_t generation, Stamp stamp) {
  out->append(kSnapshotMagic);
  PutU32(*out, kVersion);
  PutU32(*out, 0);
  PutU64(*out, generation);
  PutU64(*out, static_cast<std::uint64_t>(stamp.clock));
  PutU64(*out, static_cast<std::uint64_t>(stamp.wall));
  PutU64(*out, 0);  // record count, patched by FinishSnapshot
}

void FinishSnapshot(std::string* out, std::size_t records) {
  std::string count;
  PutU64(count, records);
  out->replace(40, 8, count);
  PutU32(*out, Crc32(*out));
}

Result<SnapshotInfo> DecodeSnapshot(std::string_view file, Stamp now, Visitor& visitor) {
  if (file.size() < kSnapshotMagic.size() ||
      file.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) {
    return Refused("not a floodgate state file (it does not start with the state file's magic)");
  }
  if (file.size() < kSnapshotHeaderSize + 4) {
    return Refused(fmt::format("truncated: {} bytes, shorter than the header", file.size()));
  }
  const std::uint32_t version = GetU32(file, 8);
  if (version < kOldestVersion || version > kVersion) {
    return Refused(fmt::format("format version {}, but this floodgate reads versions {} to {}",
                               version, kOldestVersion, kVersion));
  }
  const std::size_t body_end = file.size() - 4;
  if (Crc32(file.substr(0, body_end)) != GetU32(file, body_end)) {
    return Refused(
        fmt::format("checksum mismatch over its {} bytes (truncated or damaged)", file.size()));
  }
  SnapshotInfo info;
  info.generation = GetU64(file, 16);
  const Stamp saved{static_cast<Micros>(GetU64(file, 24)), static_cast<Micros>(GetU64(file, 32))};
  info.saved_wall = saved.wall;
  const std::uint64_t count = GetU64(file, 40);
  const TimeShift shift(saved, now);
  const std::string_view body = file.substr(kSnapshotHeaderSize, body_end - kSnapshotHeaderSize);
  // Two passes: the first only checks, so that a malformed record changes nothing.
  NullVisitor check;
  for (Visitor* v : {static_cast<Visitor*>(&check), &visitor}) {
    Reader r(body);
    info.records = 0;
    while (!r.done()) {
      if (!DecodeRecord(r, shift, *v, /*journal=*/false, version)) {
        return Refused(fmt::format("record {} is malformed", info.records + 1));
      }
      ++info.records;
    }
    if (info.records != count) {
      return Refused(fmt::format("{} records, but the header says {}", info.records, count));
    }
  }
  return info;
}

std::string JournalHeader(std::uint64_t generation, Stamp stamp) {
  std::string out(kJournalMagic);
  PutU32(out, kVersion);
  PutU32(out, 0);
  PutU64(out, generation);
  PutU64(out, static_cast<std::uint64_t>(stamp.clock));
  PutU64(out, static_cast<std::uint64_t>(stamp.wall));
  PutU32(out, Crc32(out));
  return out;
}

std::string JournalFrame(std::string_view payload) {
  std::string out;
  out.reserve(8 + payload.size());
  PutU32(out, static_cast<std::uint32_t>(payload.size()));
  PutU32(out, Crc32(payload));
  out.append(payload);
  return out;
}

Result<JournalInfo> DecodeJournal(std::string_view file, Stamp now, Visitor& visitor) {
  JournalInfo info;
  const std::size_t magic_len = std::min(file.size(), kJournalMagic.size());
  if (file.substr(0, magic_len) != kJournalMagic.substr(0, magic_len)) {
    return Refused("not a floodgate journal (it does not start with the journal's magic)");
  }
  if (file.size() < kJournalHeaderSize) {  // cut while its header was written: holds nothing
    info.torn_bytes = file.size();
    return info;
  }
  const std::uint32_t version = GetU32(file, 8);
  if (version < kOldestVersion || version > kVersion) {
    return Refused(fmt::format("format version {}, but this floodgate reads versions {} to {}",
                               version, kOldestVersion, kVersion));
  }
  if (Crc32(file.substr(0, kJournalHeaderSize - 4)) != GetU32(file, kJournalHeaderSize - 4)) {
    return Refused("its header is damaged (checksum mismatch)");
  }
  info.generation = GetU64(file, 16);
  const Stamp written{static_cast<Micros>(GetU64(file, 24)), static_cast<Micros>(GetU64(file, 32))};
  const TimeShift shift(written, now);
  std::size_t at = kJournalHeaderSize;
  while (file.size() - at >= 8) {
    const std::uint32_t len = GetU32(file, at);
    if (file.size() - at - 8 < len) break;
    const std::string_view payload = file.substr(at + 8, len);
    if (Crc32(payload) != GetU32(file, at + 4)) break;
    Reader r(payload);
    // A frame whose checksum holds decodes; anything else is damage, as a torn write.
    if (!DecodeRecord(r, shift, visitor, /*journal=*/true, version) || !r.done()) break;
    ++info.records;
    at += 8 + len;
  }
  info.torn_bytes = file.size() - at;
  return info;
}

}  // namespace floodgate::store::state
