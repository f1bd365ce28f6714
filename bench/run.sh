#!/usr/bin/env bash
# bench/run.sh: floodgate against a do-nothing libmilter milter, same client, same machine.
#
# Starts null-milter and two floodgates (memory store by default, or Redis with --store
# redis: a private redis-server is started): one with the shipped limits (bench/common.sh
# "shipped": deploy/floodgate.toml's account limit with three windows and its ip limit,
# amounts nobody reaches), the headline, and one with a single one-window limit ("1 limit"),
# the second line. It runs floodgate-bench against each in turn, --rounds times
# (interleaved, so load from elsewhere on the machine hits all alike), and prints the
# median decisions/s of each and their ratio to null-milter. Each round has a
# throughput run (--sessions) and a single-session run (latency without queueing:
# Postfix does not set TCP_NODELAY, so a stall shows up there first).
# Then the half-load phase: floodgate-bench --rate at half of null-milter's median
# decisions/s (--sessions sessions), open loop, against null-milter and floodgate in turn,
# --rounds times, printing RCPT latency p50/p99/p99.9 of each and whether floodgate's p99
# is under 2 ms (the target "p99 RCPT latency < 2 ms at half load").
#
# Usage: bench/run.sh [--build DIR] [--sessions N] [--messages M] [--rcpts R] [--rounds K]
#                     [--accounts A] [--store memory|redis] [--pin] [--postfix]
#                     [--keep DIR] [-- BENCH-ARGS...]
# --pin (with --store redis, 2 or more CPUs): redis-server runs alone on the last CPU and
# everything else (client, null-milter, floodgates) on the others, as when Redis has a
# host or a core of its own; without it all share every CPU, and Redis' own work per check
# takes CPU from the client and the milters, which the do-nothing milter never pays.
# Everything after "--" goes to every floodgate-bench run unchanged. Ports come from the
# environment: NULL_PORT (18898), FG_PORT (18899, shipped limits), FG1_PORT (18897, one
# limit), REDIS_PORT (18379).
# With --store redis it also prints Redis commands per message (INFO commandstats over the
# floodgate runs) and then runs bench/redis-ceiling.sh on the same redis-server
# (redis-benchmark with check.lua vs store-bench, and memory per subject).
# With --postfix it ends with bench/postfix-throughput.sh --null-milter for the same build
# and store: real Postfix without a milter, with null-milter and with floodgate (inet and
# unix socket), alternating (needs root and postfix; see that script's --help).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="$root/build"
sessions=16
messages=20000
rcpts=1
rounds=3
accounts=100000
store=memory
keep=""
postfix=0
pin=0
extra=()
null_port="${NULL_PORT:-18898}"
fg_port="${FG_PORT:-18899}"
fg1_port="${FG1_PORT:-18897}"
redis_port="${REDIS_PORT:-18379}"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --sessions) sessions="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    --rcpts) rcpts="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --store) store="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --postfix) postfix=1; shift ;;
    --pin) pin=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$store" in memory|redis) ;; *) echo "run.sh: --store memory|redis" >&2; exit 2 ;; esac

bench="$build/tools/floodgate-bench"
null_milter="$build/tools/null-milter"
floodgate="$build/milter/floodgate"
for bin in "$bench" "$null_milter" "$floodgate"; do
  if [[ ! -x "$bin" ]]; then
    echo "run.sh: $bin not built; cmake --build $build --target floodgate floodgate-bench null-milter" >&2
    exit 2
  fi
done
command -v python3 >/dev/null || { echo "run.sh: needs python3 to read the JSON reports" >&2; exit 2; }

[[ "$pin" == 0 || "$store" == redis ]] || { echo "run.sh: --pin needs --store redis" >&2; exit 2; }
work="${keep:-$(mktemp -d /tmp/floodgate-bench.XXXXXX)}"
mkdir -p "$work"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "$keep" ]] || rm -rf "$work"
}
trap cleanup EXIT

me=run.sh
# shellcheck source=common.sh
source "$here/common.sh"
pin_cpus "$pin"

ctxt() { awk '$1 == "ctxt" {print $2}' /proc/stat; }  # context switches since boot, all CPUs
tick_us=$((1000000 / $(getconf CLK_TCK)))
# CPU time (user + system) a process has used, in microseconds; 0 for no process.
cpu_us() { [[ -z "$1" ]] && echo 0 || awk -v t="$tick_us" '{print ($14 + $15) * t}' "/proc/$1/stat"; }
# CPU time of this shell's finished children (the clients) in microseconds, from what
# `times` wrote to file $1 (it must run in this shell: a subshell has no children).
children_us() { awk 'NR == 2 {
  n = split($1 " " $2, p, " "); s = 0
  for (i = 1; i <= n; i++) { split(p[i], a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] }
  printf "%.0f\n", s * 1000000 }' "$1"; }
