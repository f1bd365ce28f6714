#!/usr/bin/env bash
# bench/redis-ceiling.sh: what Redis itself allows floodgate's check.lua, and what floodgate's
# Redis client (RedisStore, no milter) gets out of it, side by side on one redis-server.
#
# 1. Ceiling: `redis-benchmark -c 16 -P 1` and `-P 16` running EVALSHA of store/check.lua
#    with the keys and arguments of one real RCPT decision (store/redis_store.cc's encoding
#    of what policy::MakePlan builds for one account limit), random subjects (-r).
# 2. store-bench (bench/store_bench.cc): RedisStore::Check from 16 threads and from 1.
# 3. Memory: used_memory before and after store-bench charges --subjects fresh subjects,
#    per subject and per (subject, window): once with a one-window 1000/1d limit (so keys
#    outlive the measurement) and once with the shipped three-window "submission".
#
# Usage: bench/redis-ceiling.sh [--build DIR] [--port P] [--requests N] [--seconds S]
#                               [--subjects K]
# Starts a private redis-server on --port (REDIS_PORT, default 18379) unless one answers
# there already; FLUSHALLs it (never point it at a Redis that holds anything).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="$root/build"
port="${REDIS_PORT:-18379}"
requests=100000
seconds=5
subjects=100000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --subjects) subjects="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "redis-ceiling.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
store_bench="$build/tools/store-bench"
[[ -x "$store_bench" ]] || { echo "redis-ceiling.sh: build $store_bench (target store-bench)" >&2; exit 2; }
for tool in redis-server redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "redis-ceiling.sh: needs $tool" >&2; exit 2; }
done

cli() { redis-cli -p "$port" "$@"; }
pid=""
cleanup() { [[ -z "$pid" ]] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }; }
trap cleanup EXIT
if ! cli PING >/dev/null 2>&1; then
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do cli PING >/dev/null 2>&1 && break; sleep 0.1; done
fi
cli FLUSHALL >/dev/null
sha="$(cli -x SCRIPT LOAD <"$root/store/check.lua")"

# One RCPT decision: KEYS = limit hash, lock key, network set; ARGV = n=1, then cost strict
# advisory has_lock nwin lock_ttl_us max_networks networks_window_us network hold_max (0: no
# held list key), then the window: period_us emission_us tolerance_us lock_threshold
# (1000000000/1d, no lock_after).
tag='fg:{account:user__rand_int__@example.org}'
rcpt=(EVALSHA "$sha" 3 "$tag:bench" "$tag!lock" "$tag!lock:networks"
      1 1 0 0 1 1 86400000000 0 0 "" 0 0 0 0 0
      86400000000 86400 86400000000000 0 1000000000 0 0)
reply="$(cli "${rcpt[@]}" | tr '\n' ' ')"
[[ "$reply" == "1 1 0 0  0 0 0 0 0 1000000000 0 "* ]] || { echo "redis-ceiling.sh: unexpected reply: $reply" >&2; exit 1; }

rb() {  # pipeline depth -> requests/s
  redis-benchmark -p "$port" -n "$requests" -c 16 -P "$1" -r "$subjects" --csv "${rcpt[@]}" |
    awk -F'"' 'NR==2 {print $4}'
}
sb() {  # threads -> store-bench JSON
  "$store_bench" --url "redis://127.0.0.1:$port/0" --threads "$1" --seconds "$seconds" \
    --subjects "$subjects"
}
read -r load _ </proc/loadavg
echo "load average: $load on $(nproc) cores"
p1="$(rb 1)"; s16="$(sb 16)"; p16="$(rb 16)"; s1="$(sb 1)"
echo "redis-benchmark -c 16 -P 1  EVALSHA check.lua: $p1 requests/s"
echo "redis-benchmark -c 16 -P 16 EVALSHA check.lua: $p16 requests/s"
echo "store-bench 16 threads: $s16"
echo "store-bench  1 thread:  $s1"
python3 - "$p1" "$p16" "$s16" "$s1" <<'EOF'
import json, sys
p1, p16, s16, s1 = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(f"store-bench(16) / redis-benchmark -P 1: {s16['checks_per_s'] / p1:.2f}; "
      f"/ -P 16: {s16['checks_per_s'] / p16:.2f}")
EOF

measure_memory() {  # --limit bench|spec, windows per subject
  cli FLUSHALL >/dev/null
  local before after keys
  before="$(cli INFO memory | awk -F: '/^used_memory:/ {print $2+0}')"
  "$store_bench" --url "redis://127.0.0.1:$port/0" --threads 16 --checks "$subjects" \
    --subjects "$subjects" --seconds 0 --amount 1000 --limit "$1" >/dev/null
  after="$(cli INFO memory | awk -F: '/^used_memory:/ {print $2+0}')"
  keys="$(cli DBSIZE)"
  echo "memory ($1 limit, $2 window(s)): $subjects subjects -> $keys keys," \
    "used_memory +$((after - before)) bytes, $(((after - before) / subjects)) per subject," \
    "$(((after - before) / subjects / $2)) per (subject, window)"
}
measure_memory bench 1
measure_memory spec 3

# The shipped config: each call is one account's RCPT from an address of its own, so it
# makes an account subject (limit hash with adaptive windows, network and domain sets) and
# an ip subject. MEMORY USAGE names what one account's state costs, key by key.
measure_shipped() {
  cli FLUSHALL >/dev/null
  local before after keys total=0 k u
  before="$(cli INFO memory | awk -F: '/^used_memory:/ {print $2+0}')"
  "$store_bench" --url "redis://127.0.0.1:$port/0" --threads 16 --checks "$subjects" \
    --subjects "$subjects" --seconds 0 --limit shipped >/dev/null
  after="$(cli INFO memory | awk -F: '/^used_memory:/ {print $2+0}')"
  keys="$(cli DBSIZE)"
  echo "memory (shipped config): $subjects accounts, each from its own address -> $keys keys," \
    "used_memory +$((after - before)) bytes, $(((after - before) / subjects)) per account" \
    "with its address"
  for k in $(cli --scan --pattern 'fg:{account:user1@example.org}*') \
           $(cli --scan --pattern 'fg:{ip:10.0.0.1}*'); do
    u="$(cli MEMORY USAGE "$k")"
    total=$((total + u))
    echo "  MEMORY USAGE $k: $u bytes"
  done
  echo "  one account and its address: $total bytes"
}
measure_shipped
