#include "tools/bench/wire.h"

#include <libmilter/mfdef.h>

#include <string>

namespace floodgate::bench {
namespace {

void AppendU32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t ReadU32(std::string_view s, std::size_t at) {
  auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + i]));
  };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

void AppendCString(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}

// Reserves the length field, lets fill() append the data, then patches the length.
template <class F>
void AppendFramed(std::string& out, char command, F&& fill) {
  const std::size_t at = out.size();
  AppendU32(out, 0);
  out.push_back(command);
  fill();
  const auto len = static_cast<std::uint32_t>(out.size() - at - 4);
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((len >> (24 - 8 * i)) & 0xff);
}

}  // namespace

void AppendPacket(std::string& out, char command, std::string_view data) {
  AppendU32(out, static_cast<std::uint32_t>(data.size() + 1));
  out.push_back(command);
  out.append(data);
}

void AppendOptneg(std::string& out, const Negotiation& offer) {
  AppendFramed(out, SMFIC_OPTNEG, [&] {
    AppendU32(out, offer.version);
    AppendU32(out, offer.actions);
    AppendU32(out, offer.protocol);
  });
}

void AppendMacros(std::string& out, char stage, std::span<const Macro> macros) {
  AppendFramed(out, SMFIC_MACRO, [&] {
    out.push_back(stage);
    for (const auto& [name, value] : macros) {
      AppendCString(out, name);
      AppendCString(out, value);
    }
  });
}

void AppendConnect(std::string& out, std::string_view hostname, char family, std::uint16_t port,
                   std::string_view address) {
  AppendFramed(out, SMFIC_CONNECT, [&] {
    AppendCString(out, hostname);
    out.push_back(family);
    if (family == SMFIA_UNKNOWN) return;
    out.push_back(static_cast<char>(port >> 8));
    out.push_back(static_cast<char>(port & 0xff));
    AppendCString(out, address);
  });
}

void AppendStrings(std::string& out, char command, std::span<const std::string_view> strings) {
  AppendFramed(out, command, [&] {
    for (std::string_view s : strings) AppendCString(out, s);
  });
}

void AppendEmpty(std::string& out, char command) { AppendPacket(out, command, {}); }

void PacketDecoder::Feed(std::string_view bytes) {
  // Drop consumed bytes before growing, so the buffer stays about one packet long.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > 4096)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<Packet>> PacketDecoder::Next() {
  if (failed_) return *failed_;
  const std::string_view rest = std::string_view(buf_).substr(pos_);
  if (rest.size() < 4) return std::optional<Packet>();
  const std::uint32_t len = ReadU32(rest, 0);
  if (len == 0 || len - 1 > max_data_) {
    failed_ = Error(ErrorKind::kInternal, "bad milter packet length " + std::to_string(len));
    return *failed_;
  }
  if (rest.size() - 4 < len) return std::optional<Packet>();
  Packet p;
  p.command = rest[4];
  p.data.assign(rest.substr(5, len - 1));
  pos_ += 4 + len;
  return std::optional<Packet>(std::move(p));
}

Result<Negotiation> ParseOptnegReply(const Packet& reply) {
  if (reply.command != SMFIC_OPTNEG) {
    return Error(ErrorKind::kInternal,
                 std::string("expected an option negotiation reply, got '") + reply.command + "'");
  }
  if (reply.data.size() < MILTER_OPTLEN) {
    return Error(ErrorKind::kInternal, "option negotiation reply too short: " +
                                           std::to_string(reply.data.size()) + " bytes");
  }
  Negotiation n;
  n.version = ReadU32(reply.data, 0);
  n.actions = ReadU32(reply.data, 4);
  n.protocol = ReadU32(reply.data, 8);
  return n;
}

ReplyKind ClassifyReply(const Packet& reply) {
  const bool empty = reply.data.empty();
  switch (reply.command) {
    case SMFIR_CONTINUE:
      return empty ? ReplyKind::kContinue : ReplyKind::kMalformed;
    case SMFIR_TEMPFAIL:
      return empty ? ReplyKind::kTempfail : ReplyKind::kMalformed;
    case SMFIR_REJECT:
      return empty ? ReplyKind::kReject : ReplyKind::kMalformed;
    case SMFIR_ACCEPT:
      return empty ? ReplyKind::kAccept : ReplyKind::kMalformed;
    case SMFIR_DISCARD:
      return empty ? ReplyKind::kDiscard : ReplyKind::kMalformed;
    case SMFIR_REPLYCODE:
      // "ddd x.y.z text\0"; Postfix insists on a 4xx or 5xx code.
      if (reply.data.size() >= 3 && reply.data[0] == '4') return ReplyKind::kReply4xx;
      if (reply.data.size() >= 3 && reply.data[0] == '5') return ReplyKind::kReply5xx;
      return ReplyKind::kMalformed;
    case SMFIR_SKIP:
    case SMFIR_SHUTDOWN:
    case SMFIR_CONN_FAIL:
      return ReplyKind::kOther;
    case SMFIR_PROGRESS:
    case SMFIR_ADDRCPT:
    case SMFIR_DELRCPT:
    case SMFIR_ADDRCPT_PAR:
    case SMFIR_REPLBODY:
    case SMFIR_CHGFROM:
    case SMFIR_ADDHEADER:
    case SMFIR_INSHEADER:
    case SMFIR_CHGHEADER:
    case SMFIR_QUARANTINE:
      return ReplyKind::kIntermediate;
    default:
      return ReplyKind::kMalformed;
  }
}

const char* ReplyKindName(ReplyKind k) {
  switch (k) {
    case ReplyKind::kContinue:
      return "continue";
    case ReplyKind::kTempfail:
      return "tempfail";
    case ReplyKind::kReject:
      return "reject";
    case ReplyKind::kReply4xx:
      return "4xx";
    case ReplyKind::kReply5xx:
      return "5xx";
    case ReplyKind::kAccept:
      return "accept";
    case ReplyKind::kDiscard:
      return "discard";
    case ReplyKind::kOther:
      return "other";
    case ReplyKind::kIntermediate:
      return "intermediate";
    case ReplyKind::kMalformed:
      return "malformed";
  }
  return "?";
}

}  // namespace floodgate::bench
