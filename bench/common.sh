# bench/common.sh: sourced by the bench scripts. Set `me` (the script's name, for messages)
# and `work` (where the daemons' logs are) before calling.

# The one limit every floodgate benchmark runs with: no run reaches it, so every RCPT is a
# full check-and-charge that passes.
bench_limit_toml() {
  cat <<'EOF'

[[limit]]
name = "bench"
subject = "account"
count = "recipients"
rate = ["1000000000/1d"]
action = "tempfail"
EOF
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
