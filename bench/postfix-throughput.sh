#!/usr/bin/env bash
# bench/postfix-throughput.sh: Postfix end to end, without a milter and with floodgate.
#
# Starts a private Postfix instance (own config/queue dirs under a temp dir, loopback
# port, relaying everything to an smtp-sink on another loopback port), two floodgate
# daemons (one on an inet socket, one on a unix socket; limits on ip and sender that no
# run reaches, so every RCPT is a full check-and-charge) and, with --store redis, a
# private redis-server. smtp-source sends the mail. Each round switches Postfix between
# no milter, floodgate over inet and floodgate over unix (postconf -e + postfix reload,
# checked with a probe message) and measures each with --sessions concurrent sessions
# and with one; rounds are interleaved so machine noise hits all alike. Prints delivered
# messages/s (median of rounds, min..max) and the ratio to no milter (target >= 0.95).
#
# Usage: bench/postfix-throughput.sh [--build DIR] [--messages N] [--sessions S]
#          [--rounds K] [--store memory|redis] [--single-messages N1] [--size BYTES]
#          [--connect-per-message] [--null-milter] [--extra-main 'LINE\nLINE']
#          [--json FILE] [--keep]
# Defaults: build-perf (else build), 3000 messages, 16 sessions, 600 messages for the
# one-session runs, 3 rounds, memory store, 1000-byte bodies, one SMTP connection per
# session. --null-milter adds a row for DIR/tools/null-milter over inet (libmilter doing
# nothing, with the protocol steps bench/null_milter.c negotiates). Needs root, postfix (smtp-source, smtp-sink),
# python3; redis-server for --store redis. --keep keeps the work directory (logs).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build=""
keep=0
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --connect-per-message|--null-milter) args+=("$1"); shift ;;
    --messages|--sessions|--rounds|--store|--single-messages|--size|--extra-main|--json|--timeout)
      [[ $# -ge 2 ]] || { echo "postfix-throughput.sh: $1 needs a value" >&2; exit 2; }
      args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "postfix-throughput.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "$build" ]]; then
  build="$root/build-perf"
  [[ -x "$build/milter/floodgate" ]] || build="$root/build"
fi
floodgate="$(cd "$build" 2>/dev/null && pwd)/milter/floodgate" || true
if [[ ! -x "$floodgate" ]]; then
  echo "postfix-throughput.sh: no $build/milter/floodgate; build it first:" >&2
  echo "  cmake -S . -B build-perf -DCMAKE_BUILD_TYPE=Release && cmake --build build-perf --target floodgate" >&2
  exit 2
fi
[[ $(id -u) -eq 0 ]] || { echo "postfix-throughput.sh: run as root (Postfix instance)" >&2; exit 2; }
for tool in postfix postconf smtp-source smtp-sink python3; do
  command -v "$tool" >/dev/null || { echo "postfix-throughput.sh: needs $tool (deploy/install-deps.sh --test)" >&2; exit 2; }
done
if [[ " ${args[*]} " == *" --store redis "* ]] && ! command -v redis-server >/dev/null; then
  echo "postfix-throughput.sh: --store redis needs redis-server" >&2; exit 2
fi

work="$(mktemp -d /tmp/fg-pf-bench.XXXXXX)"
chmod 755 "$work"  # Postfix daemons and smtp-sink run as user postfix
# Run copies: a colleague relinking the build dir mid-run must not change what is measured.
mkdir "$work/bin"
cp "$floodgate" "$work/bin/floodgate"
export FLOODGATE_BIN="$work/bin/floodgate" FLOODGATE_E2E_TMP="$work" PF_BENCH_PIDS="$work/pids"
if [[ -x "$build/tools/null-milter" ]]; then
  cp "$build/tools/null-milter" "$work/bin/null-milter"
  export NULL_MILTER_BIN="$work/bin/null-milter"
fi
[[ $keep -eq 1 ]] && export FLOODGATE_E2E_KEEP=1
py=""

# The Python side tears down what it started (context managers). This is the net under
# it: on any exit, stop it, then stop every Postfix instance under $work and kill what it
# recorded as started (checking the name, so a reused pid is left alone).
cleanup() {
  local rc=$? pid name cfg
  trap - EXIT INT TERM HUP
  if [[ -n "$py" ]] && kill -0 "$py" 2>/dev/null; then
    kill -TERM "$py" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$py" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$py" 2>/dev/null || true
  fi
  for cfg in "$work"/postfix-*/etc "$work"/fg-e2e-postfix-*/etc; do
    [[ -f "$cfg/main.cf" ]] || continue
    if postfix -c "$cfg" status >/dev/null 2>&1; then
      postfix -c "$cfg" stop >/dev/null 2>&1 || true
    fi
  done
  if [[ -f "$work/pids" ]]; then
    while read -r pid name; do
      if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' </proc/"$pid"/cmdline | grep -q -- "$name"; then
        kill -TERM "$pid" 2>/dev/null || true
      fi
    done <"$work/pids"
  fi
  if [[ $keep -eq 1 ]]; then
    echo "postfix-throughput.sh: kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "postfix-throughput.sh: floodgate $floodgate, work dir $work" >&2
python3 "$here/postfix_throughput.py" "${args[@]}" &
py=$!
wait "$py"
