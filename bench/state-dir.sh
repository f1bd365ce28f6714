#!/usr/bin/env bash
# bench/state-dir.sh: what keeping the embedded store's state on disk costs per decision.
#
# Starts two floodgates with the memory store and the shipped limits (account: 30/1m,
# 300/1h, 2000/1d with lock_after and max_networks; ip: 600/1h): one with state_dir = ""
# (memory only) and one with a state_dir (snapshots every 2 s, a journal write per queue
# id), then runs floodgate-bench against one and the other in turn, --rounds times
# (interleaved, so load from elsewhere on the machine hits both alike), and prints the
# median RCPT decisions/s, RCPT latency and the ratio state_dir / memory only.
# floodgate-bench sends whole messages, so every message also records its queue id.
#
# Usage: bench/state-dir.sh [--build DIR] [--sessions N] [--messages M] [--accounts A]
#                           [--rounds K] [--keep DIR]
# Ports come from the environment: FG_PORT (18899) and FG_STATE_PORT (18900).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="$root/build"
sessions=16
messages=20000
accounts=100000
rounds=3
keep=""
fg_port="${FG_PORT:-18899}"
state_port="${FG_STATE_PORT:-18900}"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --sessions) sessions="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "state-dir.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

bench="$build/tools/floodgate-bench"
floodgate="$build/milter/floodgate"
for bin in "$bench" "$floodgate"; do
  [[ -x "$bin" ]] || { echo "state-dir.sh: $bin not built" >&2; exit 2; }
done

work="${keep:-$(mktemp -d /tmp/floodgate-state-bench.XXXXXX)}"
mkdir -p "$work"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "$keep" ]] || rm -rf "$work"
}
trap cleanup EXIT

me=state-dir.sh
# shellcheck source=common.sh
source "$here/common.sh"

config() {  # port, state_dir
  cat <<EOF
[milter]
socket = "inet:$1@127.0.0.1"

[store]
backend = "memory"
admin_socket = ""
state_dir = "$2"

[[limit]]
name = "submission"
subject = "account"
count = "recipients"
rate = ["30/1m", "300/1h", "2000/1d"]
lock_after = 10
max_networks = { count = 5, window = "1h" }

[[limit]]
name = "per-ip"
subject = "ip"
count = "messages"
rate = ["600/1h"]
EOF
}
config "$fg_port" "" >"$work/memory.toml"
config "$state_port" "$work/state" >"$work/state.toml"

require_free_port "$fg_port" floodgate FG_PORT
require_free_port "$state_port" floodgate FG_STATE_PORT
"$floodgate" -f -e -c "$work/memory.toml" >"$work/memory.log" 2>&1 &
pids+=($!)
wait_for_port "$fg_port" "floodgate (memory only)" "${pids[-1]}"
"$floodgate" -f -e -c "$work/state.toml" >"$work/state.log" 2>&1 &
pids+=($!)
wait_for_port "$state_port" "floodgate (state_dir)" "${pids[-1]}"

read -r load _ </proc/loadavg
echo "load average before the runs: $load on $(nproc) cores" >&2
for round in $(seq 1 "$rounds"); do
  for target in memory state; do
    port="$fg_port"
    [[ "$target" == memory ]] || port="$state_port"
    echo "round $round/$rounds: floodgate, $target (port $port)" >&2
    "$bench" --socket "inet:$port@127.0.0.1" --sessions "$sessions" --messages "$messages" \
      --accounts "$accounts" --json >"$work/$target.$round.json" ||
      echo "state-dir.sh: $target: floodgate-bench reported errors" >&2
  done
done

python3 - "$work" "$rounds" "$sessions" <<'EOF'
import json, sys
work, rounds, sessions = sys.argv[1], int(sys.argv[2]), sys.argv[3]
print(f"{'floodgate/memory':<24} {'sessions':>8} {'rcpt/s':>8} {'(min..max)':>13} "
      f"{'rcpt p50 us':>11} {'p99':>8} {'p99.9':>8} {'max':>8} {'eom p99':>8} {'errors':>6}")
rates = {}
for label, name in (("state_dir = \"\"", "memory"), ("state_dir (on disk)", "state")):
    runs = [json.load(open(f"{work}/{name}.{k}.json")) for k in range(1, rounds + 1)]
    runs.sort(key=lambda r: r["rcpt_decisions_per_s"])
    r = runs[(len(runs) - 1) // 2]
    all_rates = [x["rcpt_decisions_per_s"] for x in runs]
    rc = r["stages"].get("rcpt", {})
    eom = r["stages"].get("eom", {})
    print(f"{label:<24} {sessions:>8} {r['rcpt_decisions_per_s']:>8.0f} "
          f"{min(all_rates):>6.0f}..{max(all_rates):<6.0f} {rc.get('p50_us', 0):>11.1f} "
          f"{rc.get('p99_us', 0):>8.1f} {rc.get('p999_us', 0):>8.1f} {rc.get('max_us', 0):>8.1f} "
          f"{eom.get('p99_us', 0):>8.1f} {sum(r['errors'].values()):>6}")
    rates[name] = r["rcpt_decisions_per_s"]
ratio = rates["state"] / rates["memory"] if rates["memory"] else 0
print(f"state_dir / memory only: {ratio:.2f} of the decisions/s (medians of {rounds} rounds)")
EOF
grep -h "state_dir\|state saved" "$work/state.log" | tail -3 >&2 || true
