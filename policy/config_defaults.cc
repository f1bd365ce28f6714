// The built-in configuration (floodgate without -c) and the names of the config enums,
// spelled exactly as floodgate.toml spells them so messages and `floodgate -n` can be
// pasted back into a config file.
#include "policy/config.h"

namespace floodgate::policy {
namespace {

Rate MakeRate(std::int64_t amount, std::int64_t period_s, const char* text) {
  Rate r;
  r.amount = amount;
  r.period_s = period_s;
  r.burst = amount;
  r.text = text;
  return r;
}

}  // namespace

Config DefaultConfig() {
  Config c;
  c.source = "(built-in defaults)";
  c.store.backend = Backend::kMemory;
  Limit l;
  l.name = "default-account";
  l.subject = SubjectKind::kAccount;
  l.count = CountKind::kRecipients;
  l.rates = {MakeRate(30, 60, "30/1m"), MakeRate(300, 3600, "300/1h"),
             MakeRate(2000, 86400, "2000/1d")};
  l.action = Action::kTempfail;
  l.mode = Mode::kLeaky;
  l.traffic = DefaultTraffic(l.subject);
  c.limits.push_back(std::move(l));
  return c;
}

TrafficSet DefaultTraffic(SubjectKind subject) {
  switch (subject) {
    case SubjectKind::kAccount:
      return {Traffic::kSubmission};
    case SubjectKind::kIp:
      return {Traffic::kSubmission, Traffic::kRelay};
    case SubjectKind::kSender:
    case SubjectKind::kSenderDomain:
      return {Traffic::kSubmission, Traffic::kRelay, Traffic::kLocal};
  }
  return {};
}

bool SubjectExists(SubjectKind subject, Traffic t) {
  switch (subject) {
    case SubjectKind::kAccount:
      return t == Traffic::kSubmission;
    case SubjectKind::kIp:
      return t != Traffic::kLocal;
    case SubjectKind::kSender:
    case SubjectKind::kSenderDomain:
      return true;
  }
  return false;
}

const char* ToString(Destinations d) {
  switch (d) {
    case Destinations::kAny:
      return "any";
    case Destinations::kExternal:
      return "external";
  }
  return "?";
}

const char* ToString(SubjectKind k) {
  switch (k) {
    case SubjectKind::kAccount:
      return "account";
    case SubjectKind::kIp:
      return "ip";
    case SubjectKind::kSender:
      return "sender";
    case SubjectKind::kSenderDomain:
      return "sender_domain";
  }
  return "?";
}

const char* ToString(CountKind k) {
  switch (k) {
    case CountKind::kMessages:
      return "messages";
    case CountKind::kRecipients:
      return "recipients";
  }
  return "?";
}

const char* ToString(Action a) {
  switch (a) {
    case Action::kTempfail:
      return "tempfail";
    case Action::kReject:
      return "reject";
    case Action::kMonitor:
      return "monitor";
    case Action::kHold:
      return "hold";
  }
  return "?";
}

const char* ToString(LockedAction a) {
  switch (a) {
    case LockedAction::kReject:
      return "reject";
    case LockedAction::kHold:
      return "hold";
  }
  return "?";
}

const char* ToString(Mode m) {
  switch (m) {
    case Mode::kLeaky:
      return "leaky";
    case Mode::kStrict:
      return "strict";
  }
  return "?";
}

const char* ToString(Backend b) {
  switch (b) {
    case Backend::kMemory:
      return "memory";
    case Backend::kRedis:
      return "redis";
  }
  return "?";
}

const char* ToString(OnError e) {
  switch (e) {
    case OnError::kLocal:
      return "local";
    case OnError::kTempfail:
      return "tempfail";
    case OnError::kAccept:
      return "accept";
  }
  return "?";
}

}  // namespace floodgate::policy
