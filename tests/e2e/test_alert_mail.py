"""The lock mail: an account burst locks it, and floodgate mails the admin once.

floodgate (memory store) with `[alerts] mail_to` and `sendmail_path` pointing at the
private Postfix instance's sendmail (a two-line wrapper adding `-C DIR`), a sender
limit of 3/1h that the alert mail's own sender would exceed, and an account limit of
10/1h with lock_after = 10. Through a real Postfix whose relay is down (so accepted mail
stays queued, where the test can read it):
- three earlier sendmail submissions from mail_from are not limited (local submissions
  from mail_from are exempt);
- the burst locks the account; exactly one lock mail is submitted, to the right
  recipient, from mail_from, and passes floodgate (it reaches the queue, not the
  maildrop a tempfail would leave it in);
- its text says what happened and names the exact floodgatectl commands;
- `floodgatectl report` (the table and --json) shows the lock, and `report --mail`
  mails the digest through the same sendmail.
"""
import json
import os
import re
import subprocess
import unittest

from harness import (E2ETestCase, Floodgate, Postfix, build_tool, floodgate_toml, limit_toml,
                     make_tempdir, remove_tempdir, wait_for)
from smtp_client import Session

VICTIM = "victim@example.test"
SUBJECT = f"account:{VICTIM}"
ADMIN = "postmaster@example.net"
MAIL_FROM = "floodgate@fg-e2e.example.test"
LIMIT, LOCK_AFTER = 10, 10
LOCKED = "550 5.7.1 account locked for sending, contact your administrator"


