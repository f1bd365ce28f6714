"""Scenario 7: a real SMTP AUTH login (Cyrus sasldb) is counted under its account.

Limit 5/1h messages on the account: five messages are accepted, the sixth is refused
at RCPT with 451 4.7.28, and the alert names the SASL login.
"""
import unittest

from harness import E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml, wait_for
from smtp_client import Session

LOGIN, PASSWORD = "saslvictim@sasl.floodgate-e2e.test", "user"  # the incident's throw-away password


class SaslTest(E2ETestCase, unittest.TestCase):

    def test_sasl_login_is_counted_under_its_account(self):
        fg = self.use(Floodgate(floodgate_toml(limit_toml("submission", "account", "5/1h"))))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port, sasl_users={LOGIN: PASSWORD}))

        with Session(pf.port) as s:
            rep = s.login(LOGIN, PASSWORD)
            self.assertEqual(rep.code, 235, rep)
            results = [s.send("spam@example.test", ["rcpt@example.net"]) for _ in range(6)]
        self.assertEqual([r.accepted for r in results], [True] * 5 + [False])
        last = results[-1].rcpts[0][1]
        self.assertRegex(last.line, r"^451 4\.7\.28 .*sending rate exceeded")
        self.report(f"5 accepted, 6th: {last}")

        wait_for(lambda: sink.delivered() == 5, 60, lambda: f"5 at the sink, have {sink.delivered()}")
        # Postfix itself attributes the five queued messages to the SASL login.
        self.assertEqual(len(pf.maillog_lines(rf"sasl_method=PLAIN, sasl_username={LOGIN}")), 5)
        fg.stop()
        alerts = fg.log_lines(rf"event=limit_exceeded subject=account:{LOGIN} limit=submission window=1h")
        self.assertEqual(len(alerts), 1, fg.log_text())


if __name__ == "__main__":
    unittest.main()
