// RecipientDomain: the domain an envelope recipient is delivered to, when floodgate can
// tell for sure.
//
// `destinations = "external"` makes mail to the site's own domains free, so a recipient
// that only looks local must never pass as local. Postfix rewrites some addresses before
// it delivers them: "user%other.example@site" and "other.example!user@site" are routed to
// other.example (allow_percent_hack, swap_bangpath), a source route "@a:user@b" is
// dropped, a quoted local part may hide an '@'. So a domain is returned only for a plain
// mailbox: a dot-atom or quoted local part without '%', '!' or '@', one '@', and a domain
// of non-empty labels (letters, digits, '-', '_' and UTF-8 bytes, compared as sent: an
// internationalised domain and its xn-- form are different names). Anything else -
// source routes, address literals, no domain, a trailing dot, overlong input - gives
// nullopt, and a recipient without a known domain counts as external.
// Thread-safety: pure function. Linear in the input; input over kMaxRecipientLength is
// refused without being scanned.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace floodgate::policy {

// RFC 5321 allows a path of 256 octets; Postfix accepts longer ones. Past this, no address
// is plausible.
inline constexpr std::size_t kMaxRecipientLength = 1024;

// `rcpt` as the milter gets it ("<Bob@Example.ORG>", angle brackets optional): the
// lower-cased domain, or nullopt when it is not a plain mailbox.
std::optional<std::string> RecipientDomain(std::string_view rcpt);

}  // namespace floodgate::policy
