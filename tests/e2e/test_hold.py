"""action = "hold": over the limit, mail is accepted and kept in Postfix's hold queue.

Through a real Postfix, with the memory store and floodgatectl through the admin socket:
- an account with a 3/1h limit, action hold and hold_max 4, sends 9 messages: 3 are
  delivered, 4 are accepted (250) and held with floodgate's reason, 2 get 451 4.7.28
  because the subject already has hold_max messages on hold;
- `floodgatectl held` lists the 4 under the account; `queue --release` lets them go to the
  relay, after which the account may have messages held again; `queue --delete` deletes
  the next held one;
- sendmail(1) mail over a sender limit with action hold is held too (decided at end of
  message), not tempfailed;
- floodgate_messages_held_total counts what was held.
"""
import json
import re
import subprocess
import unittest
import urllib.request

from harness import (E2ETestCase, Floodgate, Postfix, SmtpSink, build_tool, floodgate_toml,
                     free_port, limit_toml, wait_for)
from smtp_client import Session

ACCOUNT = "parents-invite@example.test"
SUBJECT = f"account:{ACCOUNT}"
SCRIPT = "webform@example.test"


class HoldTest(E2ETestCase, unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.ctl_bin = build_tool("tools", "ctl", "floodgatectl")
        self.metrics_port = free_port()
        config = floodgate_toml(
            limit_toml("submission", "account", "3/1h", count="recipients", action="hold",
                       hold_max=4),
            limit_toml("scripts", "sender", "1/1h", action="hold", traffic=["local"]))
        config = config.replace("[store]", f'[metrics]\nlisten = "127.0.0.1:{self.metrics_port}"'
                                "\n\n[store]", 1)
        self.fg = self.use(Floodgate(config))
        self.sink = self.use(SmtpSink())
        self.pf = self.use(Postfix(self.fg.port, self.sink.port))

    def ctl(self, *args):
        argv = [self.ctl_bin, "-c", self.fg.config_path, "--json", *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, f"{' '.join(argv)}: {r.stdout}{r.stderr}")
        return json.loads(r.stdout)

    def send(self, count):
        """`count` one-recipient messages from ACCOUNT; the RCPT reply codes."""
        codes = []
        with Session(self.pf.port) as s:
            s.xclient(addr="203.0.113.9", login=ACCOUNT)
            for i in range(count):
                res = s.send(ACCOUNT, [f"parent{i}@example.net"])
                codes.append(res.rcpts[0][1].code)
                if res.accepted:
                    self.assertEqual(res.data.code, 250, res.data)
        return codes

    def held_in_postfix(self):
        return [e for e in self.pf.queue() if e["queue_name"] == "hold"]

    def metric(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=10) as r:
            text = r.read().decode()
        m = re.search(rf"^{name} (\d+)$", text, re.M)
        return int(m.group(1)) if m else None

    def test_hold_release_delete_and_hold_max(self):
        codes = self.send(9)
        self.assertEqual(codes, [250] * 7 + [451] * 2)
        wait_for(lambda: self.sink.delivered() == 3, 60,
                 lambda: f"3 delivered, sink has {self.sink.delivered()}")
        wait_for(lambda: len(self.held_in_postfix()) == 4, 30,
                 lambda: f"4 held, queue: {self.pf.queue()}")
        hold_lines = self.pf.maillog_lines(r"milter-hold: END-OF-MESSAGE .*milter triggers HOLD "
                                           r"action; from=<" + re.escape(ACCOUNT) + ">")
        self.assertEqual(len(hold_lines), 4, self.pf.maillog()[-3000:])
        refused = self.pf.maillog_lines(r"milter-reject: RCPT .*451 4\.7\.28")
        self.assertEqual(len(refused), 2, "hold_max reached: tempfailed")
        self.fg.wait_log(rf"event=limit_exceeded subject={SUBJECT} limit=submission window=1h "
                         r"count=3 action=hold traffic=submission client=203\.0\.113\.9")
        self.assertEqual(self.metric("floodgate_messages_held_total"), 4)

        held = self.ctl("held", "--postfix-config", self.pf.config_dir)
        self.assertEqual([h["subject"] for h in held], [SUBJECT], held)
        self.assertEqual(sorted(m["queue_id"] for m in held[0]["messages"]),
                         sorted(e["queue_id"] for e in self.held_in_postfix()))

        released = self.ctl("queue", SUBJECT, "--release", "--postfix-config", self.pf.config_dir)
        self.assertEqual(released["acted_on"], 4, released)
        wait_for(lambda: self.sink.delivered() == 7, 60,
                 lambda: f"7 delivered after release, sink has {self.sink.delivered()}")
        self.assertEqual(self.ctl("held", "--postfix-config", self.pf.config_dir), [])

        # The released ones no longer count towards hold_max: the next message is held.
        self.assertEqual(self.send(1), [250])
        wait_for(lambda: len(self.held_in_postfix()) == 1, 30, lambda: f"{self.pf.queue()}")
        deleted = self.ctl("queue", SUBJECT, "--delete", "--postfix-config", self.pf.config_dir)
        self.assertEqual(deleted["acted_on"], 1, deleted)
        wait_for(lambda: not self.held_in_postfix(), 30, lambda: f"{self.pf.queue()}")
        self.assertEqual(self.sink.delivered(), 7, "the deleted one never left")
        self.report(f"RCPT codes {codes}; held 4, released 4 -> {self.sink.delivered()} "
                    f"delivered; 1 more held and deleted; {hold_lines[0].split(': ', 2)[-1]}")

    def test_sendmail_mail_over_the_limit_is_held_at_end_of_message(self):
        for i in range(3):
            self.pf.sendmail(SCRIPT, ["someone@example.net"], f"Subject: form {i}\n\nhi {i}\n")
        wait_for(lambda: self.sink.delivered() == 1, 60,
                 lambda: f"1 delivered, sink has {self.sink.delivered()}")
        wait_for(lambda: len(self.held_in_postfix()) == 2, 60, lambda: f"{self.pf.queue()}")
        # Held, not left in the maildrop (pickup removes each file once cleanup is done).
        wait_for(lambda: not self.pf.maildrop_files(), 30,
                 lambda: f"maildrop: {self.pf.maildrop_files()}, queue: {self.pf.queue()}")
        self.assertFalse(self.pf.maillog_lines(r"status=bounced"))
        held = self.ctl("held", "--postfix-config", self.pf.config_dir)
        self.assertEqual([(h["subject"], len(h["messages"])) for h in held],
                         [(f"sender:{SCRIPT}", 2)])
        self.report(f"sendmail: 1 delivered, 2 held: {[e['queue_id'] for e in self.held_in_postfix()]}")


if __name__ == "__main__":
    unittest.main()