declare -A daemon_pid  # run name -> the milter process it talks to

run_bench() {  # name, port, round
  local before milter0 redis0
  before="$(ctxt)"
  milter0="$(cpu_us "${daemon_pid[$1]}")"
  redis0="$(cpu_us "${redis_pid:-}")"
  times >"$work/times.before"
  "${on_clients[@]}" "$bench" --socket "inet:$2@127.0.0.1" --sessions "$sessions" --messages "$messages" \
    --rcpts "$rcpts" --accounts "$accounts" --json "${extra[@]}" >"$work/$1.$3.json" ||
    echo "run.sh: $1: floodgate-bench reported errors (see $work/$1.$3.json)" >&2
  times >"$work/times.after"
  echo $(($(ctxt) - before)) >"$work/$1.$3.ctxt"
  echo "$(($(cpu_us "${daemon_pid[$1]}") - milter0)) $(($(cpu_us "${redis_pid:-}") - redis0))" \
    "$(($(children_us "$work/times.after") - $(children_us "$work/times.before")))" \
    >"$work/$1.$3.cpu"
  local single=$((messages < 2000 ? messages : 2000))
  "${on_clients[@]}" "$bench" --socket "inet:$2@127.0.0.1" --sessions 1 --messages "$single" \
    --rcpts "$rcpts" --accounts "$accounts" --json "${extra[@]}" >"$work/$1-single.$3.json" ||
    echo "run.sh: $1: single-session floodgate-bench reported errors" >&2
}

run_half() {  # name, port, round, messages/s
  "${on_clients[@]}" "$bench" --socket "inet:$2@127.0.0.1" --sessions "$sessions" --messages "$messages" \
    --rcpts "$rcpts" --accounts "$accounts" --rate "$4" --json "${extra[@]}" \
    >"$work/$1-half.$3.json" ||
    echo "run.sh: $1: half-load floodgate-bench reported errors (see $work/$1-half.$3.json)" >&2
}

# The floodgates' configs: a store, and bench_limits_toml's limits (common.sh). No admin
# socket: a floodgate the machine runs for real may hold the default one. Over Redis both
# share one redis-server; their keys differ (the limits' names), so they never meet.
write_toml() {  # file, port, plan
  cat >"$1" <<EOF
[milter]
socket = "inet:$2@127.0.0.1"

[store]
backend = "$store"
admin_socket = ""
EOF
  [[ "$store" != redis ]] || echo "url = \"redis://127.0.0.1:$redis_port/0\"" >>"$1"
  bench_limits_toml "$3" >>"$1"
}
if [[ "$store" == redis ]]; then
  command -v redis-server >/dev/null || { echo "run.sh: --store redis needs redis-server" >&2; exit 2; }
  require_free_port "$redis_port" redis-server REDIS_PORT
  "${on_redis[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize no >"$work/redis.log" 2>&1 &
  pids+=($!)
  redis_pid=$!
  wait_for_port "$redis_port" redis-server "${pids[-1]}"
fi
write_toml "$work/floodgate.toml" "$fg_port" shipped
write_toml "$work/onelimit.toml" "$fg1_port" single

require_free_port "$null_port" null-milter NULL_PORT
require_free_port "$fg_port" floodgate FG_PORT
require_free_port "$fg1_port" "floodgate (one limit)" FG1_PORT
"${on_clients[@]}" "$null_milter" -p "inet:$null_port@127.0.0.1" >"$work/null-milter.log" 2>&1 &
pids+=($!)
daemon_pid[null]=$!
wait_for_port "$null_port" null-milter "${pids[-1]}"
"${on_clients[@]}" "$floodgate" -f -e -c "$work/floodgate.toml" >"$work/floodgate.log" 2>&1 &
pids+=($!)
daemon_pid[floodgate]=$!
wait_for_port "$fg_port" floodgate "${pids[-1]}"
"${on_clients[@]}" "$floodgate" -f -e -c "$work/onelimit.toml" >"$work/onelimit.log" 2>&1 &
pids+=($!)
daemon_pid[onelimit]=$!
wait_for_port "$fg1_port" "floodgate (one limit)" "${pids[-1]}"

read -r load _ </proc/loadavg
echo "load average before the runs: $load on $(nproc) cores" >&2
[[ "$pin" == 0 ]] || echo "pinned: redis-server on CPU ${on_redis[2]}, everything else on CPU ${on_clients[2]}" >&2
calls=""
calls1=""
commandstats() { redis-cli -p "$redis_port" INFO commandstats | tr -d '\r' | grep '^cmdstat_'; }
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds: null-milter (port $null_port), floodgate/$store shipped limits" \
    "(port $fg_port), one limit (port $fg1_port)" >&2
  run_bench null "$null_port" "$round"
  [[ "$store" != redis ]] || redis-cli -p "$redis_port" CONFIG RESETSTAT >/dev/null
  run_bench floodgate "$fg_port" "$round"
  [[ "$store" != redis ]] || calls+="$(commandstats)"$'\n'
  [[ "$store" != redis ]] || redis-cli -p "$redis_port" CONFIG RESETSTAT >/dev/null
  run_bench onelimit "$fg1_port" "$round"
  [[ "$store" != redis ]] || calls1+="$(commandstats)"$'\n'
