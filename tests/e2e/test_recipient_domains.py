"""The two behavioural signals of an account limit, through a real Postfix with real SASL
logins (Cyrus sasldb) and the memory store read through floodgatectl:

- max_recipient_domains: an account whose external recipients go to more domains than
  the limit allows is locked (reason too_many_domains) at the recipient that crosses the
  line; its mail is then refused with 550 5.7.1, to domains it already wrote to as well,
  while another account sends on. Recipients in local_domains do not count under
  destinations = "external". floodgatectl shows the domain count and the lock; after
  `floodgatectl unlock` the account sends again and its domain set starts afresh.
- adaptive: a new account is held to the floor of an adaptive window, not to the
  window's own amount, and the refusal says both.
"""
import json
import re
import subprocess
import unittest

from harness import (E2ETestCase, Floodgate, Postfix, SmtpSink, build_tool, floodgate_toml,
                     limit_toml, wait_for)
from smtp_client import Session

SASL_DOMAIN = "rcptdomains.floodgate-e2e.test"
PASSWORD = "recipient-domains"
HIJACKED, BYSTANDER, NEWCOMER = (f"{u}@{SASL_DOMAIN}" for u in ("rdhijacked", "rdbystander",
                                                                 "rdnewcomer"))
LOCAL_DOMAIN = "example.org"
OK_RCPT = "250 2.1.5 Ok"
LOCKED = "550 5.7.1 account locked for sending, contact your administrator"
REFUSED = "451 4.7.28 account sending rate exceeded, try again later"
MAX_DOMAINS = 5


def domain(i):
    """The i-th external recipient domain (outside local_domains)."""
    return f"d{i}.example.net"


