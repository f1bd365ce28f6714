// The MTA side of the Sendmail milter protocol (version 6), as Postfix speaks it:
// encoding of the commands floodgate-bench sends and decoding of the milter's replies.
//
// A packet is a 4-byte big-endian length (command byte plus data), the command byte, then
// the data. Strings inside the data are NUL-terminated. Command, reply and protocol-flag
// constants come from libmilter's <libmilter/mfdef.h>.
//
// Thread-safety: the Append* and Parse/Classify functions are pure; a PacketDecoder
// belongs to one session and is not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "floodgate/result.h"

namespace floodgate::bench {

// The largest reply a milter may send (libmilter's MILTER_MAX_DATA_SIZE, 1M variant).
inline constexpr std::size_t kMaxReplyData = 1024 * 1024;

// One decoded packet: the command (or reply) byte and its data, length prefix removed.
struct Packet {
  char command = 0;
  std::string data;
};

// What SMFIC_OPTNEG carries in both directions.
struct Negotiation {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;
  std::uint32_t protocol = 0;
};

// A macro name and value as Postfix sends them (e.g. {"{auth_authen}", "alice@example.org"}).
using Macro = std::pair<std::string_view, std::string_view>;

// Appends one packet: length, command, data.
void AppendPacket(std::string& out, char command, std::string_view data);
// SMFIC_OPTNEG: version, actions and protocol flags, each 32-bit big-endian.
void AppendOptneg(std::string& out, const Negotiation& offer);
// SMFIC_MACRO: the stage (the command the macros belong to), then name\0value\0 pairs.
void AppendMacros(std::string& out, char stage, std::span<const Macro> macros);
// SMFIC_CONNECT: hostname\0, family ('4', '6', 'L', 'U'), port (16-bit big-endian) and
// address\0; the unknown family carries the hostname only.
void AppendConnect(std::string& out, std::string_view hostname, char family, std::uint16_t port,
                   std::string_view address);
// A command whose data is a list of NUL-terminated strings: HELO (one), MAIL and RCPT
// ("<address>" then ESMTP arguments), HEADER (name, value).
void AppendStrings(std::string& out, char command, std::span<const std::string_view> strings);
// A command without data: DATA, EOH, BODYEOB, ABORT, QUIT.
void AppendEmpty(std::string& out, char command);

// Splits a byte stream into packets. Feed bytes as they arrive, then call Next() until it
// returns no packet.
class PacketDecoder {
 public:
  explicit PacketDecoder(std::size_t max_data = kMaxReplyData) : max_data_(max_data) {}

  void Feed(std::string_view bytes);
  // The next complete packet, std::nullopt when more bytes are needed, or an Error when
  // the stream is corrupt (zero length, longer than max_data). After an Error the
  // decoder keeps returning it: the connection cannot be resynchronised.
  Result<std::optional<Packet>> Next();
  // Bytes received but not yet returned as packets.
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::size_t max_data_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::optional<Error> failed_;
};

// Parses the milter's reply to SMFIC_OPTNEG. Trailing data (SMFIR_SETSYMLIST macro lists)
// is accepted and ignored.
Result<Negotiation> ParseOptnegReply(const Packet& reply);

// How the MTA treats one reply packet.
enum class ReplyKind {
  kContinue,      // 'c'
  kTempfail,      // 't'
  kReject,        // 'r'
  kReply4xx,      // 'y' with a 4xx code
  kReply5xx,      // 'y' with a 5xx code
  kAccept,        // 'a'
  kDiscard,       // 'd'
  kOther,         // 's' skip, '4' shutdown, 'f' connection failure
  kIntermediate,  // 'p' progress, or an end-of-message modification ('h', 'm', ...)
  kMalformed,     // unknown byte, or data where none belongs
};
inline constexpr int kReplyKindCount = 10;

ReplyKind ClassifyReply(const Packet& reply);
// Only final replies end the wait for a command's answer.
inline bool IsFinal(ReplyKind k) { return k != ReplyKind::kIntermediate; }
// True when the command's subject goes on: continue (and accept, which Postfix honours
// by skipping the milter for the rest of the message).
inline bool IsPositive(ReplyKind k) {
  return k == ReplyKind::kContinue || k == ReplyKind::kAccept || k == ReplyKind::kDiscard;
}
// Short lower-case name for reports: "continue", "tempfail", "4xx", ...
const char* ReplyKindName(ReplyKind k);

}  // namespace floodgate::bench
