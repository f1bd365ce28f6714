#!/usr/bin/env bash
# Sets up and runs floodgate on a fresh Debian 12 machine (as root): installs the build
# dependencies, builds into build/, and runs the daemon in the foreground with the
# embedded memory store (no Redis) on inet:8899@127.0.0.1, logging to syslog and stderr.
# Pass a config to use it instead of the built-in defaults:  deploy/quickstart.sh -c FILE
# floodgatectl is built too: `build/tools/ctl/floodgatectl status` (another terminal, as
# root) reaches this daemon through its admin socket.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh --build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target floodgate floodgatectl
exec build/milter/floodgate -f -e "$@"
