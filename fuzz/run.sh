#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time (default 60 s)
# on a copy of the committed seed corpus. Exits non-zero on the first crash or sanitizer
# report. Usage: fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DFLOODGATE_FUZZ=ON -DFLOODGATE_TESTS=OFF \
  -DFLOODGATE_WERROR=ON >/dev/null
cmake --build build-fuzz -j2 --target config_fuzz subject_fuzz recipient_fuzz reply_fuzz \
  alert_mail_fuzz state_fuzz
for target in config subject recipient reply alert_mail state; do
  work="$(mktemp -d)"
  cp fuzz/corpus/"$target"/* "$work"/
  echo "== ${target}_fuzz for ${seconds}s"
  build-fuzz/fuzz/${target}_fuzz -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -print_final_stats=1 "$work" 2>&1 | tail -n 12
  rm -rf "$work"
done
