"""Scenario 3: a recipients-counted limit charges every recipient.

Limit 100/1h recipients: a message to 50 recipients uses 50 units; the next message
to 60 recipients gets 50 accepted and 10 refused with 451 4.7.28, and still goes to
the 50 accepted ones.
"""
import unittest

from harness import E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml, wait_for
from smtp_client import Session

ACCOUNT = "lists@example.test"


class RecipientsTest(E2ETestCase, unittest.TestCase):

    def test_each_recipient_is_one_unit(self):
        fg = self.use(Floodgate(floodgate_toml(
            limit_toml("rcpts", "account", "100/1h", count="recipients"))))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port))

        with Session(pf.port) as s:
            s.xclient(addr="203.0.113.60", login=ACCOUNT)
            first = s.send("lists@example.test", [f"a{i}@example.net" for i in range(50)])
            second = s.send("lists@example.test", [f"b{i}@example.net" for i in range(60)])
        self.assertTrue(first.accepted, first)
        self.assertEqual(len(first.accepted_rcpts), 50)

        self.assertTrue(second.accepted, second.data)
        codes = [rep.code for _, rep in second.rcpts]
        self.assertEqual(codes, [250] * 50 + [451] * 10, "the first 50 fit, the last 10 do not")
        for _, rep in second.rcpts[50:]:
            self.assertRegex(rep.line, r"^451 4\.7\.28 .*sending rate exceeded")
        self.report(f"first: 50/50 accepted; second: {codes.count(250)} accepted, "
                    f"{codes.count(451)} refused ({second.rcpts[-1][1]})")

        # Both messages are delivered, to 100 recipients together.
        wait_for(lambda: sink.delivered() == 2, 60, lambda: f"2 messages, have {sink.delivered()}")
        pf.wait_queue_empty()
        self.assertEqual(pf.sent_count(), 100)
        fg.stop()
        alerts = fg.log_lines(rf"event=limit_exceeded subject=account:{ACCOUNT} limit=rcpts window=1h")
        self.assertEqual(len(alerts), 1, fg.log_text())


if __name__ == "__main__":
    unittest.main()
