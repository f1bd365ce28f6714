// The on-disk format of the embedded store's state (store.state_dir), defined here and
// nowhere else: the snapshot file and the journal, their headers and their records.
//
// Snapshot ("state"): a 48-byte header, the records, a CRC-32 of everything before it.
//   magic "FGSTATE\n" | u32 version | u32 flags (0) | u64 generation | i64 store clock at
//   save | i64 wall clock at save (Unix us) | u64 record count
// Journal ("journal-<generation>"): a 44-byte header, then framed records appended one by
// one (a frame is u32 payload length | u32 CRC-32 of the payload | payload).
//   magic "FGJOURN\n" | u32 version | u32 flags (0) | u64 generation | i64 store clock |
//   i64 wall clock | u32 CRC-32 of the header before it
// A snapshot of generation G holds everything before journal-G was started; loading reads
// the snapshot and then replays journal-G, journal-G+1, ... in order.
//
// Records (all integers little-endian; strings are u32 length + bytes):
//   'C' counter  key, u32 n, n x (i64 period_us, i64 tat, i64 reported_until, i64 refused,
//                i64 period_end, i64 accepted, i64 usual)   (version 1: the first four only)
//   'K' lock     key, reason, i64 until (kNever: until unlocked)
//   'N' networks lock key, i64 window_us, u32 n, n x (u64 network hash, i64 last seen)
//   'R' domains  lock key, i64 window_us, u32 n, n x (u64 domain hash, i64 last seen)
//                                                                     (version 2 on)
//   'Q' list     key, i64 expires_at, u32 max_len, u64 seq, u32 n, n x item (oldest first)
//   'U' unlock   lock key, u32 n, n x limit key                    (journal only)
//   'A' append   key, value, u32 max_len, i64 expires_at, u64 seq   (journal only)
//   'D' delete   u32 n, n x key                                      (journal only)
// seq numbers the appends: a list records the seq of its last append, and replay skips an
// append the list already holds (a snapshot is written a few keys at a time, so a list may
// be saved after an append that the next journal holds too).
// Times are the store clock's microseconds (a monotonic clock that restarts at boot);
// each file records the store clock and the wall clock it was written at, and the decoder
// moves every time to the reader's clock, less the wall time that passed in between. 0
// ("never") and kNever stay as they are.
//
// A file with a version outside kOldestVersion..kVersion is refused whole: a new format
// gets a new version number and, while old files can be read, a reader for them here.
// Version 2 added the adaptive numbers of a window and the recipient-domain sets; a
// version 1 file loads with every adaptive window new.
// Thread-safety: pure functions and plain values.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "floodgate/clock.h"
#include "floodgate/result.h"

namespace floodgate::store::state {

inline constexpr std::uint32_t kVersion = 2;
inline constexpr std::uint32_t kOldestVersion = 1;
inline constexpr std::string_view kSnapshotFile = "state";
inline constexpr std::string_view kJournalPrefix = "journal-";
inline constexpr std::size_t kSnapshotHeaderSize = 48;
inline constexpr std::size_t kJournalHeaderSize = 44;
inline constexpr Micros kNever = std::numeric_limits<Micros>::max();

// One window as the memory store keeps it (48 bytes: it is most of what a subject costs)
// and as a counter record carries it (every number as 64 bits). Initialise it by field
// name: the order is chosen for size.
struct Window {
  Micros period_us = 0;
  Micros tat = 0;
  Micros reported_until = 0;
  Micros period_end = 0;      // adaptive windows (policy/adaptive.h); 0 otherwise
  std::int64_t usual = 0;     // adaptive: usual peak, millionths of a unit
  std::int32_t refused = 0;   // units refused since reported_until (saturates)
  std::int32_t accepted = 0;  // adaptive: units accepted in the period (saturates)
};
// A count as Window keeps it.
inline std::int32_t Saturated(std::int64_t v) {
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, 0, INT32_MAX));
}

// An entry of a distinct set: a network, or a recipient domain.
struct SeenNetwork {
  std::uint64_t hash = 0;  // NetworkHash of the network's text; the domain token's value
  Micros seen = 0;
};

