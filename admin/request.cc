#include "admin/request.h"

#include <string_view>

namespace floodgate::admin {
namespace {

// Every command: its name, whether it names a subject, and what it does. The one list
// both validation and dispatch read.
struct Command {
  std::string_view op;
  bool needs_subject;
  Result<Json> (*run)(Admin&, const Request&, const policy::Subject&);
};

constexpr Command kCommands[] = {
    {"status", false, [](Admin& a, const Request&, const policy::Subject&) { return a.Status(); }},
    {"show", true, [](Admin& a, const Request&, const policy::Subject& s) { return a.Show(s); }},
    {"top", false,
     [](Admin& a, const Request& r, const policy::Subject&) { return a.Top(r.count); }},
    {"lock", true,
     [](Admin& a, const Request& r, const policy::Subject& s) {
       return a.Lock(s, r.ttl_s, r.reason);
     }},
    {"unlock", true,
     [](Admin& a, const Request&, const policy::Subject& s) { return a.Unlock(s); }},
    {"reset", true, [](Admin& a, const Request&, const policy::Subject& s) { return a.Reset(s); }},
    {"events", false,
     [](Admin& a, const Request& r, const policy::Subject&) { return a.Events(r.count); }},
    {"report", false,
     [](Admin& a, const Request& r, const policy::Subject&) { return a.Report(r.since_s); }},
    {"queue-ids", true,
     [](Admin& a, const Request&, const policy::Subject& s) -> Result<Json> {
       auto ids = a.QueueIds(s);
       if (!ids.ok()) return ids.error();
       return Json(*ids);
     }},
    {"held-forget", true,
     [](Admin& a, const Request&, const policy::Subject& s) { return a.ForgetHeld(s); }},
    {"held", false, [](Admin& a, const Request&, const policy::Subject&) { return a.Held(); }},
};

const Command* Find(std::string_view op) {
  for (const Command& c : kCommands) {
    if (c.op == op) return &c;
  }
  return nullptr;
}

Error Unknown(const std::string& op) {
  return Error(ErrorKind::kInvalid, "unknown admin request \"" + op.substr(0, 32) + "\"");
}

}  // namespace

Json ToJson(const Request& r) {
  return {{"op", r.op},       {"subject", r.subject}, {"count", r.count},
          {"ttl_s", r.ttl_s}, {"reason", r.reason},   {"since_s", r.since_s}};
}

Result<Request> RequestFromJson(const Json& j) {
  const Error bad(ErrorKind::kInvalid,
                  "bad admin request: expected {\"op\": ..., "
                  "\"subject\": ..., \"count\": N, \"ttl_s\": N, "
                  "\"reason\": ..., \"since_s\": N}");
  if (!j.is_object()) return bad;
  Request r;
  try {
    r.op = j.at("op").get<std::string>();
    r.subject = j.value("subject", std::string());
    r.count = j.value("count", 20);
    r.ttl_s = j.value("ttl_s", std::int64_t{0});
    r.reason = j.value("reason", std::string());
    r.since_s = j.value("since_s", std::int64_t{86400});
  } catch (const Json::exception&) {
    return bad;
  }
  const Command* command = Find(r.op);
  if (command == nullptr) return Unknown(r.op);
  if (command->needs_subject && r.subject.empty()) {
    return Error(ErrorKind::kInvalid, r.op + " needs a subject");
  }
  if (r.count < 1 || r.count > 100000 || r.ttl_s < 0 || r.since_s < 1) {
    return Error(ErrorKind::kInvalid, "count must be 1..100000, ttl_s >= 0 and since_s >= 1");
  }
  return r;
}

Result<Json> Perform(Admin& admin, const Request& r) {
  const Command* command = Find(r.op);
  if (command == nullptr) return Unknown(r.op);
  policy::Subject subject;
  if (command->needs_subject) {
    auto parsed = policy::ParseSubject(r.subject);
    if (!parsed.ok()) return parsed.error();
    subject = *parsed;
  }
  return command->run(admin, r, subject);
}

}  // namespace floodgate::admin
