#!/usr/bin/env bash
# Runs fail2ban-regex with deploy/fail2ban/filter.d/floodgate.conf over the sample logs
# here and asserts the exact addresses it would ban, line by line, in order:
#   floodgate.log  real daemon lines (make-samples.py): tempfail/reject/locked match with
#                  their real client, including logins that carry a fake "client=" field;
#                  action=monitor never matches;
#   crafted.log    escaped newlines/quotes, lines without client=, admin locks, other
#                  events and daemons: only the real trailing client= of a tempfail,
#                  reject or locked line is ever banned.
# Needs fail2ban (Debian package fail2ban; deploy/install-deps.sh --test).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
filter="$here/../../deploy/fail2ban/filter.d/floodgate.conf"
command -v fail2ban-regex >/dev/null || { echo "check.sh: fail2ban-regex not installed" >&2; exit 1; }

# fail2ban-regex resolves the filter's "before = common.conf" next to the filter file.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/filter.d"
cp /etc/fail2ban/filter.d/common.conf "$filter" "$tmp/filter.d/"

status=0
for name in floodgate crafted; do
  fail2ban-regex -o ip "$here/$name.log" "$tmp/filter.d/floodgate.conf" >"$tmp/$name.out"
  if diff -u "$here/expected-$name.txt" "$tmp/$name.out"; then
    echo "ok: $name.log bans exactly $(wc -l <"$tmp/$name.out") expected address(es)"
  else
    echo "FAIL: $name.log: addresses fail2ban would ban differ from expected-$name.txt" >&2
    status=1
  fi
done
exit $status
