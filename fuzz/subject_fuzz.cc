// Fuzzes subject, key, log and reply derivation with hostile logins, senders and
// addresses: keys must keep exactly one hash tag and no control bytes, distinct logins
// must give distinct keys, log values must stay one token on one line, reply texts must
// have no CR/LF and no lone '%'.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/classify.h"
#include "policy/escape.h"
#include "policy/facts.h"
#include "policy/planner.h"

namespace {

using namespace floodgate::policy;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckKey(const std::string& key) {
  Check(std::count(key.begin(), key.end(), '{') == 1);
  Check(std::count(key.begin(), key.end(), '}') == 1);
  for (unsigned char c : key) Check(c > 0x20 && c < 0x7f);
}

void CheckLogValue(std::string_view raw, const std::string& v) {
  for (unsigned char c : v) Check(c >= 0x20 && c < 0x7f);
  if (v.empty() || v.front() != '"') {
    Check(v.find_first_of(" =\"\\") == std::string::npos);
    Check(v == raw);
  }
}

void CheckReply(const std::string& r) {
  Check(r.find_first_of("\r\n") == std::string::npos);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r[i] == '%') {
      Check(i + 1 < r.size() && r[i + 1] == '%');
      ++i;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // Input: login \0 sender \0 address (missing parts are empty).
  const auto a = in.find('\0');
  const std::string_view login = in.substr(0, a);
  const std::string_view rest = a == std::string_view::npos ? "" : in.substr(a + 1);
  const auto b = rest.find('\0');
  const std::string_view sender = rest.substr(0, b);
  const std::string_view address = b == std::string_view::npos ? "" : rest.substr(b + 1);

  Config config;
  for (SubjectKind kind : {SubjectKind::kAccount, SubjectKind::kIp, SubjectKind::kSender,
                           SubjectKind::kSenderDomain}) {
    Limit l;
    l.name = std::string("l-") + ToString(kind);
    l.subject = kind;
    l.traffic = DefaultTraffic(l.subject);
    Rate r;
    r.amount = 10;
    r.period_s = 60;
    l.rates = {r};
    config.limits.push_back(l);
  }
  Facts facts;
  facts.account = Lower(login);
  facts.sender = NormaliseAddress(sender);
  facts.client = Address::Parse(address);
  facts.traffic = Classify(config.traffic, facts);
  const Plan plan = MakePlan(config, facts, {});
  for (const auto& c : plan.checks) CheckKey(c.key);

  // Distinct values never share a key.
  const std::string k1 = KeyComponent(login);
  const std::string k2 = KeyComponent(sender);
  Check((login == sender) == (k1 == k2));

  CheckLogValue(login, LogValue(login));
  CheckReply(ReplyText(in));
  return 0;
}
