#include "store/state_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace floodgate::store::state {
namespace {

// Records every visit as a line of text, so tests compare what was decoded at a glance.
class Recorder final : public Visitor {
 public:
  std::vector<std::string> lines;
  void Counter(std::string_view key, std::span<const Window> windows) override {
    std::string l = "C " + std::string(key);
    for (const Window& w : windows) {
      l += " " + std::to_string(w.period_us) + "/" + std::to_string(w.tat) + "/" +
           std::to_string(w.reported_until) + "/" + std::to_string(w.refused);
      if (w.period_end != 0 || w.accepted != 0 || w.usual != 0) {
        l += "/" + std::to_string(w.period_end) + ":" + std::to_string(w.accepted) + ":" +
             std::to_string(w.usual);
      }
    }
    lines.push_back(l);
  }
  void Lock(std::string_view key, std::string_view reason, Micros until) override {
    lines.push_back("K " + std::string(key) + " " + std::string(reason) + " " +
                    std::to_string(until));
  }
  void Networks(std::string_view key, Micros window_us,
                std::span<const SeenNetwork> seen) override {
    std::string l = "N " + std::string(key) + " " + std::to_string(window_us);
    for (const SeenNetwork& s : seen)
      l += " " + std::to_string(s.hash) + "@" + std::to_string(s.seen);
    lines.push_back(l);
  }
  void Domains(std::string_view key, Micros window_us, std::span<const SeenNetwork> seen) override {
    std::string l = "R " + std::string(key) + " " + std::to_string(window_us);
    for (const SeenNetwork& s : seen)
      l += " " + std::to_string(s.hash) + "@" + std::to_string(s.seen);
    lines.push_back(l);
  }
  void List(std::string_view key, Micros expires_at, std::uint32_t max_len, std::uint64_t seq,
            std::span<const std::string_view> items) override {
    std::string l = "Q " + std::string(key) + " " + std::to_string(expires_at) + " " +
                    std::to_string(max_len) + " #" + std::to_string(seq);
    for (std::string_view i : items) l += " " + std::string(i);
    lines.push_back(l);
  }
  void Unlock(std::string_view lock_key, std::span<const std::string_view> keys) override {
    std::string l = "U " + std::string(lock_key);
    for (std::string_view k : keys) l += " " + std::string(k);
    lines.push_back(l);
  }
  void Append(std::string_view key, std::string_view value, std::uint32_t max_len,
              Micros expires_at, std::uint64_t seq) override {
    lines.push_back("A " + std::string(key) + " " + std::string(value) + " " +
                    std::to_string(max_len) + " " + std::to_string(expires_at) + " #" +
                    std::to_string(seq));
  }
  void Delete(std::span<const std::string_view> keys) override {
    std::string l = "D";
    for (std::string_view k : keys) l += " " + std::string(k);
    lines.push_back(l);
  }
};

constexpr Stamp kSaved{1'000'000'000, 1'700'000'000'000'000};

std::string SampleSnapshot() {
  std::string out;
  StartSnapshot(&out, 7, kSaved);
  RecordWriter w(&out);
  const Window windows[] = {{.period_us = 60'000'000, .tat = 1'000'500'000},
                            {.period_us = 3'600'000'000,
                             .tat = 1'002'000'000,
                             .reported_until = 1'050'000'000,
                             .period_end = 3'600'000'000,
                             .usual = 2'500'000,
                             .refused = 12,
                             .accepted = 4}};
  w.Counter("fg:{account:a@example.org}:submission", windows);
  w.Lock("fg:{account:a@example.org}!lock", "admin", kNever);
  const SeenNetwork seen[] = {{NetworkHash("203.0.113.0/24"), 999'000'000}};
  w.Networks("fg:{account:a@example.org}!lock", 3'600'000'000, seen);
  const SeenNetwork domains[] = {{0xdeadbeef, 999'500'000}};
  w.Domains("fg:{account:a@example.org}!lock", 3'600'000'000, domains);
  w.ListHeader("fg:{account:a@example.org}!queue", 1'500'000'000, 5000, 17, 2);
  w.ListItem("4ABC1");
  w.ListItem("4ABC2");
  FinishSnapshot(&out, w.records());
  return out;
}

const std::vector<std::string> kSampleLines = {
    "C fg:{account:a@example.org}:submission 60000000/1000500000/0/0 "
    "3600000000/1002000000/1050000000/12/3600000000:4:2500000",
    "K fg:{account:a@example.org}!lock admin 9223372036854775807",
    "N fg:{account:a@example.org}!lock 3600000000 " +
        std::to_string(NetworkHash("203.0.113.0/24")) + "@999000000",
    "R fg:{account:a@example.org}!lock 3600000000 3735928559@999500000",
    "Q fg:{account:a@example.org}!queue 1500000000 5000 #17 4ABC1 4ABC2",
};

TEST(StateFormatTest, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

TEST(StateFormatTest, ASnapshotRoundTripsEveryRecord) {
  Recorder r;
  Result<SnapshotInfo> info = DecodeSnapshot(SampleSnapshot(), kSaved, r);
  ASSERT_TRUE(info.ok()) << info.error().message();
  EXPECT_EQ(info->generation, 7u);
  EXPECT_EQ(info->records, 5u);
  EXPECT_EQ(info->saved_wall, kSaved.wall);
  EXPECT_EQ(r.lines, kSampleLines);
}

TEST(StateFormatTest, TimesMoveToTheReadersClockLessTheDowntime) {
  // Read after a reboot: the store clock restarted at 5 s, and 100 s passed on the wall.
  const Stamp now{5'000'000, kSaved.wall + 100'000'000};
  Recorder r;
  ASSERT_TRUE(DecodeSnapshot(SampleSnapshot(), now, r).ok());
  // tat 1'000'500'000 was 0.5 s after saving: now it is 100 s earlier than that on the
  // new clock, i.e. in the past (kept positive); "never" (0) and kNever stay.
  const Micros shift = now.clock - kSaved.clock - 100'000'000;
  EXPECT_EQ(r.lines[1], kSampleLines[1]);
  EXPECT_EQ(r.lines[4], "Q fg:{account:a@example.org}!queue " +
                            std::to_string(1'500'000'000 + shift) + " 5000 #17 4ABC1 4ABC2");
  EXPECT_NE(r.lines[0].find("60000000/1/0/0"), std::string::npos) << r.lines[0];
  // The end of an adaptive window's period is a time too; its counts are not.
  EXPECT_NE(r.lines[0].find("/" + std::to_string(3'600'000'000 + shift) + ":4:2500000"),
            std::string::npos)
      << r.lines[0];
}

TEST(StateFormatTest, ATruncatedSnapshotIsRefusedWithoutVisitingAnything) {
  const std::string file = SampleSnapshot();
  for (std::size_t len = 0; len < file.size(); ++len) {
    Recorder r;
    Result<SnapshotInfo> info = DecodeSnapshot(file.substr(0, len), kSaved, r);
    ASSERT_FALSE(info.ok()) << "cut at " << len;
    EXPECT_TRUE(r.lines.empty()) << "cut at " << len;
  }
}

TEST(StateFormatTest, ASnapshotWithAnotherVersionIsRefusedAndSaysSo) {
  std::string file = SampleSnapshot();
  file[8] = 3;  // the version, little-endian
  Recorder r;
  Result<SnapshotInfo> info = DecodeSnapshot(file, kSaved, r);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message().find("format version 3"), std::string::npos)
      << info.error().message();
  EXPECT_NE(info.error().message().find("versions 1 to 2"), std::string::npos)
      << info.error().message();
  EXPECT_TRUE(r.lines.empty());
}

// A version 1 snapshot, as the release before adaptive windows wrote it, byte by byte.
std::string VersionOneSnapshot() {
  std::string out;
  StartSnapshot(&out, 3, kSaved);
  out[8] = 1;
  auto u32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto i64 = [&](std::int64_t v) {
    for (int i = 0; i < 8; ++i) {
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
    }
  };
  const std::string key = "fg:{account:a@example.org}:submission";
  out.push_back('C');
  u32(static_cast<std::uint32_t>(key.size()));
  out += key;
  u32(1);
  for (std::int64_t v : {std::int64_t{3'600'000'000}, std::int64_t{1'002'000'000},
                         std::int64_t{1'050'000'000}, std::int64_t{12}}) {
    i64(v);
  }
  FinishSnapshot(&out, 1);
  return out;
}

TEST(StateFormatTest, AVersionOneSnapshotLoadsWithItsWindowsAndNoLearnedNormal) {
  Recorder r;
  Result<SnapshotInfo> info = DecodeSnapshot(VersionOneSnapshot(), kSaved, r);
  ASSERT_TRUE(info.ok()) << info.error().message();
  EXPECT_EQ(r.lines, std::vector<std::string>{"C fg:{account:a@example.org}:submission "
                                              "3600000000/1002000000/1050000000/12"});
}

TEST(StateFormatTest, ADomainSetInAVersionOneSnapshotIsMalformed) {
  std::string file;
  StartSnapshot(&file, 3, kSaved);
  file[8] = 1;
  RecordWriter w(&file);
  const SeenNetwork domains[] = {{1, 999'500'000}};
  w.Domains("k", 1, domains);
  FinishSnapshot(&file, w.records());
  Recorder r;
  EXPECT_FALSE(DecodeSnapshot(file, kSaved, r).ok());
}

TEST(StateFormatTest, GarbageAndFlippedBitsAreRefused) {
  Recorder r;
  EXPECT_FALSE(DecodeSnapshot("", kSaved, r).ok());
  EXPECT_FALSE(DecodeSnapshot("hello, this is not a state file at all", kSaved, r).ok());
  const std::string file = SampleSnapshot();
  for (std::size_t i = 0; i < file.size(); ++i) {
    std::string damaged = file;
    damaged[i] ^= 0x20;
    Result<SnapshotInfo> info = DecodeSnapshot(damaged, kSaved, r);
    EXPECT_FALSE(info.ok()) << "byte " << i;
  }
  EXPECT_TRUE(r.lines.empty());
}

TEST(StateFormatTest, AMalformedRecordUnderAValidChecksumChangesNothing) {
  std::string out;
  StartSnapshot(&out, 1, kSaved);
  RecordWriter w(&out);
  w.Lock("k", "admin", kNever);
  out += "Z";  // an unknown record type
  FinishSnapshot(&out, 2);
  Recorder r;
  Result<SnapshotInfo> info = DecodeSnapshot(out, kSaved, r);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message().find("record 2"), std::string::npos) << info.error().message();
  EXPECT_TRUE(r.lines.empty()) << "the first record must not be applied either";
}

std::string SampleJournal() {
  std::string file = JournalHeader(8, kSaved);
  auto add = [&](auto write) {
    std::string payload;
    RecordWriter w(&payload);
    write(w);
    file += JournalFrame(payload);
  };
  add([](RecordWriter& w) { w.Lock("fg:{account:a}!lock", "burst", kSaved.clock + 1000); });
  add([](RecordWriter& w) {
    w.Append("fg:{account:a}!queue", "4QID1", 5000, kSaved.clock + 9, 3);
  });
  const std::vector<std::string> keys = {"fg:{account:a}:submission"};
  add([&](RecordWriter& w) { w.Unlock("fg:{account:a}!lock", keys); });
  add([&](RecordWriter& w) { w.Delete(keys); });
  return file;
}

TEST(StateFormatTest, AJournalReplaysItsRecordsInOrder) {
  Recorder r;
  Result<JournalInfo> info = DecodeJournal(SampleJournal(), kSaved, r);
  ASSERT_TRUE(info.ok()) << info.error().message();
  EXPECT_EQ(info->generation, 8u);
  EXPECT_EQ(info->records, 4u);
  EXPECT_EQ(info->torn_bytes, 0u);
  EXPECT_EQ(r.lines, (std::vector<std::string>{
                         "K fg:{account:a}!lock burst 1000001000",
                         "A fg:{account:a}!queue 4QID1 5000 1000000009 #3",
                         "U fg:{account:a}!lock fg:{account:a}:submission",
                         "D fg:{account:a}:submission",
                     }));
}

// kill -9 may stop a write anywhere: every cut replays exactly the whole records before
// it, reports the rest as torn, and is never an error.
TEST(StateFormatTest, AJournalCutAtEveryByteReplaysTheWholeRecordsBeforeTheCut) {
  const std::string file = SampleJournal();
  std::vector<std::size_t> ends;  // where each whole record ends
  {
    std::size_t at = kJournalHeaderSize;
    while (at < file.size()) {
      const auto len =
          static_cast<unsigned char>(file[at]) | static_cast<unsigned char>(file[at + 1]) << 8;
      at += 8 + len;
      ends.push_back(at);
    }
  }
  Recorder whole;
  ASSERT_TRUE(DecodeJournal(file, kSaved, whole).ok());
  for (std::size_t len = 0; len <= file.size(); ++len) {
    Recorder r;
    Result<JournalInfo> info = DecodeJournal(file.substr(0, len), kSaved, r);
    ASSERT_TRUE(info.ok()) << "cut at " << len << ": " << info.error().message();
    const auto expected = static_cast<std::size_t>(
        std::count_if(ends.begin(), ends.end(), [&](std::size_t e) { return e <= len; }));
    EXPECT_EQ(info->records, expected) << "cut at " << len;
    EXPECT_EQ(r.lines,
              std::vector<std::string>(whole.lines.begin(), whole.lines.begin() + expected))
        << "cut at " << len;
    // A cut inside the header leaves no whole header: all of it is torn.
    const std::size_t kept =
        expected > 0 ? ends[expected - 1] : (len < kJournalHeaderSize ? 0 : kJournalHeaderSize);
    EXPECT_EQ(info->torn_bytes, len - kept) << "cut at " << len;
  }
}

TEST(StateFormatTest, AJournalWithAWrongHeaderIsRefused) {
  Recorder r;
  std::string file = SampleJournal();
  std::string other_version = file;
  other_version[8] = 9;
  Result<JournalInfo> v = DecodeJournal(other_version, kSaved, r);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("format version 9"), std::string::npos);
  std::string damaged = file;
  damaged[20] ^= 1;  // inside the generation: the header's checksum fails
  EXPECT_FALSE(DecodeJournal(damaged, kSaved, r).ok());
  EXPECT_FALSE(
      DecodeJournal("garbage that is long enough to hold a whole header...", kSaved, r).ok());
  EXPECT_TRUE(r.lines.empty());
}

TEST(StateFormatTest, ADamagedRecordEndsTheReplayThere) {
  std::string file = SampleJournal();
  file[kJournalHeaderSize + 8 + 3] ^= 1;  // inside the first record's payload
  Recorder r;
  Result<JournalInfo> info = DecodeJournal(file, kSaved, r);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->records, 0u);
  EXPECT_EQ(info->torn_bytes, file.size() - kJournalHeaderSize);
}

}  // namespace
}  // namespace floodgate::store::state
