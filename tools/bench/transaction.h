// What Postfix writes to a milter at each stage of one SMTP session: the macros of the
// stage (sent even when the milter skips the stage's command, as Postfix does) followed,
// unless skipped, by the command itself. The session driver decides when to flush and
// whether to wait for a reply; these functions only append bytes.
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tools/bench/workload.h"

namespace floodgate::bench {

// Everything a message's packets say about it.
struct MessageFacts {
  std::uint64_t number = 0;
  std::string queue_id;  // macro i
  std::string account;   // {auth_authen}; empty for unauthenticated mail
  std::string sender;    // bare address, {mail_addr}
};
MessageFacts FactsFor(const WorkloadOptions& w, std::uint64_t message);

// Macros for 'C' (j, {daemon_name}, {daemon_addr}, v, _) and SMFIC_CONNECT with family
// '4' (inet) or 'L' (unix).
void AppendConnectStage(std::string& out, std::string_view client_addr, std::uint16_t port,
                        bool inet, bool send_command);
void AppendHeloStage(std::string& out);  // SMFIC_HELO (Postfix sends no HELO macros by default)
// Macros for 'M' (i, {auth_type}, {auth_authen} when authenticated, {mail_addr},
// {mail_mailer}) and SMFIC_MAIL "<sender>".
void AppendMailStage(std::string& out, const MessageFacts& m, bool send_command);
// Macros for 'R' (i, {rcpt_addr}, {rcpt_host}, {rcpt_mailer}) and SMFIC_RCPT "<rcpt>".
void AppendRcptStage(std::string& out, const MessageFacts& m, std::string_view rcpt,
                     bool send_command);
// Macros for 'T' (i) and SMFIC_DATA.
void AppendDataStage(std::string& out, const MessageFacts& m, bool send_command);
// Header number `index` (0 <= index < kHeaderCount) as SMFIC_HEADER; rcpt goes in To:.
inline constexpr int kHeaderCount = 4;
void AppendHeader(std::string& out, const MessageFacts& m, std::string_view rcpt, int index);
// A body of CRLF-terminated lines, at least `bytes` long, cut into SMFIC_BODY chunks by
// the caller (MILTER_CHUNK_SIZE).
std::string BodyOf(std::size_t bytes);
// Macros for 'E' (i) and SMFIC_BODYEOB.
void AppendEndOfMessage(std::string& out, const MessageFacts& m);

}  // namespace floodgate::bench
