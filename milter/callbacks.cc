#include "milter/callbacks.h"

#include <algorithm>
#include <exception>
#include <memory>

#include "milter/session.h"
#include "policy/classify.h"
#include "policy/facts.h"

namespace floodgate::milter {
namespace {

MilterContext* g_context = nullptr;

Session* GetSession(SMFICTX* ctx) { return static_cast<Session*>(smfi_getpriv(ctx)); }

std::string Macro(SMFICTX* ctx, const char* name) {
  const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
  return v ? v : "";
}

// Runs one callback body; anything thrown becomes a logged tempfail, so a bug can delay
// mail but never crash Postfix's milter conversation or lose a message.
template <class F>
sfsistat Guard(const char* stage, F&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    try {
      g_context->alerts.Error(std::string("internal error in ") + stage + ": " + e.what());
    } catch (...) {
    }
  } catch (...) {
    try {
      g_context->alerts.Error(std::string("internal error in ") + stage);
    } catch (...) {
    }
  }
  return SMFIS_TEMPFAIL;
}

// Remembers a hold decided at RCPT (or at end of a local submission) for the end of message.
void NoteHold(Session& s, const policy::Verdict& v) {
  if (v.disposition != policy::Disposition::kHold) return;
  if (s.hold_reason.empty()) s.hold_reason = v.hold_reason;
  for (const std::string& key : v.held_keys) {
    if (std::find(s.held_keys.begin(), s.held_keys.end(), key) == s.held_keys.end()) {
      s.held_keys.push_back(key);
    }
  }
}

sfsistat Apply(SMFICTX* ctx, const policy::Verdict& v) {
  switch (v.disposition) {
    case policy::Disposition::kContinue:
    case policy::Disposition::kHold:  // accepted now, held at end of message
      return SMFIS_CONTINUE;
    case policy::Disposition::kTempfail:
    case policy::Disposition::kReject:
      // Texts are made safe for smfi_setreply by policy::ReplyText.
      smfi_setreply(ctx, const_cast<char*>(v.reply.code.c_str()),
                    const_cast<char*>(v.reply.xcode.c_str()),
                    const_cast<char*>(v.reply.text.c_str()));
      return v.disposition == policy::Disposition::kReject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
  }
  return SMFIS_CONTINUE;
}

// Puts the message in Postfix's hold queue and records its queue id under the held
// subjects. Without the quarantine action (a milter peer that did not grant it) the message
// is tempfailed instead: a message floodgate meant to hold is never delivered.
sfsistat Hold(SMFICTX* ctx, Session& s) {
  if (smfi_quarantine(ctx, const_cast<char*>(s.hold_reason.c_str())) != MI_SUCCESS) {
    g_context->alerts.Error(
        "cannot put a message on hold (the MTA did not grant quarantine); "
        "tempfailed instead");
    policy::Verdict refused;
    refused.disposition = policy::Disposition::kTempfail;
    refused.reply = policy::HoldRefusedReply();
    return Apply(ctx, refused);
  }
  g_context->decider.metrics().CountHeld();
  g_context->decider.RecordHeld(s.held_keys, Macro(ctx, "i"));
  return SMFIS_CONTINUE;
}

sfsistat OnNegotiate(SMFICTX*, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                     unsigned long* pf0, unsigned long* pf1, unsigned long* pf2,
                     unsigned long* pf3) {
  return Guard("negotiate", [&] {
    // Skip every stage floodgate does not use, except DATA. No SMFIP_NR_* (no-reply)
    // stages and no SMFIP_NODATA: Postfix does not set TCP_NODELAY on milter sockets, and
    // with DATA skipped each message waited ~40 ms for a delayed ACK before its
    // end-of-message packet went out (measured by tests/e2e/test_latency.py).
    const unsigned long wanted =
        SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN;
    *pf0 = f0 & SMFIF_QUARANTINE;  // the hold action; no other message modification
    *pf1 = f1 & wanted;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
  });
}

sfsistat OnConnect(SMFICTX* ctx, char*, _SOCK_ADDR* hostaddr) {
  return Guard("connect", [&] {
    auto session = std::make_unique<Session>();
    session->facts = ConnectFacts(hostaddr);
    delete GetSession(ctx);  // a reused context (should not happen) must not leak
    smfi_setpriv(ctx, session.release());
    g_context->sessions_open.fetch_add(1, std::memory_order_relaxed);
    return SMFIS_CONTINUE;
  });
}

sfsistat OnEnvFrom(SMFICTX* ctx, char** argv) {
  return Guard("mail", [&] {
    Session* s = GetSession(ctx);
    if (!s) return SMFIS_CONTINUE;
    s->ResetTransaction();
    s->config = g_context->config.get();
    s->facts.account = policy::Lower(Macro(ctx, "{auth_authen}"));
    s->facts.sender = policy::NormaliseAddress(argv && argv[0] ? argv[0] : "");
    s->facts.traffic = policy::Classify(s->config->traffic, s->facts);
    return SMFIS_CONTINUE;
  });
}

sfsistat OnEnvRcpt(SMFICTX* ctx, char** argv) {
  return Guard("rcpt", [&] {
    Session* s = GetSession(ctx);
    if (!s || !s->config) return SMFIS_CONTINUE;
    const policy::RecipientFacts rcpt =
        policy::ReadRecipient(s->config->traffic, argv && argv[0] ? argv[0] : "");
    ++s->recipients;
    if (!rcpt.local) ++s->external_recipients;
    // Postfix treats a recipient-stage refusal of sendmail mail as a configuration error:
    // local submissions are decided at end of message.
    if (s->facts.local_submission) {
      s->AddDomain(rcpt);
      return SMFIS_CONTINUE;
    }
    policy::Event event;
    event.stage = policy::Stage::kRecipient;
    event.charged = &s->charged;
    event.recipient_local = rcpt.local;
    event.domains = std::span(&rcpt.domain_token, 1);
    event.external_domains = event.domains;
    const policy::Verdict v = g_context->decider.Decide(*s->config, s->facts, event);
    for (std::size_t limit : v.messages_charged) s->charged.Add(limit);
    NoteHold(*s, v);
    if (v.disposition == policy::Disposition::kContinue ||
        v.disposition == policy::Disposition::kHold) {
      s->accepted = true;
    }
    // CONTINUE, never ACCEPT: ACCEPT would end filtering of the whole message.
    return Apply(ctx, v);
  });
}

sfsistat OnData(SMFICTX*) {
  return Guard("data", [] { return SMFIS_CONTINUE; });
}

sfsistat OnEom(SMFICTX* ctx) {
  return Guard("eom", [&] {
    Session* s = GetSession(ctx);
    if (!s || !s->config) return SMFIS_CONTINUE;
    sfsistat status = SMFIS_CONTINUE;
    if (s->facts.local_submission) {
      policy::Event event;
      event.stage = policy::Stage::kEndOfMessage;
      event.recipients = s->recipients;
      event.external_recipients = s->external_recipients;
      event.domains = s->domains;
      event.external_domains = s->external_domains;
      policy::Verdict v = g_context->decider.Decide(*s->config, s->facts, event);
      // A locally submitted message is only ever tempfailed or held: it stays in the
      // maildrop queue and pickup retries it, so nothing is lost and nothing bounces.
      if (v.disposition == policy::Disposition::kReject) {
        v.disposition = policy::Disposition::kTempfail;
        v.reply = policy::AsTempfail(v.reply);
      }
      NoteHold(*s, v);
      status = s->hold_reason.empty() ? Apply(ctx, v) : Hold(ctx, *s);
    } else if (s->accepted) {
      if (!s->hold_reason.empty()) status = Hold(ctx, *s);
      if (status == SMFIS_CONTINUE) {
        g_context->decider.RecordQueueId(*s->config, s->facts, Macro(ctx, "i"));
      }
    }
    s->ResetTransaction();
    return status;
  });
}

sfsistat OnAbort(SMFICTX* ctx) {
  return Guard("abort", [&] {
    if (Session* s = GetSession(ctx)) s->ResetTransaction();
    return SMFIS_CONTINUE;
  });
}

sfsistat OnClose(SMFICTX* ctx) {
  return Guard("close", [&] {
    if (Session* s = GetSession(ctx)) {
      smfi_setpriv(ctx, nullptr);
      delete s;
      g_context->sessions_open.fetch_sub(1, std::memory_order_relaxed);
    }
    return SMFIS_CONTINUE;
  });
}

}  // namespace

void InstallContext(MilterContext* context) { g_context = context; }

smfiDesc MakeFilterDescription() {
  smfiDesc d{};
  d.xxfi_name = const_cast<char*>("floodgate");
  d.xxfi_version = SMFI_VERSION;
  d.xxfi_flags = SMFIF_QUARANTINE;
  d.xxfi_connect = OnConnect;
  d.xxfi_envfrom = OnEnvFrom;
  d.xxfi_envrcpt = OnEnvRcpt;
  d.xxfi_data = OnData;
  d.xxfi_eom = OnEom;
  d.xxfi_abort = OnAbort;
  d.xxfi_close = OnClose;
  d.xxfi_negotiate = OnNegotiate;
  return d;
}

}  // namespace floodgate::milter
