#!/usr/bin/env bash
# bench/compare-builds.sh: two builds of floodgate side by side on one redis-server, to
# measure what a change does (the machine's noise hits both alike).
#
# Starts one redis-server, null-milter, and floodgate (Redis store, bench/common.sh's
# shipped limits, or --limits single for the one-window limit) from each build, then --rounds times, interleaved: 16-session
# and 1-session floodgate-bench runs against null-milter, OLD and NEW, and store-bench
# (RedisStore::Check, 16 threads and 1) of OLD and NEW. Prints one line per run and the
# medians, with NEW / OLD, and the context switches per message of each milter process
# (all its threads) and per check of store-bench, counted by `perf stat -e
# context-switches`: other jobs on the machine do not count, unlike the machine-wide
# cs/msg of run.sh (0 without perf).
#
# Usage: bench/compare-builds.sh OLD_BUILD_DIR NEW_BUILD_DIR [--rounds K] [--messages M]
#                                [--seconds S] [--limits shipped|single] [--pin]
# --pin runs redis-server alone on the last CPU and everything else on the others, as
# run.sh --pin does.
# Both builds need the targets floodgate and store-bench; floodgate-bench and null-milter
# come from NEW. Ports: REDIS_PORT (18380), OLD_PORT (18901), NEW_PORT (18902),
# NULL_PORT (18903). Build an older commit with e.g.
#   git worktree add /tmp/old <commit> && cmake -S /tmp/old -B /tmp/old/build-perf \
#     -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/old/build-perf --target floodgate store-bench
set -euo pipefail

[[ $# -ge 2 && "$1" != -h && "$1" != --help ]] || { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
old="$(cd "$1" && pwd)"
new="$(cd "$2" && pwd)"
shift 2
rounds=3
messages=10000
seconds=3
limits=shipped
pin=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --limits) limits="$2"; shift 2 ;;
    --pin) pin=1; shift ;;
    *) echo "compare-builds.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
redis_port="${REDIS_PORT:-18380}"
declare -A port=([old]="${OLD_PORT:-18901}" [new]="${NEW_PORT:-18902}" [null]="${NULL_PORT:-18903}")
declare -A build=([old]="$old" [new]="$new")
declare -A milter_pid=()
for b in "$old" "$new"; do
  for bin in milter/floodgate tools/store-bench; do
    [[ -x "$b/$bin" ]] || { echo "compare-builds.sh: $b/$bin not built" >&2; exit 2; }
  done
done

work="$(mktemp -d /tmp/floodgate-compare.XXXXXX)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

me=compare-builds.sh
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

require_free_port "$redis_port" redis-server REDIS_PORT
require_free_port "${port[old]}" "floodgate (OLD)" OLD_PORT
require_free_port "${port[new]}" "floodgate (NEW)" NEW_PORT
require_free_port "${port[null]}" null-milter NULL_PORT
pin_cpus "$pin"
"${on_redis[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
pids+=($!)
wait_for_port "$redis_port" redis-server "${pids[-1]}"
for v in old new; do
  cat >"$work/$v.toml" <<EOF
[milter]
socket = "inet:${port[$v]}@127.0.0.1"

[store]
backend = "redis"
url = "redis://127.0.0.1:$redis_port/0"
EOF
  bench_limits_toml "$limits" >>"$work/$v.toml"
  "${on_clients[@]}" "${build[$v]}/milter/floodgate" -f -e -c "$work/$v.toml" >"$work/$v.log" 2>&1 &
  pids+=($!)
  milter_pid[$v]=$!
  wait_for_port "${port[$v]}" "floodgate ($v)" "${pids[-1]}"
done
"${on_clients[@]}" "$new/tools/null-milter" -p "inet:${port[null]}@127.0.0.1" >/dev/null 2>&1 &
pids+=($!)
milter_pid[null]=$!
wait_for_port "${port[null]}" null-milter "${pids[-1]}"

