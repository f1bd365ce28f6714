// The libmilter callbacks: the only code libmilter calls. Each one is a thin shell that
// catches everything (nothing may unwind into libmilter's C code), reads what it needs
// from libmilter through MilterApi, and hands the event to the Decider.
// Thread-safety: libmilter runs sessions on a worker pool; a session's callbacks may run
// on different threads but never at once. Shared state lives in MilterContext, which is
// thread-safe; per-session state only in the smfi_setpriv pointer.
#pragma once

#include <libmilter/mfapi.h>

#include <atomic>

#include "milter/alert_log.h"
#include "milter/config_holder.h"
#include "milter/decider.h"

namespace floodgate::milter {

struct MilterContext {
  ConfigHolder& config;
  Decider& decider;
  AlertSink& alerts;
  std::atomic<long> sessions_open{0};
};

// The descriptor to pass to smfi_register.
smfiDesc MakeFilterDescription();

// Makes `context` what the callbacks use; once, before smfi_main.
void InstallContext(MilterContext* context);

}  // namespace floodgate::milter
