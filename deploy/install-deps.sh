#!/usr/bin/env bash
# Installs the Debian 12 packages floodgate needs to build, run and test.
# Usage: deploy/install-deps.sh [--build|--test]   (default --test: everything)
set -euo pipefail
what="${1:---test}"
export DEBIAN_FRONTEND=noninteractive
build_pkgs=(build-essential cmake pkg-config libmilter-dev libboost-dev libhiredis-dev
  libfmt-dev libtoml11-dev libgtest-dev libcli11-dev nlohmann-json3-dev)
test_pkgs=(redis-server postfix sasl2-bin libsasl2-modules swaks rsyslog procps iproute2 python3 clang clang-format libclang-rt-14-dev fail2ban
  prometheus)
pkgs=("${build_pkgs[@]}")
[ "$what" = "--test" ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Installing postfix/redis-server may start them through policy-rc.d-less containers; the
# tests start their own private instances, so stop the system ones if they came up.
if [ "$what" = "--test" ]; then
  service redis-server stop >/dev/null 2>&1 || true
  service postfix stop >/dev/null 2>&1 || true
  # The same for prometheus (tests/e2e/test_prometheus.py runs its own on a free port),
  # which the package also enables at boot: a system one would hold port 9090. Only when
  # this run installed it, so a Prometheus the machine already used is left alone.
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    service prometheus stop >/dev/null 2>&1 || true
    if command -v systemctl >/dev/null 2>&1; then
      systemctl disable prometheus >/dev/null 2>&1 || true
    fi
  fi
fi
