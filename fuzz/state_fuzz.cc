// libFuzzer target: the embedded store's state files (store/state_format.h), as a damaged
// disk or an older release might leave them. The input becomes the records of a snapshot
// (of version 1 or 2 and with the record count its first byte says) with a valid header and
// checksum, so the decoder reaches every record type, and the payload of a journal. Whatever the
// bytes, decoding ends without a crash or a sanitizer report, a refused snapshot visits nothing,
// and a journal replays only whole records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/state_format.h"

namespace {

using namespace floodgate::store::state;

void Check(bool ok) {
  if (!ok) std::abort();
}

class Counting final : public Visitor {
 public:
  std::size_t visits = 0;
  void Counter(std::string_view, std::span<const Window>) override { ++visits; }
  void Lock(std::string_view, std::string_view, floodgate::Micros) override { ++visits; }
  void Networks(std::string_view, floodgate::Micros, std::span<const SeenNetwork>) override {
    ++visits;
  }
  void Domains(std::string_view, floodgate::Micros, std::span<const SeenNetwork>) override {
    ++visits;
  }
  void List(std::string_view, floodgate::Micros, std::uint32_t, std::uint64_t,
            std::span<const std::string_view>) override {
    ++visits;
  }
  void Unlock(std::string_view, std::span<const std::string_view>) override { ++visits; }
  void Append(std::string_view, std::string_view, std::uint32_t, floodgate::Micros,
              std::uint64_t) override {
    ++visits;
  }
  void Delete(std::span<const std::string_view>) override { ++visits; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const Stamp saved{1'000'000'000, 1'700'000'000'000'000};
  const Stamp now{5'000'000, saved.wall + 100'000'000};
  {
    // First byte: bit 0 the version (1 or 2), the rest the record count of the header.
    const unsigned head = in.empty() ? 0 : static_cast<unsigned char>(in[0]);
    std::string file;
    StartSnapshot(&file, 1, saved);
    if (head & 1) file[8] = 1;  // a previous release's snapshot
    file.append(in.substr(in.empty() ? 0 : 1));
    FinishSnapshot(&file, head >> 1);
    Counting v;
    const auto info = DecodeSnapshot(file, now, v);
    if (info.ok()) {
      Check(v.visits == info->records && info->records == (head >> 1));
    } else {
      Check(v.visits == 0);  // a refused file changes nothing
    }
  }
  {
    std::string journal = JournalHeader(7, saved);
    journal.append(in);
    Counting v;
    const auto info = DecodeJournal(journal, now, v);
    if (info.ok()) Check(v.visits == info->records && info->torn_bytes <= in.size());
  }
  return 0;
}
