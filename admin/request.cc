#include "admin/request.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace floodgate::admin {
namespace {

constexpr std::array<std::string_view, 8> kOps = {"status", "show",  "top",    "lock",
                                                  "unlock", "reset", "events", "queue-ids"};

bool NeedsSubject(std::string_view op) { return op != "status" && op != "top" && op != "events"; }

}  // namespace

Json ToJson(const Request& r) {
  return {{"op", r.op},
          {"subject", r.subject},
          {"count", r.count},
          {"ttl_s", r.ttl_s},
          {"reason", r.reason}};
}

Result<Request> RequestFromJson(const Json& j) {
  const Error bad(ErrorKind::kInvalid,
                  "bad admin request: expected {\"op\": ..., "
                  "\"subject\": ..., \"count\": N, \"ttl_s\": N, "
                  "\"reason\": ...}");
  if (!j.is_object()) return bad;
  Request r;
  try {
    r.op = j.at("op").get<std::string>();
    r.subject = j.value("subject", std::string());
    r.count = j.value("count", 20);
    r.ttl_s = j.value("ttl_s", std::int64_t{0});
    r.reason = j.value("reason", std::string());
  } catch (const Json::exception&) {
    return bad;
  }
  if (std::find(kOps.begin(), kOps.end(), r.op) == kOps.end()) {
    return Error(ErrorKind::kInvalid, "unknown admin request \"" + r.op.substr(0, 32) + "\"");
  }
  if (NeedsSubject(r.op) && r.subject.empty()) {
    return Error(ErrorKind::kInvalid, r.op + " needs a subject");
  }
  if (r.count < 1 || r.count > 100000 || r.ttl_s < 0) {
    return Error(ErrorKind::kInvalid, "count must be 1..100000 and ttl_s >= 0");
  }
  return r;
}

Result<Json> Perform(Admin& admin, const Request& r) {
  policy::Subject subject;
  if (NeedsSubject(r.op)) {
    auto parsed = policy::ParseSubject(r.subject);
    if (!parsed.ok()) return parsed.error();
    subject = *parsed;
  }
  if (r.op == "status") return admin.Status();
  if (r.op == "show") return admin.Show(subject);
  if (r.op == "top") return admin.Top(r.count);
  if (r.op == "lock") return admin.Lock(subject, r.ttl_s, r.reason);
  if (r.op == "unlock") return admin.Unlock(subject);
  if (r.op == "reset") return admin.Reset(subject);
  if (r.op == "events") return admin.Events(r.count);
  if (r.op == "queue-ids") {
    auto ids = admin.QueueIds(subject);
    if (!ids.ok()) return ids.error();
    return Json(*ids);
  }
  return Error(ErrorKind::kInvalid, "unknown admin request \"" + r.op.substr(0, 32) + "\"");
}

}  // namespace floodgate::admin
