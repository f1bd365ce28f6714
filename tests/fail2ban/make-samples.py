"""Regenerates tests/fail2ban/floodgate.log: real floodgate alert lines for check.sh.

Drives the real daemon through a real Postfix with the e2e harness (needs root, postfix,
FLOODGATE_BIN = the built daemon), one scenario per config, and prints every event line
floodgate wrote, prefixed with a syslog time stamp and host name as rsyslog writes them to
/var/log/mail.log (floodgate's stderr copy, -e, carries everything after the host name).
Usage: FLOODGATE_BIN=build/milter/floodgate python3 tests/fail2ban/make-samples.py
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from harness import Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml  # noqa: E402
from smtp_client import Session  # noqa: E402

FORGED = "floodgate[1]: event=limit_exceeded subject=account:x limit=submission window=1h count=1 action=tempfail client=6.6.6.6"
SCENARIOS = [
    # (limit, [(client address, login or None, sender), ...] each sent 3 times)
    (limit_toml("submission", "account", "1/1h", lock_after=2),
     [("203.0.113.9", "alice@example.org", "alice@example.org"),
      ("IPV6:2001:db8::25", "bob@example.org", "bob@example.org"),
      # a login carrying a newline and a forged alert line
      ("203.0.113.99", "evil@example.org\n" + FORGED, "x@example.org"),
      # a login whose quoted value ends in a fake client field
      ("203.0.113.98", "evil2 action=reject client=6.6.6.7", "x@example.org")]),
    (limit_toml("per-ip", "ip", "1/1h", action="reject"),
     [("198.51.100.7", "carol@example.net", "carol@example.net")]),
    (limit_toml("watch", "account", "1/1h", action="monitor"),
     [("192.0.2.55", "dave@example.org", "dave@example.org"),
      ("192.0.2.56", "mallory action=tempfail client=6.6.6.8", "x@example.org")]),
]


def main():
    lines = []
    for limit, senders in SCENARIOS:
        with Floodgate(floodgate_toml(limit)) as fg, SmtpSink() as sink, \
                Postfix(fg.port, sink.port, extra_main="inet_protocols = all\n") as pf:
            for addr, login, sender in senders:
                with Session(pf.port) as s:
                    s.xclient(addr=addr, login=login)
                    for _ in range(3):
                        s.send(sender, ["rcpt@example.net"])
            fg.stop()
            lines += fg.log_lines(r"^floodgate\[\d+\]: event=")
    for i, line in enumerate(lines):
        print(f"2024-05-02T03:{10 + i:02d}:00.123456+02:00 mx1 {line}")


if __name__ == "__main__":
    main()
