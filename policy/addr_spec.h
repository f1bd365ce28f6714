// IsPlainAddrSpec: whether a string is an e-mail address floodgate will put on a
// sendmail command line and in a To: or From: header as it is — a dot-atom local part,
// '@', and a domain of LDH labels (RFC 5321/5322 without quoted strings, comments,
// display names or address literals), at most 254 bytes. Such an address is printable
// ASCII with no space, quote, angle bracket or comma, so it cannot inject a header or an
// option, and it needs no encoding.
// Thread-safety: pure function.
#pragma once

#include <string_view>

namespace floodgate::policy {

bool IsPlainAddrSpec(std::string_view address);

}  // namespace floodgate::policy
