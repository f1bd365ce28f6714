#!/usr/bin/env bash
# bench/simulate.sh: floodgate's policy over simulated weeks, for the committed workloads.
#
# Runs floodgate-simulate (built beforehand: cmake --build build --target
# floodgate-simulate) on every bench/simulate/*.toml with the shipped
# deploy/floodgate.toml, each workload once per config variant (default: all four,
# adaptive,plain,no-domains,bare), and prints the tables (bench/simulate/README.md
# explains them). It builds nothing itself.
#
# Usage: bench/simulate.sh [--build DIR] [--config FILE] [--variants LIST] [--retries N]
#                          [--seed N] [-j N] [--json] [WORKLOAD...]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="$root/build"
config="$root/deploy/floodgate.toml"
variants="adaptive,plain,no-domains,bare"
extra=()
workloads=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --variants) variants="$2"; shift 2 ;;
    --retries) extra+=(--retries "$2"); shift 2 ;;
    --seed) extra+=(--seed "$2"); shift 2 ;;
    -j|--jobs) extra+=(--jobs "$2"); shift 2 ;;
    --json) extra+=(--json); shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "bench/simulate.sh: unknown option $1" >&2; exit 2 ;;
    *) workloads+=("$1"); shift ;;
  esac
done

sim="$build/tools/simulate/floodgate-simulate"
if [[ ! -x "$sim" ]]; then
  echo "bench/simulate.sh: $sim not found; build it: cmake --build $build --target floodgate-simulate" >&2
  exit 1
fi
if [[ ${#workloads[@]} -eq 0 ]]; then
  workloads=("$here"/simulate/*.toml)
fi
exec "$sim" --config "$config" --variants "$variants" "${extra[@]}" "${workloads[@]}"
