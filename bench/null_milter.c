/*
 * null-milter: a libmilter milter that does nothing and says CONTINUE to everything.
 *
 * It is the baseline floodgate is measured against: it registers the same callbacks
 * floodgate registers and negotiates the same protocol steps (skips HELO, headers, EOH,
 * body and unknown commands, but not DATA; no SMFIP_NR_* no-reply steps), so the
 * difference between the two is floodgate's own work, not libmilter's. (Skipping DATA
 * stalls Postfix ~40 ms per message on delayed ACKs; see milter/callbacks.cc.)
 *
 * Usage: null-milter [-p SOCKET] [-b BACKLOG] [-a] [-t N]   (default inet:8898@127.0.0.1)
 *   -a    ask for every protocol step instead (exercises a client's DATA/header/body path)
 *   -t N  tempfail every Nth recipient with "451 4.7.28 ..." (exercises refusal counting)
 * Runs in the foreground until SIGTERM/SIGINT (handled by libmilter's signal thread).
 * Thread-safety: the only state is an atomic recipient counter (for -t).
 */
#include <libmilter/mfapi.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int all_steps = 0;
static unsigned long tempfail_every = 0;
static atomic_ulong recipients;

static sfsistat OnNegotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                            unsigned long f3, unsigned long* pf0, unsigned long* pf1,
                            unsigned long* pf2, unsigned long* pf3) {
  const unsigned long wanted =
      SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN;
  (void)ctx;
  (void)f0;
  (void)f2;
  (void)f3;
  *pf0 = 0;
  *pf1 = all_steps ? 0 : f1 & wanted;
  *pf2 = 0;
  *pf3 = 0;
  return SMFIS_CONTINUE;
}

static sfsistat OnConnect(SMFICTX* ctx, char* host, _SOCK_ADDR* addr) {
  (void)ctx;
  (void)host;
  (void)addr;
  return SMFIS_CONTINUE;
}

static sfsistat OnArgv(SMFICTX* ctx, char** argv) {
  (void)ctx;
  (void)argv;
  return SMFIS_CONTINUE;
}

static sfsistat OnRcpt(SMFICTX* ctx, char** argv) {
  (void)argv;
  if (tempfail_every == 0 || (atomic_fetch_add(&recipients, 1) + 1) % tempfail_every != 0) {
    return SMFIS_CONTINUE;
  }
  smfi_setreply(ctx, "451", "4.7.28", "null-milter tempfails every Nth recipient");
  return SMFIS_TEMPFAIL;
}

static sfsistat OnContext(SMFICTX* ctx) {
  (void)ctx;
  return SMFIS_CONTINUE;
}

int main(int argc, char** argv) {
  const char* socket = "inet:8898@127.0.0.1";
  int backlog = 4096;
  int opt;
  while ((opt = getopt(argc, argv, "p:b:at:h")) != -1) {
    switch (opt) {
      case 'p':
        socket = optarg;
        break;
      case 'b':
        backlog = atoi(optarg);
        break;
      case 'a':
        all_steps = 1;
        break;
      case 't':
        tempfail_every = strtoul(optarg, NULL, 10);
        break;
      default:
        fprintf(stderr, "usage: %s [-p SOCKET] [-b BACKLOG] [-a] [-t N]\n", argv[0]);
        return opt == 'h' ? 0 : 2;
    }
  }

  struct smfiDesc desc;
  memset(&desc, 0, sizeof desc);
  desc.xxfi_name = "null-milter";
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = 0;
  desc.xxfi_connect = OnConnect;
  desc.xxfi_envfrom = OnArgv;
  desc.xxfi_envrcpt = OnRcpt;
  desc.xxfi_eom = OnContext;
  desc.xxfi_abort = OnContext;
  desc.xxfi_close = OnContext;
  desc.xxfi_negotiate = OnNegotiate;

  if (smfi_setconn((char*)socket) == MI_FAILURE || smfi_setbacklog(backlog) == MI_FAILURE ||
      smfi_register(desc) == MI_FAILURE) {
    fprintf(stderr, "null-milter: cannot set up %s\n", socket);
    return 1;
  }
  /* Remove a stale unix socket left by an earlier run. */
  if (strncmp(socket, "unix:", 5) == 0 || strncmp(socket, "local:", 6) == 0) {
    if (smfi_opensocket(1) == MI_FAILURE) {
      fprintf(stderr, "null-milter: cannot open %s\n", socket);
      return 1;
    }
  }
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
