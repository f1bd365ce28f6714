#!/usr/bin/env bash
# bench/store-outage.sh: what a failing Redis costs floodgate, side by side in one run.
#
# Four floodgates, all with bench/common.sh's shipped limits, store.on_error = "local" and
# store.timeout_ms = --timeout-ms (50, the shipped default):
#   memory   the embedded store: the figure to compare with
#   redis    a healthy private redis-server
#   frozen   a second redis-server, stopped with SIGSTOP before the first run and kept
#            stopped: its connections stay open and nothing answers
#   slow     the healthy redis-server behind bench/delay_proxy.py, which holds every chunk
#            --delay-ms (60) each way: Redis answers, but a round trip takes at least
#            twice that, more than the deadline
# floodgate-bench runs against each in turn for --seconds (5) per run, --rounds (3) times,
# interleaved. It prints the median rcpt decisions/s of each, rcpt p50/p99 of the median
# round and the max over every round, each one's ratio to memory, and for frozen and slow
# whether decisions/s stay >= 0.8 of memory and no RCPT waited longer than the deadline
# plus 10 ms (with the memory store's own max beside it: what the machine's scheduling
# adds when no store is waited on at all). The store_down / store_up lines each floodgate logged are counted.
#
# Usage: bench/store-outage.sh [--build DIR] [--floodgate BIN] [--compare BIN]
#                              [--sessions N] [--seconds S] [--rounds K]
#                              [--timeout-ms MS] [--delay-ms MS] [--keep DIR]
# --floodgate runs another floodgate binary (e.g. an older build, for a before/after)
# with this build's floodgate-bench. --compare BIN adds redis-b, frozen-b and slow-b: the
# same three Redis targets (same servers, same proxy) served by BIN, interleaved with the
# others in every round, so a before/after shares one run's noise.
# Ports: OUTAGE_PORT (18910) and the next six (nine with --compare).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="$root/build"
floodgate=""
compare=""
sessions=16
seconds=5
rounds=3
timeout_ms=50
delay_ms=60
keep=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --floodgate) floodgate="$2"; shift 2 ;;
    --compare) compare="$2"; shift 2 ;;
    --sessions) sessions="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --timeout-ms) timeout_ms="$2"; shift 2 ;;
    --delay-ms) delay_ms="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "store-outage.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
bench="$build/tools/floodgate-bench"
floodgate="${floodgate:-$build/milter/floodgate}"
for bin in "$bench" "$floodgate" ${compare:+"$compare"}; do
  [[ -x "$bin" ]] || { echo "store-outage.sh: $bin not built" >&2; exit 2; }
done
command -v redis-server >/dev/null || { echo "store-outage.sh: needs redis-server" >&2; exit 2; }

base="${OUTAGE_PORT:-18910}"
redis_up=$base
redis_frozen=$((base + 1))
proxy=$((base + 2))
declare -A port=([memory]=$((base + 3)) [redis]=$((base + 4)) [frozen]=$((base + 5))
                 [slow]=$((base + 6)))
declare -A url=([redis]="redis://127.0.0.1:$redis_up/0" [frozen]="redis://127.0.0.1:$redis_frozen/0"
                [slow]="redis://127.0.0.1:$proxy/0")
targets=(memory redis frozen slow)
declare -A bin=([memory]="$floodgate" [redis]="$floodgate" [frozen]="$floodgate" [slow]="$floodgate")
if [[ -n "$compare" ]]; then
  next=$((base + 7))
  targets=(memory)
  for t in redis frozen slow; do  # each beside its twin, so both see the same moment
    port[$t-b]=$next
    next=$((next + 1))
    url[$t-b]="${url[$t]}"
    bin[$t-b]="$compare"
    targets+=("$t" "$t-b")
  done
fi

work="${keep:-$(mktemp -d /tmp/floodgate-outage.XXXXXX)}"
mkdir -p "$work"
pids=()
frozen_pid=""
cleanup() {
  local pid
  # A stopped process holds SIGTERM until it runs again.
  [[ -z "$frozen_pid" ]] || kill -CONT "$frozen_pid" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "$keep" ]] || rm -rf "$work"
}
trap cleanup EXIT
me=store-outage.sh
# shellcheck source=common.sh
source "$here/common.sh"

for p in "$redis_up" "$redis_frozen" "$proxy" "${port[@]}"; do
  require_free_port "$p" "store-outage.sh" OUTAGE_PORT
done
for p in "$redis_up" "$redis_frozen"; do
  redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    >"$work/redis-$p.log" 2>&1 &
  pids+=($!)
  wait_for_port "$p" redis-server "${pids[-1]}"
  [[ "$p" != "$redis_frozen" ]] || frozen_pid="${pids[-1]}"
done
python3 "$here/delay_proxy.py" --listen "$proxy" --upstream "$redis_up" --delay-ms "$delay_ms" \
  >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_for_port "$proxy" delay_proxy.py "${pids[-1]}"

