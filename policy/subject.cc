#include "policy/subject.h"

#include "policy/facts.h"
#include "policy/network.h"

namespace floodgate::policy {

std::string Subject::ToString() const { return std::string(policy::ToString(kind)) + ":" + value; }

std::optional<SubjectKind> ParseSubjectKind(std::string_view name) {
  for (SubjectKind k : {SubjectKind::kAccount, SubjectKind::kIp, SubjectKind::kSender,
                        SubjectKind::kSenderDomain}) {
    if (name == policy::ToString(k)) return k;
  }
  return std::nullopt;
}

Result<Subject> ParseSubject(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error(ErrorKind::kInvalid, "subject must be KIND:VALUE, e.g. account:alice@example.org");
  }
  const auto kind = ParseSubjectKind(text.substr(0, colon));
  if (!kind) {
    return Error(ErrorKind::kInvalid, "unknown subject kind '" +
                                          std::string(text.substr(0, colon)) +
                                          "' (account, ip, sender, sender_domain)");
  }
  const std::string_view raw = text.substr(colon + 1);
  if (raw.empty()) return Error(ErrorKind::kInvalid, "empty subject value");
  Subject s;
  s.kind = *kind;
  if (*kind == SubjectKind::kIp) {
    const auto net = Network::Parse(raw);
    if (!net) return Error(ErrorKind::kInvalid, "not an address or network: " + std::string(raw));
    s.value = net->ToString();
  } else if (*kind == SubjectKind::kSender) {
    s.value = NormaliseAddress(raw);
  } else {
    s.value = Lower(raw);
  }
  return s;
}

std::string SubjectValueFor(const Subject& subject, const Limit& limit) {
  if (subject.kind != SubjectKind::kIp) return subject.value;
  const auto net = Network::Parse(subject.value);
  if (!net) return subject.value;
  const int prefix = net->base.v6 ? limit.ipv6_prefix : limit.ipv4_prefix;
  return Network::Of(net->base, std::min(prefix, net->prefix)).ToString();
}

}  // namespace floodgate::policy
