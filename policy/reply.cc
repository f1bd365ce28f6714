#include "policy/reply.h"

#include <fmt/format.h>

#include "policy/escape.h"

namespace floodgate::policy {
namespace {

const char* Scope(SubjectKind kind) {
  switch (kind) {
    case SubjectKind::kAccount:
      return "account";
    case SubjectKind::kIp:
      return "client address";
    case SubjectKind::kSender:
      return "sender";
    case SubjectKind::kSenderDomain:
      return "sender domain";
  }
  return "sender";
}

}  // namespace

Reply RefusalReply(const Limit& limit, Action action) {
  Reply r;
  if (action == Action::kReject) {
    r.code = "550";
    r.xcode = "5.7.1";
    r.text =
        limit.reply ? *limit.reply : fmt::format("{} sending rate exceeded", Scope(limit.subject));
  } else {
    r.code = "451";
    r.xcode = "4.7.28";
    r.text = limit.reply
                 ? *limit.reply
                 : fmt::format("{} sending rate exceeded, try again later", Scope(limit.subject));
  }
  r.text = ReplyText(r.text);
  return r;
}

Reply LockedReply(SubjectKind kind) {
  return {"550", "5.7.1",
          fmt::format("{} locked for sending, contact your administrator", Scope(kind))};
}

Reply StoreDownReply() {
  return {"451", "4.3.0", "rate limit service unavailable, try again later"};
}

Reply HoldRefusedReply() { return {"451", "4.7.28", "message held back, try again later"}; }

Reply AsTempfail(const Reply& reply) {
  if (reply.code.starts_with('4')) return reply;
  return {"451", "4.7.28", reply.text};
}

}  // namespace floodgate::policy
