// Reply: every SMTP reply floodgate gives, built here and nowhere else, so that codes,
// enhanced status codes and texts stay consistent and safe: texts pass through
// ReplyText (escape.h), so no login, address or admin-written text can put a CR, LF or a
// lone '%' into smfi_setreply.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "policy/config.h"

namespace floodgate::policy {

struct Reply {
  std::string code;   // "451"
  std::string xcode;  // "4.7.28"
  std::string text;   // already safe for smfi_setreply
};

// The reply for a refusal by `action` (tempfail or reject) of `limit`:
// 451 4.7.28 "<scope> sending rate exceeded, try again later" or
// 550 5.7.1 "<scope> sending rate exceeded", or the limit's own text.
Reply RefusalReply(const Limit& limit, Action action);

// 550 5.7.1 "<scope> locked for sending, contact your administrator".
Reply LockedReply(SubjectKind kind);

// 451 4.3.0: the store is unreachable and store.on_error = "tempfail".
Reply StoreDownReply();

// 451 4.7.28: a message floodgate meant to hold, but the MTA did not let it.
Reply HoldRefusedReply();

// The same refusal as a tempfail: sendmail(1) mail is never rejected (a reject there is a
// configuration error to Postfix, and a tempfail keeps it in the maildrop for a retry).
Reply AsTempfail(const Reply& reply);

}  // namespace floodgate::policy