class AlertMailTest(E2ETestCase, unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.ctl_bin = build_tool("tools", "ctl", "floodgatectl")
        self.tools = make_tempdir("sendmail-wrapper")
        self.addCleanup(remove_tempdir, self.tools)
        self.sendmail = os.path.join(self.tools, "sendmail")
        limits = (limit_toml("submission", "account", f"{LIMIT}/1h", lock_after=LOCK_AFTER)
                  + limit_toml("senders", "sender", "3/1h"))
        alerts = ("\n[alerts]\n"
                  f'mail_to = ["{ADMIN}"]\n'
                  f'mail_from = "{MAIL_FROM}"\n'
                  f'sendmail_path = "{self.sendmail}"\n')
        self.fg = self.use(Floodgate(floodgate_toml(limits) + alerts))
        self.pf = self.use(Postfix(self.fg.port))  # no sink: the relay is down
        # The instance's sendmail needs -C DIR (listed in alternate_config_directories).
        with open(self.sendmail, "w") as f:
            f.write(f'#!/bin/sh\nexec /usr/sbin/sendmail -C {self.pf.config_dir} "$@"\n')
        os.chmod(self.sendmail, 0o755)

    def ctl(self, *args):
        argv = [self.ctl_bin, "-c", self.fg.config_path, *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=self.pf.env)
        self.assertEqual(r.returncode, 0, f"{' '.join(argv)}: {r.stdout}{r.stderr}")
        return r.stdout

    def queued_from(self, sender):
        """Queue entries (every queue, maildrop included) with that envelope sender."""
        return [e for e in self.pf.queue() if e["sender"] == sender]

    def mails(self, kind):
        """Queued (past the maildrop) mails from MAIL_FROM to ADMIN of that X-Floodgate-Event."""
        return [e for e in self.queued_from(MAIL_FROM)
                if e["queue_name"] != "maildrop"
                and [r["address"] for r in e["recipients"]] == [ADMIN]
                and f"\nX-Floodgate-Event: {kind}\n" in self.message(e["queue_id"])]

    def message(self, queue_id):
        r = subprocess.run(["postcat", "-c", self.pf.config_dir, "-hb", "-q", queue_id],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_burst_lock_mails_the_admin_once(self):
        # mail_from is exempt for local submissions: three of its mails use up no
        # sender limit (3/1h), so the lock mail, the fourth, is not refused either.
        for i in range(3):
            self.pf.sendmail(MAIL_FROM, ["someone@example.net"], f"Subject: earlier {i}\n\nx\n")

        replies = []
        with Session(self.pf.port) as s:
            s.xclient(addr="203.0.113.9", login=VICTIM)
            for i in range(LIMIT * (LOCK_AFTER + 1) + 20):
                res = s.send(f"spam{i}@example.test", ["rcpt@example.net"])
                replies.append(res.rcpts[0][1].line)
        self.assertIn(LOCKED, replies)
        self.assertEqual(replies[-1], LOCKED)
        self.fg.wait_log(rf"event=locked subject={SUBJECT} reason=burst")

        [mail] = wait_for(lambda: self.mails("locked"), 60,
                          lambda: f"the lock mail in the queue: {self.pf.queue()}; log:\n"
                          + self.fg.log_text()[-2000:])
        self.assertFalse(self.fg.log_lines(rf"subject=sender:{MAIL_FROM}"),
                         "mail_from was never limited")
        earlier = [e for e in self.queued_from(MAIL_FROM) if e["queue_id"] != mail["queue_id"]]
        self.assertEqual(len(earlier), 3, earlier)
        self.assertFalse([e for e in earlier if e["queue_name"] == "maildrop"], earlier)

        text = self.message(mail["queue_id"])
        self.report("the lock mail as queued:\n" + text)
        headers, body = text.split("\n\n", 1)
        self.assertRegex(headers, rf"(?m)^Subject: \[floodgate\] LOCKED {re.escape(SUBJECT)} "
                         r"\(burst\) on ")
        self.assertRegex(headers, rf"(?m)^To: {re.escape(ADMIN)}$")
        self.assertRegex(headers, rf"(?m)^From: {re.escape(MAIL_FROM)}$")
        self.assertRegex(headers, r"(?m)^X-Floodgate-Event: locked$")
        ctl = f"floodgatectl -c {self.fg.config_path}"
        for words in [f"floodgate LOCKED the account {VICTIM}: no mail from it is accepted now.",
                      "stolen password", f"units refused:  {LIMIT * LOCK_AFTER}",
                      "client:         203.0.113.9", "limit:          submission",
                      f"{ctl} show {SUBJECT}\n", f"{ctl} queue {SUBJECT} --delete\n",
                      f"{ctl} unlock {SUBJECT}\n"]:
            self.assertIn(words, body)

        # The report says the same, and --mail mails it through the same sendmail.
        report = json.loads(self.ctl("report", "--json"))
        [victim] = [s for s in report["subjects"] if s["subject"] == SUBJECT]
        self.assertEqual([(l["reason"], l["refused"]) for l in victim["locks"]],
                         [("burst", LIMIT * LOCK_AFTER)], victim)
        self.assertEqual(victim["units_refused"], LIMIT * LOCK_AFTER)
        self.assertEqual([(h["limit"], h["window"], h["times"]) for h in victim["limits_hit"]],
                         [("submission", "1h", 1)], victim)
        self.assertEqual(victim["clients"], ["203.0.113.9"])
        self.assertEqual([l["subject"] for l in report["locked_now"]], [SUBJECT])
        table = self.ctl("report", "--since", "1h")
        self.report("floodgatectl report --since 1h:\n" + table)
        self.assertRegex(table, rf"(?m)^{re.escape(SUBJECT)} +submission 10/1h x1 +100 burst ")
        self.assertRegex(table, rf"(?m)^Locked now:\n  {re.escape(SUBJECT)} +reason=burst")
        self.assertIn(f"report mailed to {ADMIN}", self.ctl("report", "--mail"))
        [digest] = wait_for(lambda: self.mails("report"), 60,
                            lambda: f"the report mail in the queue: {self.pf.queue()}")
        self.assertIn("Locked now:", self.message(digest["queue_id"]))

        # Exactly one lock mail: the refusals after the lock mailed nothing more. The
        # daemon's mail jobs end with it (a stop waits for running ones).
        self.fg.stop()
        self.assertEqual(len(self.mails("locked")), 1, self.pf.queue())
        self.assertEqual(len(self.fg.log_lines(r"event=locked ")), 1)
        self.assertFalse(self.fg.log_lines(r"alert mail to"), self.fg.log_text())


if __name__ == "__main__":
    unittest.main()
