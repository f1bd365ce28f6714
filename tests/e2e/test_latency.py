"""A single SMTP session must not wait on floodgate: per-message latency side by side.

Throughput tests hide per-message stalls (several sessions overlap them). Here one
session sends 30 one-recipient messages through Postfix without a milter and then
through Postfix with floodgate; floodgate may add a little per message, not a
delayed-ACK round (~40 ms, seen when a milter's negotiated stages leave Postfix
writing small packets that are not answered - STYLE.md "Milter facts that bite").
"""
import statistics
import time
import unittest

from harness import E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml
from smtp_client import Session

MESSAGES = 30
MAX_ADDED_MS = 15.0


def median_ms(port):
    with Session(port) as s:
        s.xclient(addr="203.0.113.90", login="latency@example.test")
        s.send("l@example.test", ["rcpt@example.net"])  # warm-up: first connect of milter
        times = []
        for _ in range(MESSAGES):
            t = time.monotonic()
            res = s.send("l@example.test", ["rcpt@example.net"])
            times.append((time.monotonic() - t) * 1000)
            if not res.accepted:
                raise AssertionError(f"message refused: {res}")
    return statistics.median(times), max(times)


class LatencyTest(E2ETestCase, unittest.TestCase):

    def test_floodgate_adds_no_stall_to_one_session(self):
        sink = self.use(SmtpSink())
        with Postfix(None, sink.port) as plain:
            base, base_max = median_ms(plain.port)
        fg = self.use(Floodgate(floodgate_toml(limit_toml("submission", "account", "100000/1h"))))
        pf = self.use(Postfix(fg.port, sink.port))
        with_fg, fg_max = median_ms(pf.port)
        self.report(f"per message, one session: Postfix alone median {base:.1f} ms "
                    f"(max {base_max:.1f}), with floodgate median {with_fg:.1f} ms (max {fg_max:.1f})")
        self.assertLessEqual(with_fg, base + MAX_ADDED_MS,
                             f"floodgate adds {with_fg - base:.1f} ms per message to one session")


if __name__ == "__main__":
    unittest.main()