for t in "${targets[@]}"; do
  {
    printf '[milter]\nsocket = "inet:%s@127.0.0.1"\n\n[store]\nadmin_socket = ""\n' "${port[$t]}"
    printf 'on_error = "local"\ntimeout_ms = %s\n' "$timeout_ms"
    if [[ "$t" == memory ]]; then
      echo 'backend = "memory"'
    else
      printf 'backend = "redis"\nurl = "%s"\n' "${url[$t]}"
    fi
    bench_limits_toml shipped
  } >"$work/$t.toml"
  "${bin[$t]}" -f -e -c "$work/$t.toml" >"$work/$t.log" 2>&1 &
  pids+=($!)
  wait_for_port "${port[$t]}" "floodgate ($t)" "${pids[-1]}"
done
kill -STOP "$frozen_pid"

read -r load _ </proc/loadavg
echo "load average before the runs: $load on $(nproc) cores; $floodgate${compare:+; -b: $compare}" >&2
for round in $(seq 1 "$rounds"); do
  for t in "${targets[@]}"; do
    echo "round $round/$rounds: floodgate/$t (port ${port[$t]}), ${seconds}s" >&2
    "$bench" --socket "inet:${port[$t]}@127.0.0.1" --sessions "$sessions" --duration "$seconds" \
      --accounts 100000 --json >"$work/$t.$round.json" ||
      echo "store-outage.sh: $t: floodgate-bench reported errors (see $work/$t.$round.json)" >&2
  done
done

python3 - "$work" "$rounds" "$timeout_ms" "$delay_ms" "${targets[@]}" <<'EOF'
import json, re, sys
work, rounds, timeout_ms, delay_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
targets = sys.argv[5:]
what = {"memory": "embedded store", "redis": "Redis up", "frozen": "Redis SIGSTOPped",
        "slow": f"Redis +{delay_ms} ms each way"}
for t in ("redis", "frozen", "slow"):
    what[f"{t}-b"] = what[t] + " (--compare)"
print(f"store.timeout_ms = {timeout_ms}, on_error = local, shipped limits; medians of {rounds} "
      f"rounds, rcpt max over all rounds")
print(f"{'target':<10} {'':<38} {'rcpt/s':>8} {'(min..max)':>13} {'p50 us':>8} {'p99 us':>8} "
      f"{'p99.9':>8} {'max us':>8} {'errors':>6} {'ratio':>6} {'down/up':>8}")
rows = {}
for t in targets:
    runs = [json.load(open(f"{work}/{t}.{k}.json")) for k in range(1, rounds + 1)]
    runs.sort(key=lambda r: r["rcpt_decisions_per_s"])
    med = runs[(len(runs) - 1) // 2]
    rc = med["stages"].get("rcpt", {})
    worst = max(r["stages"].get("rcpt", {}).get("max_us", 0) for r in runs)
    errors = sum(sum(r["errors"].values()) for r in runs)
    log = open(f"{work}/{t}.log").read()
    down, up = len(re.findall(r"event=store_down", log)), len(re.findall(r"event=store_up", log))
    rates = [r["rcpt_decisions_per_s"] for r in runs]
    rows[t] = (med["rcpt_decisions_per_s"], worst, errors)
    ratio = med["rcpt_decisions_per_s"] / rows["memory"][0] if rows["memory"][0] else 0
    print(f"{t:<10} {what[t]:<38} {med['rcpt_decisions_per_s']:>8.0f} "
          f"{f'{min(rates):.0f}..{max(rates):.0f}':>13} {rc.get('p50_us', 0):>8.1f} "
          f"{rc.get('p99_us', 0):>8.1f} {rc.get('p999_us', 0):>8.1f} {worst:>8.1f} {errors:>6} "
          f"{ratio:>6.2f} {f'{down}/{up}':>8}")
for t in targets:
    maxes = [json.load(open(f"{work}/{t}.{k}.json"))["stages"].get("rcpt", {}).get("max_us", 0)
             for k in range(1, rounds + 1)]
    print(f"  {t}: max RCPT per round (ms): " + " ".join(f"{m / 1000:.1f}" for m in maxes))
for t in [t for t in targets if t.startswith(("frozen", "slow"))]:
    rate, worst, errors = rows[t]
    ratio = rate / rows["memory"][0] if rows["memory"][0] else 0
    limit_us = (timeout_ms + 10) * 1000
    met = ratio >= 0.8 and worst <= limit_us and errors == 0
    print(f"{t}: {ratio:.2f} of the memory store's decisions/s (>= 0.80), max RCPT "
          f"{worst / 1000:.1f} ms ({'<=' if worst <= limit_us else '>'} deadline + 10 ms = "
          f"{limit_us / 1000:.0f} ms; the memory store, which waits on no store: "
          f"{rows['memory'][1] / 1000:.1f} ms): target {'met' if met else 'NOT met'}"
          + ("" if errors == 0 else f" ({errors} errors)"))
EOF
