#include "store/read_ownership.h"

namespace floodgate::store {

void ReadOwnership::Connected() {
  reader_ = Reader::kIo;
  rest_waits_ = false;
}

std::optional<ReadOwnership::Claim> ReadOwnership::TryClaim() {
  if (reader_ != Reader::kNobody) return std::nullopt;
  reader_ = Reader::kCaller;
  return Claim{connection_};
}

bool ReadOwnership::Holds(const Claim& claim) const {
  return claim.connection == connection_ && reader_ == Reader::kCaller;
}

ReadOwnership::Steps ReadOwnership::Release(const Claim& claim, bool busy) {
  if (!Holds(claim)) return {.close = claim.connection != connection_};
  // A deferred rest of a write is still to be written: the connection is not idle.
  if (!busy && !rest_waits_) {
    reader_ = Reader::kNobody;
    return {};
  }
  reader_ = Reader::kIo;
  const bool rest = rest_waits_;
  rest_waits_ = false;
  return {.start_io_read = true, .write_rest = rest};
}

ReadOwnership::Steps ReadOwnership::Failed(const Claim& claim) {
  if (!Holds(claim)) return {.close = claim.connection != connection_};
  reader_ = Reader::kFailing;
  rest_waits_ = false;
  return {.fail = true};
}

ReadOwnership::Steps ReadOwnership::NeedReader() {
  if (reader_ != Reader::kNobody) return {};  // someone reads already, or no connection yet
  reader_ = Reader::kIo;
  return {.start_io_read = true};
}

ReadOwnership::Steps ReadOwnership::IoReadDone(bool busy) {
  if (reader_ != Reader::kIo) return {};
  if (busy) return {.read_again = true};
  reader_ = Reader::kNobody;
  return {.park = true};
}

ReadOwnership::Steps ReadOwnership::RestToWrite() {
  switch (reader_) {
    case Reader::kIo:
      return {.write_rest = true};
    case Reader::kNobody:
      reader_ = Reader::kIo;
      return {.start_io_read = true, .write_rest = true};
    case Reader::kCaller:
      rest_waits_ = true;  // the caller gives the read side back: its Release() is busy
      return {};
    case Reader::kDown:
    case Reader::kFailing:
      return {};  // the connection is going: nothing more is written on it
  }
  return {};
}

ReadOwnership::Steps ReadOwnership::Broken() {
  if (reader_ != Reader::kIo && reader_ != Reader::kNobody) return {};
  reader_ = Reader::kFailing;
  rest_waits_ = false;
  return {.fail = true};
}

ReadOwnership::Steps ReadOwnership::Lost() {
  const bool caller_reads = reader_ == Reader::kCaller;
  reader_ = Reader::kDown;
  rest_waits_ = false;
  ++connection_;
  return {.wake_caller = caller_reads};
}

}  // namespace floodgate::store