class RecipientDomainsTest(E2ETestCase, unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.ctl_bin = build_tool("tools", "ctl", "floodgatectl")

    def start(self, limit, users):
        """floodgate (memory store, local_domains = [LOCAL_DOMAIN]) with `limit`, a sink
        and a Postfix with the SASL `users`."""
        text = floodgate_toml(limit) + f'\n[traffic]\nlocal_domains = ["{LOCAL_DOMAIN}"]\n'
        self.fg = self.use(Floodgate(text))
        self.sink = self.use(SmtpSink())
        self.pf = self.use(Postfix(self.fg.port, self.sink.port,
                                   sasl_users={u: PASSWORD for u in users}))

    def ctl(self, *args, json_out=True):
        argv = [self.ctl_bin, "-c", self.fg.config_path, *(["--json"] if json_out else []), *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, f"{' '.join(argv)}: {r.stdout}{r.stderr}")
        return json.loads(r.stdout) if json_out else r.stdout

    def submit(self, login, messages):
        """One session with a real AUTH PLAIN login sending `messages` (a list of
        recipient lists); the RCPT reply lines per message and the messages queued."""
        with Session(self.pf.port) as s:
            rep = s.login(login, PASSWORD)
            self.assertEqual(rep.code, 235, rep)
            results = [s.send(login, rcpts) for rcpts in messages]
        return [[rep.line for _, rep in r.rcpts] for r in results], sum(r.accepted for r in results)

    def events(self, event, subject):
        return self.fg.log_lines(rf"event={event} subject={re.escape(subject)} ")

    # ------------------------------------------------------------------ recipient domains

    def test_recipients_to_too_many_domains_lock_the_account_until_unlocked(self):
        limit = limit_toml("submission", "account", ["1000/1m", "10000/1h"],
                           count="recipients", destinations="external")
        limit += f'max_recipient_domains = {{ count = {MAX_DOMAINS}, window = "1h" }}\n'
        self.start(limit, [HIJACKED, BYSTANDER])
        subject = f"account:{HIJACKED}"
        queued = 0

        # Mail to the site's own users is free: ten local recipients, no domain counted.
        local = [[f"user{k}@{LOCAL_DOMAIN}" for k in range(m, m + 5)] for m in (0, 5)]
        lines, n = self.submit(HIJACKED, local)
        queued += n
        self.assertEqual(lines, [[OK_RCPT] * 5] * 2)
        shown = self.ctl("show", subject)
        self.assertFalse(shown["lock"]["locked"], shown)
        self.assertEqual(shown["limits"][0]["recipient_domains"],
                         {"seen": 0, "max": MAX_DOMAINS, "window": "1h"})

        # Five external domains, several recipients each (and one message across two).
        external = [[f"r{k}@{domain(i)}" for k in range(3)] for i in range(1, MAX_DOMAINS + 1)]
        external.append([f"again@{domain(1)}", f"again@{domain(2)}", f"user0@{LOCAL_DOMAIN}"])
        lines, n = self.submit(HIJACKED, external)
        queued += n
        self.assertEqual(lines, [[OK_RCPT] * len(r) for r in external])
        shown = self.ctl("show", subject)
        self.assertFalse(shown["lock"]["locked"], shown)
        self.assertEqual(shown["limits"][0]["recipient_domains"]["seen"], MAX_DOMAINS)
        self.assertEqual(self.events("locked", subject), [])

        # The sixth domain locks it at that very recipient; a domain it already wrote to,
        # and a local user, are refused from then on, in the next message and session too.
        sixth = domain(MAX_DOMAINS + 1)
        sixth_lines, n = self.submit(HIJACKED, [
            [f"r0@{domain(1)}", f"new@{sixth}", f"r1@{domain(2)}"], [f"r0@{domain(3)}"]])
        queued += n
        self.assertEqual(sixth_lines, [[OK_RCPT, LOCKED, LOCKED], [LOCKED]])
        lines, _ = self.submit(HIJACKED, [[f"r2@{domain(1)}"], [f"user1@{LOCAL_DOMAIN}"]])
        self.assertEqual(lines, [[LOCKED], [LOCKED]])
        [locked] = self.fg.wait_log(rf"event=locked subject={re.escape(subject)} ")
        self.assertRegex(locked, rf"event=locked subject={re.escape(subject)} "
                         r"reason=too_many_domains limit=submission traffic=submission "
                         r"ttl=1d client=127\.0\.0\.1$")
        self.report(f"6th domain: {sixth_lines}, next session {lines}; "
                    f"{locked.split('event=', 1)[1]}")

        # Another account writing to some of the same domains (the sixth among them) is
        # not affected: the domains are counted per account.
        bystander = [[f"b{k}@{domain(i)}" for k in range(2)] for i in (1, 2, 3, MAX_DOMAINS + 1)]
        lines, n = self.submit(BYSTANDER, bystander)
        queued += n
        self.assertEqual(lines, [[OK_RCPT] * 2] * 4)
        self.assertEqual(self.events("locked", f"account:{BYSTANDER}"), [])

        shown = self.ctl("show", subject)
        self.assertTrue(shown["lock"]["locked"], shown)
        self.assertEqual(shown["lock"]["reason"], "too_many_domains")
        domains_seen = shown["limits"][0]["recipient_domains"]["seen"]
        self.assertEqual(domains_seen, MAX_DOMAINS + 1, shown)
        text = self.ctl("show", subject, json_out=False)
        self.assertIn("LOCKED  reason=too_many_domains", text)
        self.assertRegex(text, rf"\n  submission +recipient domains: {MAX_DOMAINS + 1} in the "
                         rf"last 1h \(locks above {MAX_DOMAINS}\)\n")

        # Unlocked, it may send again; the domains that locked it are forgotten, so a
        # seventh new domain is accepted too.
        self.assertTrue(self.ctl("unlock", subject)["was_locked"])
        self.assertEqual(len(self.events("unlocked", subject)), 1, self.fg.log_text())
        lines, n = self.submit(HIJACKED, [[f"r0@{domain(1)}"], [f"r0@{domain(MAX_DOMAINS + 2)}"]])
        queued += n
        self.assertEqual(lines, [[OK_RCPT], [OK_RCPT]])
        shown = self.ctl("show", subject)
        self.assertFalse(shown["lock"]["locked"], shown)
        self.assertEqual(shown["limits"][0]["recipient_domains"]["seen"], 2, shown)

        wait_for(lambda: self.sink.delivered() == queued, 60,
                 lambda: f"{queued} messages at the sink, have {self.sink.delivered()}")
        self.fg.stop()
        self.assertEqual(len(self.events("locked", subject)), 1,
                         "\n".join(self.fg.log_lines("event=")))
        self.assertEqual(self.fg.log_lines("event=locked"), [locked])
        self.report(f"{queued} messages delivered; {domains_seen} domains shown while locked, "
                    "2 after the unlock")

    # ------------------------------------------------------------------ adaptive

    def test_a_new_account_is_held_to_the_adaptive_floor(self):
        limit = limit_toml("submission", "account", "100/1h", count="recipients")
        limit += 'adaptive = { factor = 10, floor = ["5/1h"] }\n'
        self.start(limit, [NEWCOMER])
        subject = f"account:{NEWCOMER}"

        shown = self.ctl("show", subject)["limits"][0]["windows"][0]
        self.assertEqual((shown["adaptive"], shown["amount"], shown["usual_peak"]), (True, 5, 0))

        lines, queued = self.submit(NEWCOMER, [[f"friend{k}@{domain(k)}" for k in range(8)],
                                               [f"later@{domain(1)}"]])
        self.assertEqual(lines, [[OK_RCPT] * 5 + [REFUSED] * 3, [REFUSED]])
        [exceeded] = self.fg.wait_log(rf"event=limit_exceeded subject={re.escape(subject)} ")
        self.assertRegex(exceeded, rf"event=limit_exceeded subject={re.escape(subject)} "
                         r"limit=submission window=1h count=100 action=tempfail "
                         r"traffic=submission adaptive=5 client=127\.0\.0\.1$")

        shown = self.ctl("show", subject)["limits"][0]["windows"][0]
        self.assertEqual((shown["rate"], shown["adaptive"], shown["amount"], shown["usual_peak"]),
                         ("100/1h", True, 5, 0), shown)
        self.assertEqual((shown["used"], shown["capacity"], shown["over"]), (5, 5, True), shown)
        self.assertEqual(shown["refused"], 4, shown)
        text = self.ctl("show", subject, json_out=False)
        self.assertRegex(text, r"\n  submission\s+100/1h\s+5/5\s+yes\s.*\s4\s+0\.0\s+5  submission\n")

        wait_for(lambda: self.sink.delivered() == queued, 60,
                 lambda: f"{queued} messages at the sink, have {self.sink.delivered()}")
        self.fg.stop()
        self.assertEqual(self.fg.log_lines("event=limit_exceeded"), [exceeded])
        self.report(f"RCPT replies {lines}; {exceeded.split('event=', 1)[1]}")


if __name__ == "__main__":
    unittest.main()
