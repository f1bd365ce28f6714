// BuildAlertMail: the plain-text mail floodgate sends the admin for one event — what
// happened (subject, traffic class, limit, window, counts, client), what floodgate did,
// and the exact floodgatectl commands to run next. The whole message (headers, blank
// line, body) as sendmail(1) reads it on stdin, LF line ends.
//
// Every input may be hostile (a login or address an attacker chose) or garbage: the
// output is 7-bit printable ASCII plus LF, every header line is one of the headers
// written here (or a continuation of the To: list), no line is longer than 998 bytes,
// and values in the Subject and body are LogValue-escaped. The commands quote their
// arguments for a POSIX shell, so pasting one runs exactly that command.
// Thread-safety: pure functions.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/verdict.h"

namespace floodgate::policy {

// What the headers of every mail floodgate sends say.
struct MailEnvelope {
  std::string mail_from;             // envelope and From: sender
  std::vector<std::string> mail_to;  // recipients, for To:
  std::string host;                  // this host's name (text and Message-ID)
  std::time_t time = 0;              // Date:
  std::string message_id;            // unique left part of Message-ID
};

struct AlertMail : MailEnvelope {
  Alert alert;
  std::string config_path;  // shown as floodgatectl -c PATH unless the default
  // The locked event's limit's locked_action: "hold" (the locked subject's mail goes to
  // the hold queue) or "reject" (the default).
  std::string locked_action = "reject";
  // Mails not sent since the previous one went out (rate limit), by event name.
  std::vector<std::pair<std::string, int>> suppressed;
};

// The header names BuildAlertMail writes, in order.
extern const char* const kAlertMailHeaders[10];

std::string BuildAlertMail(const AlertMail& mail);

// Any other mail of floodgate's (the daily report) with the same guarantees: `kind` goes
// to X-Floodgate-Event, `subject` (cut to 140 bytes) to Subject:, non-ASCII and control
// bytes in either or in `body` become '?', body lines are broken at 998 bytes.
std::string BuildPlainMail(const MailEnvelope& envelope, std::string_view kind,
                           std::string_view subject, std::string_view body);

// What BuildAlertMail guarantees, checked on `message` (unit tests, the fuzz target): ""
// when it holds, else what is wrong. A header section of kAlertMailHeaders lines (To:
// may continue on lines starting with a space), a blank line, a body; no CR or NUL, only
// printable ASCII and LF, no line over 998 bytes.
std::string CheckAlertMail(std::string_view message);

// `word` as one POSIX shell word: as is when made of [A-Za-z0-9@%+,._:/=-], in single
// quotes when it is other printable ASCII, as $'...' with \xNN escapes otherwise.
std::string ShellWord(std::string_view word);

// The floodgatectl config path shown when a config path is not given (floodgatectl's own
// default, which commands then need not repeat).
inline constexpr std::string_view kDefaultConfigPath = "/etc/floodgate/floodgate.toml";

}  // namespace floodgate::policy
