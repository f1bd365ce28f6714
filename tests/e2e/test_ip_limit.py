"""Scenario 2: a client-address limit holds across accounts.

Ten accounts log in (XCLIENT) from one address and send 10 messages each in
parallel; the `ip` limit of 50/1h messages lets exactly 50 through in total, the
rest are refused at RCPT with 451 4.7.28. A second address is not affected.
"""
import unittest

from harness import E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml, wait_for
from smtp_client import blast

ADDR = "203.0.113.50"
LIMIT, PERIOD_S = 50, 3600


class IpLimitTest(E2ETestCase, unittest.TestCase):

    def test_ip_limit_holds_across_ten_accounts(self):
        fg = self.use(Floodgate(floodgate_toml(
            limit_toml("per-ip", "ip", f"{LIMIT}/1h"),
            limit_toml("submission", "account", "1000/1h"))))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port))

        tally = blast(pf.port, 10, 10, "sender@example.test",
                      xclient=lambda i: {"addr": ADDR, "login": f"user{i}@example.test"})
        self.report(f"one address, 10 accounts: {tally.summary()}")
        self.assertEqual(tally.errors, [], tally.summary())
        self.assertLess(tally.seconds, PERIOD_S / LIMIT, "burst slower than one refill interval")
        self.assertEqual(tally.accepted, LIMIT, tally.summary())
        refused = tally.refused_rcpt_lines()
        self.assertEqual(sum(refused.values()), 100 - LIMIT, tally.summary())
        for line in refused:
            self.assertRegex(line, r"^451 4\.7\.28 .*sending rate exceeded")

        other = blast(pf.port, 1, 5, "sender@example.test",
                      xclient={"addr": "198.51.100.50", "login": "user0@example.test"})
        self.assertEqual(other.accepted, 5, other.summary())

        wait_for(lambda: sink.delivered() == LIMIT + 5, 60,
                 lambda: f"{LIMIT + 5} messages at the sink, have {sink.delivered()}")
        fg.stop()
        alerts = fg.log_lines(r"event=limit_exceeded ")
        self.assertEqual(len([l for l in alerts if f"subject=ip:{ADDR} " in l]), 1, "\n".join(alerts))
        self.assertFalse([l for l in alerts if "subject=account:" in l], "\n".join(alerts))


if __name__ == "__main__":
    unittest.main()