done

python3 - "$work" "$store" "$sessions" "$rounds" <<'EOF'
import json, sys
work, store, sessions, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def median_run(name):
    """The round with the median decisions/s (its latencies are printed with it)."""
    runs = []
    for k in range(1, rounds + 1):
        with open(f"{work}/{name}.{k}.json") as f:
            runs.append(json.load(f))
        try:
            with open(f"{work}/{name}.{k}.ctxt") as f:
                runs[-1]["ctxt"] = int(f.read())
            with open(f"{work}/{name}.{k}.cpu") as f:
                runs[-1]["cpu"] = [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    runs.sort(key=lambda r: r["rcpt_decisions_per_s"])
    return runs[(len(runs) - 1) // 2], [r["rcpt_decisions_per_s"] for r in runs]
print(f"{'target':<18} {'sessions':>8} {'rcpt/s':>8} {'(min..max)':>15} "
      f"{'rcpt p50 us':>11} {'p99':>8} {'p99.9':>8} {'max':>8} {'errors':>6} {'cs/msg':>7}")
rates = {}
targets = (("null-milter", "null"), (f"floodgate/{store}", "floodgate"),
           (f"  1 limit", "onelimit"))
print("floodgate: shipped limits (account 3 windows + ip); 1 limit: one account window")
cpu_rows = []
for label, name in targets:
    for suffix, n in (("", sessions), ("-single", "1")):
        r, all_rates = median_run(name + suffix)
        rc = r["stages"].get("rcpt", {})
        errors = sum(r["errors"].values())
        spread = f"{min(all_rates):.0f}..{max(all_rates):.0f}"
        # Context switches of the whole machine per message (/proc/stat ctxt): on this
        # kind of VM the scheduler, not user code, is what runs out first.
        cs = f"{r['ctxt'] / r['messages']:.2f}" if "ctxt" in r and r.get("messages") else ""
        print(f"{label:<18} {n:>8} {r['rcpt_decisions_per_s']:>8.0f} {spread:>15} "
              f"{rc.get('p50_us', 0):>11.1f} {rc.get('p99_us', 0):>8.1f} "
              f"{rc.get('p999_us', 0):>8.1f} {rc.get('max_us', 0):>8.1f} {errors:>6} {cs:>7}")
        rates[name + suffix] = r["rcpt_decisions_per_s"]
        if "cpu" in r and r.get("messages"):
            cpu_rows.append((label, n, [us / r["messages"] for us in r["cpu"]]))
for name, what in (("floodgate", "shipped limits"), ("onelimit", "1 limit")):
    for suffix, n in (("", sessions), ("-single", "1")):
        base = rates["null" + suffix]
        ratio = rates[name + suffix] / base if base else 0
        print(f"floodgate/{store} ({what}) / null-milter, {n} session(s): {ratio:.2f} of the "
              f"baseline's decisions/s (medians of {rounds} rounds)")
# Where the CPU goes (the same median runs): when the machine's CPUs are all busy, the
# decisions/s of two targets stand in the inverse ratio of their CPU per message.
print(f"CPU per message in the {sessions}-session runs above (user + system, us):")
print(f"{'target':<18} {'milter':>8} {'redis':>8} {'client':>8} {'total':>8}")
for label, n, (milter, redis, client) in cpu_rows:
    if n == sessions:
        print(f"{label:<18} {milter:>8.1f} {redis:>8.1f} {client:>8.1f} "
              f"{milter + redis + client:>8.1f}")
EOF
if [[ "$store" == redis ]]; then
  python3 - "$work" "$rounds" "$calls" "$calls1" <<'EOF'
import json, re, sys
work, rounds = sys.argv[1], int(sys.argv[2])
for target, what, text in (("floodgate", "shipped limits", sys.argv[3]),
                           ("onelimit", "1 limit", sys.argv[4])):
    msgs = rcpts = 0
    for k in range(1, rounds + 1):
        for name in (target, target + "-single"):
            with open(f"{work}/{name}.{k}.json") as f:
                r = json.load(f)
            msgs += r["messages"]
            rcpts += r["rcpt_decisions"]
    calls = {}
    for m in re.finditer(r"^cmdstat_(\w+):calls=(\d+)", text, re.M):
        calls[m.group(1)] = calls.get(m.group(1), 0) + int(m.group(2))
    print(f"Redis commands over the floodgate ({what}) runs ({msgs} messages, {rcpts} "
          f"recipients): " +
          ", ".join(f"{c} {n} ({n / msgs:.2f}/message)" for c, n in sorted(calls.items())
                    if c not in ("config", "info")))
EOF
fi

# Half load: half of null-milter's median decisions/s with --sessions sessions (the
# ceiling), offered open loop to both milters; --rate counts messages, so divide by rcpts.
half_rate="$(python3 - "$work" "$rounds" "$rcpts" <<'EOF'
import json, sys
work, rounds, rcpts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rates = sorted(json.load(open(f"{work}/null.{k}.json"))["rcpt_decisions_per_s"]
               for k in range(1, rounds + 1))
print(f"{rates[(len(rates) - 1) // 2] / 2 / rcpts:.1f}")
EOF
)"
if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$half_rate"; then
  for round in $(seq 1 "$rounds"); do
    echo "half load, round $round/$rounds: $half_rate messages/s to null-milter, floodgate/$store" \
      "(shipped limits, one limit)" >&2
    run_half null "$null_port" "$round" "$half_rate"
    run_half floodgate "$fg_port" "$round" "$half_rate"
    run_half onelimit "$fg1_port" "$round" "$half_rate"
  done
  python3 - "$work" "$store" "$sessions" "$rounds" "$half_rate" "$rcpts" <<'EOF'
import json, sys
work, store, sessions, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rate, rcpts = float(sys.argv[5]), int(sys.argv[6])
print()
print(f"half load: {rate * rcpts:.0f} rcpt/s offered ({rate:.1f} messages/s, half of "
      f"null-milter's median with {sessions} sessions), open loop, {rounds} round(s); "
      f"the round with the median rcpt p99 of each target")
print(f"{'target':<18} {'offered/s':>9} {'achieved':>9} {'rcpt p50 us':>11} {'p99':>8} "
      f"{'p99.9':>8} {'max':>8} {'(p99 min..max)':>16} {'lag p99':>8} {'errors':>6}")
verdict = {}
for label, name in (("null-milter", "null"), (f"floodgate/{store}", "floodgate"),
                    ("  1 limit", "onelimit")):
    runs = []
    for k in range(1, rounds + 1):
        with open(f"{work}/{name}-half.{k}.json") as f:
            runs.append(json.load(f))
    runs.sort(key=lambda r: r["stages"].get("rcpt", {}).get("p99_us", 0))
    r = runs[(len(runs) - 1) // 2]
    rc = r["stages"].get("rcpt", {})
    p99s = [x["stages"].get("rcpt", {}).get("p99_us", 0) for x in runs]
    spread = f"{min(p99s):.0f}..{max(p99s):.0f}"
    errors = sum(r["errors"].values())
    kept_up = r["achieved_rate"] >= 0.95 * r["offered_rate"]
    print(f"{label:<18} {r['offered_rate']:>9.1f} {r['achieved_rate']:>9.1f} "
          f"{rc.get('p50_us', 0):>11.1f} {rc.get('p99_us', 0):>8.1f} {rc.get('p999_us', 0):>8.1f} "
          f"{rc.get('max_us', 0):>8.1f} {spread:>16} {r['schedule_lag']['p99_us']:>8.1f} "
          f"{errors:>6}")
    if not kept_up:
        print(f"  {label} fell behind schedule: achieved {r['achieved_rate']:.1f} of "
              f"{r['offered_rate']:.1f} messages/s offered (last message "
              f"{r['schedule_lag']['last_us'] / 1000:.1f} ms late)")
    verdict[name] = (rc.get("p99_us", 0), errors, kept_up)
for name, what in (("floodgate", "shipped limits"), ("onelimit", "1 limit")):
    p99, errors, kept_up = verdict[name]
    met = p99 < 2000 and errors == 0 and kept_up
    print(f"floodgate/{store} ({what}) p99 RCPT latency at half load: {p99 / 1000:.2f} ms "
          f"{'<' if p99 < 2000 else '>='} 2 ms: target {'met' if met else 'NOT met'}"
          + ("" if errors == 0 else f" ({errors} errors)")
          + ("" if kept_up else " (fell behind schedule, so this was not half load)"))
EOF
else
  echo "run.sh: null-milter made no decisions; half-load phase skipped" >&2
fi

if [[ "$store" == redis ]]; then
  "$here/redis-ceiling.sh" --build "$build" --port "$redis_port"
fi

if ((postfix)); then
  # Its own daemons and ports: ours are stopped first, so they share nothing but the CPU.
  cleanup
  pids=()
  trap - EXIT
  "$here/postfix-throughput.sh" --build "$build" --store "$store" --null-milter
fi
