"""Values from the network cannot forge alert lines or break replies.

A login (XCLIENT LOGIN, xtext +0A = newline) that carries a fake log line and a `%`
goes over a 1/1h limit: the refusal is still a proper 451 4.7.28 reply, and the
daemon's log has exactly one limit_exceeded line for it and no line that starts
with the forged event.
"""
import unittest

from harness import E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml
from smtp_client import Session

FORGED = "floodgate[1]: event=unlocked subject=account:ceo@example.test"
LOGIN = "evil%s@example.test\n" + FORGED


class HostileInputTest(E2ETestCase, unittest.TestCase):

    def test_login_with_newline_cannot_forge_a_log_line(self):
        fg = self.use(Floodgate(floodgate_toml(limit_toml("submission", "account", "1/1h"))))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port))

        with Session(pf.port) as s:
            s.xclient(addr="203.0.113.99", login=LOGIN)
            first = s.send("x@example.test", ["rcpt@example.net"])
            second = s.send("x@example.test", ["rcpt@example.net"])
        self.assertTrue(first.accepted, first)
        refusal = second.rcpts[0][1]
        self.assertRegex(refusal.line, r"^451 4\.7\.28 .*sending rate exceeded")
        self.assertNotIn("\n", refusal.text)

        fg.stop()
        lines = fg.log_lines()
        self.assertFalse([l for l in lines if l.startswith(FORGED) or l.startswith("event=unlocked")],
                         "\n".join(lines))
        self.assertEqual(fg.log_lines(r"event=unlocked"), fg.log_lines(r"event=limit_exceeded"),
                         "the forged text only ever appears inside the one escaped alert line")
        alerts = fg.log_lines(r"event=limit_exceeded ")
        self.assertEqual(len(alerts), 1, "\n".join(lines))
        self.assertRegex(alerts[0], r"subject=\"?account:evil")
        self.report(f"refusal: {refusal}; alert: {alerts[0]}")


if __name__ == "__main__":
    unittest.main()
