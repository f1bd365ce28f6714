"""Scenario 4: `sendmail` submissions are limited by sender, and nothing is lost.

Mail from /usr/sbin/sendmail reaches floodgate through non_smtpd_milters (pickup ->
cleanup). With a sender limit of 3/1h messages, four submissions: three are
delivered, the fourth is tempfailed and stays in the maildrop queue for pickup to
retry - not bounced, not dropped.
"""
import unittest

from harness import E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml, wait_for

SENDER = "webapp@example.test"


class SendmailTest(E2ETestCase, unittest.TestCase):

    def test_fourth_submission_over_sender_limit_stays_queued(self):
        fg = self.use(Floodgate(floodgate_toml(limit_toml("scripts", "sender", "3/1h"))))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port))

        for i in range(4):
            pf.sendmail(SENDER, ["rcpt@example.net"], f"Subject: form mail {i}\n\nhello {i}\n")

        # The fourth reaches the milter and is refused with a tempfail by cleanup...
        fg.wait_log(rf"event=limit_exceeded subject=sender:{SENDER} limit=scripts window=1h")
        wait_for(lambda: pf.maillog_lines(r"milter-reject: (END-OF-MESSAGE|MAIL) .*4\.7\.28"), 30,
                 lambda: "cleanup's milter-reject line in the maillog:\n" + pf.maillog()[-3000:])
        # ...while the other three are delivered.
        wait_for(lambda: sink.delivered() == 3 and pf.sent_count() == 3, 60,
                 lambda: f"3 deliveries, sink has {sink.delivered()}, log {pf.sent_count()}")

        # The refused one is still in the maildrop, waiting for pickup's next scan.
        self.assertEqual(len(pf.maildrop_files()), 1, pf.maildrop_files())
        queued = pf.queue()
        self.assertEqual([e["queue_name"] for e in queued], ["maildrop"], queued)
        self.assertEqual(queued[0]["sender"], SENDER)
        self.assertFalse(pf.maillog_lines(r"status=bounced|sender non-delivery notification"),
                         "nothing was bounced")
        self.assertEqual(sink.delivered(), 3)
        self.report(f"delivered {sink.delivered()}, still queued {queued[0]['queue_id']} "
                    f"in {queued[0]['queue_name']}; "
                    + pf.maillog_lines(r"milter-reject")[0].split(": ", 1)[-1])


if __name__ == "__main__":
    unittest.main()
