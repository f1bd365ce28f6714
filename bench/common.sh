# bench/common.sh: sourced by the bench scripts. Set `me` (the script's name, for messages)
# and `work` (where the daemons' logs are) before calling.

# The limits floodgate benchmarks run with, in two plans:
#   shipped  deploy/floodgate.toml's limits (an account limit with three windows, leaky,
#            lock_after, max_networks, max_recipient_domains, adaptive floors, lock_ttl;
#            an ip limit with one window; a sender limit for local and relay traffic; the
#            newsletter override), with amounts and floors a million times larger (1d and
#            the distinct counts at their maximum), so no run reaches them. floodgate-bench's
#            mail is authenticated submission, so every RCPT is a full check-and-charge of
#            the account and ip limits that passes;
#   single   one account limit with one window, nobody reaches it either.
bench_limits_toml() {  # shipped|single
  case "$1" in
    shipped) cat <<'EOF'

[traffic]
# floodgate-bench's senders are @example.org, its recipients @example.net (all counted).
local_domains = ["example.org"]

[[limit]]
name = "submission"
subject = "account"
traffic = ["submission"]
destinations = "external"
count = "recipients"
rate = ["30000000/1m", "300000000/1h", "1000000000/1d"]
action = "tempfail"
mode = "leaky"
lock_after = 10
max_networks = { count = 1000000, window = "1h" }
max_recipient_domains = { count = 10000, window = "1h" }
adaptive = { factor = 10, floor = ["10000000/1m", "100000000/1h", "300000000/1d"] }
lock_ttl = "1d"

[[limit]]
name = "per-ip"
subject = "ip"
count = "messages"
rate = ["600000000/1h"]
traffic = ["submission", "relay"]
ipv4_prefix = 32
ipv6_prefix = 64

[[limit]]
name = "per-sender"
subject = "sender"
count = "recipients"
rate = ["100000000/1h", "1000000000/1d"]
traffic = ["local", "relay"]
destinations = "external"
lock_after = 10

[[override]]
subject = "account:newsletter@example.org"
limit = "submission"
rate = ["1000000000/1h"]
max_recipient_domains = { count = 10000, window = "1h" }
adaptive = false
EOF
      ;;
    single) cat <<'EOF'

[[limit]]
name = "bench"
subject = "account"
count = "recipients"
rate = ["1000000000/1d"]
action = "tempfail"
EOF
      ;;
    *) echo "bench_limits_toml: shipped or single, not '$1'" >&2; return 2 ;;
  esac
}

# Command prefixes that place processes on CPUs. With $1 = 1 (--pin): redis-server alone
# on the last CPU ("${on_redis[@]}"), everything else on the others ("${on_clients[@]}");
# otherwise both leave a process where the scheduler puts it.
pin_cpus() {
  on_clients=(env)
  on_redis=(env)
  [[ "$1" == 1 ]] || return 0
  local cpus
  cpus="$(nproc)"
  if [[ "$cpus" -lt 2 ]] || ! command -v taskset >/dev/null; then
    echo "$me: --pin needs 2 or more CPUs and taskset (util-linux)" >&2
    exit 2
  fi
  on_clients=(taskset -c "0-$((cpus - 2))")
  on_redis=(taskset -c "$((cpus - 1))")
}

wait_for_port() {  # port, name, pid: until the daemon `pid` listens on 127.0.0.1:port
  local i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$3" 2>/dev/null || { echo "$me: $2 exited; see $work" >&2; exit 1; }
    sleep 0.1
  done
  echo "$me: $2 does not listen on port $1" >&2
  exit 1
}

# A daemon still listening from an earlier run would be measured in place of ours.
require_free_port() {  # port, name, variable that sets it
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "$me: port $1 (for $2) is already in use; set ${3:-the port} to another" >&2
    exit 1
  fi
}