# Runs "$@" (output in $work/cs.out) while perf counts the context switches of process
# $1's threads and of the threads they start, or with $1 empty of "$@" itself; prints
# the count.
switches_during() {
  local pid="$1" perf_pid n
  shift
  if ! command -v perf >/dev/null; then "$@" >"$work/cs.out"; echo 0; return; fi
  if [[ -z "$pid" ]]; then
    perf stat -e context-switches -x, -o "$work/cs" -- "$@" >"$work/cs.out"
  else
    perf stat -e context-switches -x, -o "$work/cs" -p "$pid" 2>/dev/null &
    perf_pid=$!
    "$@" >"$work/cs.out"
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
  fi
  n="$(awk -F, '$3 == "context-switches" {print $1}' "$work/cs")"
  [[ "$n" =~ ^[0-9]+$ ]] || n=0
  echo "$n"
}
rate() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(round(d.get("rcpt_decisions_per_s", d.get("checks_per_s", 0))))'; }
milter() {  # target, sessions, messages
  "${on_clients[@]}" "$new/tools/floodgate-bench" --socket "inet:${port[$1]}@127.0.0.1" --sessions "$2" \
    --messages "$3" --accounts 100000 --json | rate
}
store() {  # target, threads: checks/s, and store-bench's context switches per 100 checks
  local n
  n="$(switches_during "" "${on_clients[@]}" "${build[$1]}/tools/store-bench" --url "redis://127.0.0.1:$redis_port/0" \
    --threads "$2" --seconds "$seconds" --subjects 100000)"
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
print(round(d["checks_per_s"]), n * 100 // max(1, d["checks"]))' "$work/cs.out" "$n"
}

read -r load _ </proc/loadavg
echo "load average before the runs: $load on $(nproc) cores"
[[ "$pin" == 0 ]] || echo "pinned: redis-server on CPU ${on_redis[2]}, the rest on CPU ${on_clients[2]}"
for r in $(seq 1 "$rounds"); do
  for v in null old new; do
    single=$((messages < 2000 ? messages : 2000))
    cs16="$(switches_during "${milter_pid[$v]}" milter "$v" 16 "$messages")"
    line="$v $(cat "$work/cs.out")"
    cs1="$(switches_during "${milter_pid[$v]}" milter "$v" 1 "$single")"
    line+=" $(cat "$work/cs.out") $((cs16 * 100 / messages)) $((cs1 * 100 / single))"
    [[ "$v" == null ]] || line+=" $(store "$v" 16) $(store "$v" 1)"
    echo "$line" | tee -a "$work/runs"
    echo "round $r: $line" >&2
  done
done >/dev/null

python3 - "$work/runs" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, *nums = line.split()
    runs.setdefault(name, []).append([int(n) for n in nums])
cols = ["milter 16 sessions rcpt/s", "milter 1 session rcpt/s",
        "milter process cs/msg, 16 sessions", "milter process cs/msg, 1 session",
        "store-bench 16 threads checks/s", "store-bench 16 threads cs/check",
        "store-bench 1 thread checks/s", "store-bench 1 thread cs/check"]
scale = [1, 1, 100, 100, 1, 100, 1, 100]
med = {n: [statistics.median(r[i] for r in rs) for i in range(len(rs[0]))] for n, rs in runs.items()}
print(f"medians of {len(runs['old'])} rounds")
print(f"{'':36} {'null-milter':>12} {'OLD':>10} {'NEW':>10} {'NEW/OLD':>8} {'NEW/null':>9}")
for i, c in enumerate(cols):
    fmt = (lambda v: f"{v / scale[i]:.2f}") if scale[i] != 1 else (lambda v: f"{v:.0f}")
    null = fmt(med['null'][i]) if i < len(med["null"]) else ""
    ratio_null = f"{med['new'][i] / med['null'][i]:.2f}" if i < len(med["null"]) and med['null'][i] else ""
    ratio_old = f"{med['new'][i] / med['old'][i]:.2f}" if med['old'][i] else ""
    print(f"{c:36} {null:>12} {fmt(med['old'][i]):>10} {fmt(med['new'][i]):>10} "
          f"{ratio_old:>8} {ratio_null:>9}")
EOF
