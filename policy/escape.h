// Escaping of untrusted values (SASL logins, envelope addresses, client names) for the
// three places they end up: store keys, syslog lines, SMTP replies. Each function makes
// forging impossible in its place: distinct inputs give distinct keys; a log value is
// one token that cannot end the line or start another field; a reply text has no CR/LF
// and no lone '%' (libmilter's smfi_setreply treats '%' as a format character).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace floodgate::policy {

// Encodes a subject value for use inside a store key: bytes outside [A-Za-z0-9._@+-]
// become %XX (upper-case hex), so '{', '}', ':', '%', spaces, controls and non-UTF-8
// bytes can neither break a Redis Cluster hash tag nor collide with another value.
// Values longer than 200 encoded bytes are cut and suffixed with "~" and a 64-bit hash
// of the whole value in hex, so keys stay bounded and distinct.
std::string KeyComponent(std::string_view value);

// A syslog key=value value: returned as is when it is made only of printable ASCII other
// than space, '"', '\\' and '='; otherwise double-quoted with \" \\ and \xNN escapes
// (controls, bytes >= 0x7f). Longer than 256 bytes: cut, with "..." appended inside.
std::string LogValue(std::string_view value);

// SMTP reply text for smfi_setreply: CR, LF and other controls become spaces, bytes
// >= 0x7f become '?', '%' is doubled; at most 400 bytes.
std::string ReplyText(std::string_view text);

}  // namespace floodgate::policy
