"""Scenario 6: `action = "monitor"` refuses nothing and says so once.

150 messages against a 100/1h monitor limit: all 150 are accepted and delivered;
the log has exactly one limit_exceeded line for the subject and window, with
action=monitor (not one per message over the limit).
"""
import unittest

from harness import E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml, wait_for
from smtp_client import blast

ACCOUNT = "calibrate@example.test"


class MonitorTest(E2ETestCase, unittest.TestCase):

    def test_monitor_passes_everything_and_logs_once(self):
        fg = self.use(Floodgate(floodgate_toml(
            limit_toml("watch", "account", "100/1h", action="monitor"))))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port))

        tally = blast(pf.port, 3, 50, "c@example.test",
                      xclient={"addr": "203.0.113.80", "login": ACCOUNT})
        self.report(tally.summary())
        self.assertEqual(tally.errors, [], tally.summary())
        self.assertEqual(tally.accepted, 150, tally.summary())
        self.assertEqual(dict(tally.rcpt), {"250 2.1.5 Ok": 150})
        wait_for(lambda: sink.delivered() == 150, 60,
                 lambda: f"150 messages at the sink, have {sink.delivered()}")

        fg.stop()  # every line is written once the daemon has exited
        alerts = fg.log_lines(r"event=limit_exceeded ")
        self.assertEqual(len(alerts), 1, "\n".join(alerts) or fg.log_text())
        self.assertRegex(alerts[0], rf"subject=account:{ACCOUNT} limit=watch window=1h .*action=monitor")
        self.report(f"alert: {alerts[0]}")


if __name__ == "__main__":
    unittest.main()