// The hash a network set keeps of each network (FNV-1a, 64 bits): stable across builds,
// because it is written to disk.
std::uint64_t NetworkHash(std::string_view network);
// A domain set keeps each recipient domain as its token's value (policy::DomainToken:
// eight hex digits); anything else hashes like a network.
std::uint64_t TokenHash(std::string_view token);

// CRC-32 (IEEE 802.3, as zlib's crc32).
std::uint32_t Crc32(std::string_view data);

// Where decoded records go. Strings are views into the decoded buffer, valid during the call.
class Visitor {
 public:
  virtual ~Visitor() = default;
  virtual void Counter(std::string_view key, std::span<const Window> windows) = 0;
  virtual void Lock(std::string_view key, std::string_view reason, Micros until) = 0;
  virtual void Networks(std::string_view key, Micros window_us,
                        std::span<const SeenNetwork> seen) = 0;
  virtual void Domains(std::string_view key, Micros window_us,
                       std::span<const SeenNetwork> seen) = 0;
  virtual void List(std::string_view key, Micros expires_at, std::uint32_t max_len,
                    std::uint64_t seq, std::span<const std::string_view> items) = 0;
  virtual void Unlock(std::string_view lock_key, std::span<const std::string_view> limit_keys) = 0;
  virtual void Append(std::string_view key, std::string_view value, std::uint32_t max_len,
                      Micros expires_at, std::uint64_t seq) = 0;
  virtual void Delete(std::span<const std::string_view> keys) = 0;
};

// Appends records to a string (a snapshot body or one journal record's payload).
class RecordWriter {
 public:
  explicit RecordWriter(std::string* out) : out_(*out) {}
  void Counter(std::string_view key, std::span<const Window> windows);
  void Lock(std::string_view key, std::string_view reason, Micros until);
  void Networks(std::string_view key, Micros window_us, std::span<const SeenNetwork> seen);
  void Domains(std::string_view key, Micros window_us, std::span<const SeenNetwork> seen);
  // `items` oldest first; `count` of them.
  void ListHeader(std::string_view key, Micros expires_at, std::uint32_t max_len, std::uint64_t seq,
                  std::uint32_t count);
  void ListItem(std::string_view item) { Str(item); }
  void Unlock(std::string_view lock_key, std::span<const std::string> limit_keys);
  void Append(std::string_view key, std::string_view value, std::uint32_t max_len,
              Micros expires_at, std::uint64_t seq);
  void Delete(std::span<const std::string> keys);
  std::size_t records() const { return records_; }

 private:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(std::uint32_t v);
  void I64(std::int64_t v);
  void Str(std::string_view s);
  void Seen(char type, std::string_view key, Micros window_us, std::span<const SeenNetwork> seen);

  std::string& out_;
  std::size_t records_ = 0;
};

// Where and when a file was written, for translating its times.
struct Stamp {
  Micros clock = 0;  // the store clock
  Micros wall = 0;   // Unix microseconds
};

// The snapshot file: StartSnapshot writes the header (the record count is patched in by
// FinishSnapshot), the caller appends records with a RecordWriter, FinishSnapshot appends
// the CRC.
void StartSnapshot(std::string* out, std::uint64_t generation, Stamp stamp);
void FinishSnapshot(std::string* out, std::size_t records);

struct SnapshotInfo {
  std::uint64_t generation = 0;
  std::size_t records = 0;
  Micros saved_wall = 0;
};
// Checks the whole file (magic, version, length, CRC) before visiting anything, so a bad
// file changes nothing; then visits its records with times moved to `now`.
Result<SnapshotInfo> DecodeSnapshot(std::string_view file, Stamp now, Visitor& visitor);

std::string JournalHeader(std::uint64_t generation, Stamp stamp);
// A framed journal record around `payload` (written by a RecordWriter).
std::string JournalFrame(std::string_view payload);

struct JournalInfo {
  std::uint64_t generation = 0;
  std::size_t records = 0;
  // Bytes after the last whole record: the record a crash interrupted (or a file cut
  // inside its header). Not an error: what came before it is replayed.
  std::size_t torn_bytes = 0;
};
// Refuses a journal whose header is complete but wrong (magic, version, CRC); replays its
// whole records in order and stops at the first incomplete or damaged one.
Result<JournalInfo> DecodeJournal(std::string_view file, Stamp now, Visitor& visitor);

}  // namespace floodgate::store::state
