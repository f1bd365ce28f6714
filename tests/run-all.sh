#!/usr/bin/env bash
# Sets up and runs floodgate's whole test suite on Debian 12 (as root): installs the
# packages (deploy/install-deps.sh --test), configures build/ if it is not configured
# yet, builds, and runs every test - unit, integration against a real redis-server and
# end-to-end through a real Postfix (those are RUN_SERIAL, so -j2 leaves them alone).
#
# Environment: FLOODGATE_BUILD_DIR (default build), FLOODGATE_CMAKE_ARGS (extra
# arguments for the first configure, e.g. -DFLOODGATE_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${FLOODGATE_BUILD_DIR:-build}"

if [ "$(id -u)" -ne 0 ]; then
  echo "tests/run-all.sh: the end-to-end tests start Postfix instances; run as root" >&2
  exit 1
fi
deploy/install-deps.sh --test
if [ ! -f "$build/CMakeCache.txt" ]; then
  # shellcheck disable=SC2086  # word splitting of the extra arguments is intended
  cmake -S . -B "$build" ${FLOODGATE_CMAKE_ARGS:-}
fi
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure -j2
