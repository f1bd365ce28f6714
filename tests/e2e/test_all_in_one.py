"""Scenario 10: one Postfix as MX and submission server at once, floodgate on every smtpd.

The instance accepts mail for the local domain example.org from anyone on its MX port
(relay_domains, relayed on to smtp-sink), takes the users' mail on a submission port
with real SASL AUTH (Cyrus sasldb) and the shipped master.cf settings
(smtpd_client_restrictions=permit_sasl_authenticated,reject,
milter_macro_daemon_name=ORIGINATING), and runs sendmail(1) mail through
non_smtpd_milters. Outside client addresses come from XCLIENT (the milter sees a new
connect from them). floodgate runs the shipped deploy/floodgate.toml (an account limit
on external recipients with lock_after and max_networks, a per-ip limit on submission
and relay, a sender limit on local and relay mail) with this site's [traffic]; what the
tests expect is derived from those numbers.

- inbound: 2,000 messages from one outside address, half with a forged MAIL FROM of
  the local user alice, are all accepted; alice's own authenticated sending then gets
  exactly what bob (no inbound traffic) gets;
- submission: a hijacked account bursting to external domains is held to its smallest
  window (for a new account with adaptive limits: that window's floor) and locked
  (`event=locked ... traffic=submission`);
- destinations = "external": mail between local users is free, external mail counts;
- relay: an unauthenticated client in trusted_networks is held to the per-ip limit;
- local: sendmail mail over its sender limit stays in the maildrop queue.
Each scenario also checks floodgate_decisions_total{limit,action,traffic} on /metrics.
"""
import collections
import contextlib
import os
import re
import time
import tomllib
import unittest
import urllib.request

from harness import (E2ETestCase, Floodgate, Postfix, SmtpSink, free_port, refill_bound,
                     wait_for)
from smtp_client import Session, Tally, blast

DOMAIN = "example.org"
PASSWORD = "all-in-one"
ALICE, BOB, MALLORY, DAVE = (f"{u}@{DOMAIN}" for u in ("alice", "bob", "mallory", "dave"))
USERS = {u: PASSWORD for u in (ALICE, BOB, MALLORY, DAVE)}
WEBAPP = f"webapp@{DOMAIN}"       # sendmail(1) sender of a web script
OUTSIDE = "198.51.100.7"          # a big provider's outbound relay sending to our users
RELAY_NET, RELAY_CLIENT = "192.0.2.0/24", "192.0.2.25"  # the site's webmail host
OK_RCPT = "250 2.1.5 Ok"
ACCOUNT_REFUSED = "451 4.7.28 account sending rate exceeded, try again later"
IP_REFUSED = "451 4.7.28 client address sending rate exceeded, try again later"
ACCOUNT_LOCKED = "550 5.7.1 account locked for sending, contact your administrator"

# The shipped config: only the keys that tie it to this test instance are patched in
# (see site_config); what the scenarios expect is derived from its limits (Site).
SHIPPED_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                              "floodgate.toml")

_PORT, _ADMIN, _STATE = "@@MILTER_PORT@@", "@@ADMIN_SOCKET@@", "@@STATE_DIR@@"


def set_key(text, section, key, value):
    """`text` with `key = value` in [section] (replaced, or added after the header; the
    section is appended when missing); value None removes the key."""
    lines = text.splitlines()
    header = f"[{section}]"
    try:
        start = next(i for i, l in enumerate(lines) if l.strip() == header)
    except StopIteration:
        return text.rstrip("\n") + f"\n\n{header}\n{key} = {value}\n" if value is not None else text
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
               len(lines))
    rx = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start + 1, end):
        if rx.match(lines[i]):
            if value is None:
                del lines[i]
            else:
                lines[i] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    if value is not None:
        lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


def site_config(base, metrics_port):
    """The config this instance runs: `base` (a floodgate.toml) with the milter socket,
    a memory store with a private admin socket and state_dir, the site's [traffic] and
    /metrics set."""
    text = base
    for section, key, value in [
            ("milter", "socket", f'"inet:{_PORT}@127.0.0.1"'),
            ("milter", "user", None),  # stay root: the test instance has no floodgate user
            ("store", "backend", '"memory"'),
            ("store", "admin_socket", f'"{_ADMIN}"'),
            ("store", "state_dir", f'"{_STATE}"'),
            ("traffic", "trusted_networks", f'["127.0.0.0/8", "::1/128", "{RELAY_NET}"]'),
            ("traffic", "local_domains", f'["{DOMAIN}"]'),
            ("metrics", "listen", f'"127.0.0.1:{metrics_port}"')]:
        text = set_key(text, section, key, value)
    return text


def parse_rate(text):
    """("30/1m") -> (30, 60)."""
    amount, _, period = text.partition("/")
    m = re.fullmatch(r"(\d*)([smhd])", period)
    n = int(m.group(1) or 1)
    return int(amount), n * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


class Site:
    """What the tests expect, read from the config the daemon runs."""

    def __init__(self, text):
        limits = tomllib.loads(text)["limit"]

        def only(subject):
            [limit] = [l for l in limits if l["subject"] == subject]
            return limit

        self.account, self.ip, self.sender = only("account"), only("ip"), only("sender")
        # The smallest window of the account limit refuses a burst first. The accounts of
        # these tests are new: with adaptive limits that window allows its floor.
        amount, self.burst_period = min((parse_rate(r) for r in self.account["rate"]),
                                        key=lambda r: r[1])
        floors = dict((p, a) for a, p in (parse_rate(f) for f in
                                          self.account.get("adaptive", {}).get("floor", [])))
        self.burst = floors.get(self.burst_period, amount)
        self.lock_after = self.account["lock_after"]
        [(self.ip_amount, self.ip_period)] = [parse_rate(r) for r in self.ip["rate"]]
        self.sender_smallest = min(parse_rate(r)[0] for r in self.sender["rate"])
        assert self.account.get("destinations") == "external", self.account
        assert self.ip["count"] == "messages", self.ip


def period_text(seconds):
    """A window as alerts name it: 60 -> "1m", 3600 -> "1h"."""
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % n == 0:
            return f"{seconds // n}{unit}"
    return f"{seconds}s"


def metrics_port_text(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def decisions(text):
    """{(limit, action, traffic): count} of floodgate_decisions_total."""
    rx = re.compile(r'^floodgate_decisions_total\{limit="([^"]*)",action="([^"]*)",'
                    r'traffic="([^"]*)"\} (\d+)$', re.M)
    return {(l, a, t): int(n) for l, a, t, n in rx.findall(text)}


def delta(before, after):
    return {k: after.get(k, 0) - before.get(k, 0)
            for k in set(before) | set(after) if after.get(k, 0) != before.get(k, 0)}


class AllInOneTest(E2ETestCase, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.metrics_port = free_port()
        with open(SHIPPED_CONFIG) as f:
            text = site_config(f.read(), cls.metrics_port)
        # The test's own sendmail sender gets a small budget, so the local case is quick.
        text += ('\n[[override]]\nsubject = "sender:' + WEBAPP + '"\nlimit = "'
                 + Site(text).sender["name"] + '"\nrate = ["3/1h"]\n')
        cls.site = Site(text)
        cls.config_text = text
        fg_text = (text.replace("{", "{{").replace("}", "}}")
                   .replace(_PORT, "{port}").replace(_ADMIN, "{admin_socket}")
                   .replace(_STATE, "{state_dir}"))
        cls.fg = stack.enter_context(Floodgate(fg_text))
        cls.sink = stack.enter_context(SmtpSink())
        cls.pf = stack.enter_context(Postfix(
            cls.fg.port, cls.sink.port, sasl_users=USERS, relay_domains=DOMAIN,
            submission=True, mynetworks=f"127.0.0.0/8 {RELAY_NET}"))
        wait_for(lambda: metrics_port_text(cls.metrics_port), 15,
                 f"floodgate /metrics on port {cls.metrics_port}")

    def decisions(self):
        return decisions(metrics_port_text(self.metrics_port))

    def events(self, subject):
        return self.fg.log_lines(rf"event=\S+ subject={re.escape(subject)}( |$)")

    def submit(self, login, addr, messages):
        """Real AUTH on the submission port after XCLIENT ADDR=addr; `messages` is a list
        of recipient lists. Returns ([SendResult], seconds the sending took)."""
        with Session(self.pf.submission_port) as s:
            s.xclient(addr=addr)
            rep = s.login(login, PASSWORD)
            self.assertEqual(rep.code, 235, rep)
            t0 = time.monotonic()
            results = [s.send(login, rcpts) for rcpts in messages]
            return results, time.monotonic() - t0

    @staticmethod
    def rcpt_lines(results):
        return [rep.line for res in results for _, rep in res.rcpts]

    def assert_burst(self, lines, seconds, refused_line):
        """`lines` (RCPT replies of one burst from idle) passed exactly the smallest window
        when the burst was faster than one refill, at most its refill bound otherwise;
        every other recipient got `refused_line`. Returns the number accepted."""
        site = self.site
        accepted = lines.count(OK_RCPT)
        if seconds < site.burst_period / site.burst:
            self.assertEqual(accepted, site.burst, lines)
            self.assertEqual(lines, [OK_RCPT] * site.burst + [refused_line] * (len(lines) - site.burst))
        else:
            self.assertGreaterEqual(accepted, site.burst, lines)
            self.assertLessEqual(accepted, refill_bound(site.burst, site.burst_period, seconds))
            self.assertEqual(collections.Counter(lines),
                             {OK_RCPT: accepted, refused_line: len(lines) - accepted})
        return accepted

    # ------------------------------------------------------------------ inbound

    def test_a_inbound_mail_never_spends_a_local_users_budget(self):
        site, sessions, per_session = self.site, 16, 125
        total = sessions * per_session
        before = self.decisions()
        # Even sessions forge alice's address; odd ones are a mailing list.
        tally = blast(self.pf.port, sessions, per_session,
                      lambda i: ALICE if i % 2 == 0 else "list@lists.example.net",
                      rcpts=(f"carol@{DOMAIN}",), xclient={"addr": OUTSIDE})
        self.report(f"inbound from {OUTSIDE}: {tally.summary()}")
        self.assertEqual(tally.errors, [], tally.summary())
        self.assertEqual(tally.sent, total)
        self.assertEqual(tally.accepted, total, tally.summary())
        self.assertEqual(dict(tally.rcpt), {OK_RCPT: total}, tally.summary())
        self.assertEqual(dict(tally.data), {"250": total}, tally.summary())
        self.assertGreater(total, site.ip_amount)  # the old per-ip limit would have refused
        # No limit counts inbound mail: not one decision, not one event.
        self.assertEqual(delta(before, self.decisions()), {})
        self.assertNotIn('traffic="inbound"', metrics_port_text(self.metrics_port))
        self.assertEqual(self.events(f"ip:{OUTSIDE}"), [])
        self.assertEqual(self.events(f"sender:{ALICE}"), [])

        # alice's own sending now gets exactly what bob's does (bob had no inbound mail).
        n = site.burst + 10
        messages = [[f"friend{k}@example.net" for k in range(m, m + 10)] for m in range(0, n, 10)]
        alice, alice_s = self.submit(ALICE, "203.0.113.10", messages)
        bob, bob_s = self.submit(BOB, "203.0.113.11", messages)
        alice_lines, bob_lines = self.rcpt_lines(alice), self.rcpt_lines(bob)
        a = self.assert_burst(alice_lines, alice_s, ACCOUNT_REFUSED)
        b = self.assert_burst(bob_lines, bob_s, ACCOUNT_REFUSED)
        if max(alice_s, bob_s) < site.burst_period / site.burst:
            self.assertEqual(alice_lines, bob_lines)
            self.assertEqual([r.accepted for r in alice], [r.accepted for r in bob])
        self.assertEqual([r.mail.line for r in alice], ["250 2.1.0 Ok"] * len(messages))
        self.assertEqual(self.events(f"sender:{ALICE}"), [])
        self.report(f"after {total} inbound ({total // 2} forged as {ALICE}): alice {a}/{n} "
                    f"recipients accepted in {alice_s:.2f}s, bob {b}/{n} in {bob_s:.2f}s; "
                    f"refused: {collections.Counter(l for l in alice_lines if l != OK_RCPT)}")

    # ------------------------------------------------------------------ submission

    def test_b_hijacked_account_is_held_to_its_limit_and_locked(self):
        site, addr = self.site, "203.0.113.50"
        lock_at = site.lock_after * site.burst  # refused units in the smallest window
        n = lock_at + 100
        messages = [[f"victim{k}@example.{m % 7}.net" for k in range(m, min(m + 50, n))]
                    for m in range(0, n, 50)]
        before = self.decisions()
        results, seconds = self.submit(MALLORY, addr, messages)
        lines = self.rcpt_lines(results)
        counts = collections.Counter(lines)
        self.report(f"burst of {n} external recipients in {seconds:.2f}s: {dict(counts)}")
        accepted = counts[OK_RCPT]
        self.assertGreaterEqual(accepted, site.burst)
        self.assertLessEqual(accepted, refill_bound(site.burst, site.burst_period, seconds))
        if seconds < site.burst_period / site.burst:
            self.assertEqual(accepted, site.burst)
        # The refusal that brings the refused units to lock_after x amount is answered
        # with the lock already.
        self.assertEqual(counts[ACCOUNT_REFUSED], lock_at - 1, counts)
        self.assertEqual(counts[ACCOUNT_LOCKED], n - accepted - (lock_at - 1), counts)
        first_lock = lines.index(ACCOUNT_LOCKED)
        self.assertEqual(set(lines[first_lock:]), {ACCOUNT_LOCKED}, "nothing but the lock after it")

        subject = f"account:{MALLORY}"
        locked = self.fg.wait_log(rf"event=locked subject={re.escape(subject)} ")
        self.assertEqual(len(locked), 1, "\n".join(self.fg.log_lines("event=")))
        self.assertRegex(locked[0], rf"event=locked subject={re.escape(subject)} reason=burst "
                         rf"limit={site.account['name']} traffic=submission refused={lock_at} "
                         rf"ttl=1d client={re.escape(addr)}$")
        exceeded = self.fg.log_lines(rf"event=limit_exceeded subject={re.escape(subject)} ")
        self.assertEqual(len(exceeded), 1, "\n".join(self.fg.log_lines("event=")))
        self.assertIn("traffic=submission", exceeded[0])

        # The lock holds for the account's next session, from another network too.
        again, _ = self.submit(MALLORY, "203.0.114.50", [["someone@example.net"]])
        self.assertEqual(self.rcpt_lines(again), [ACCOUNT_LOCKED])
        # ...and for its mail to the site's own users, which the limit does not count.
        again, _ = self.submit(MALLORY, "203.0.114.50", [[f"carol@{DOMAIN}"]])
        self.assertEqual(self.rcpt_lines(again), [ACCOUNT_LOCKED])
        d = delta(before, self.decisions())
        name = site.account["name"]
        self.assertEqual(d.get((name, "accepted", "submission")), accepted, d)
        self.assertEqual(d.get((name, "tempfail", "submission")), lock_at - 1, d)
        self.assertEqual(d.get((name, "locked", "submission")), counts[ACCOUNT_LOCKED] + 2, d)
        self.report(f"{accepted} accepted, {lock_at - 1} x 451, {counts[ACCOUNT_LOCKED]} x 550; "
                    f"{locked[0].split('event=', 1)[1]}")

    # ------------------------------------------------------------------ destinations

    def test_c_mail_between_local_users_is_free_external_mail_counts(self):
        site, addr = self.site, "203.0.113.60"
        local_n, external_n = 100, self.site.burst + 10
        local = [[f"user{k}@{DOMAIN}" for k in range(m, m + 50)] for m in range(0, local_n, 50)]
        external = [[f"friend{k}@example.net" for k in range(external_n)]]
        before = self.decisions()
        with Session(self.pf.submission_port) as s:
            s.xclient(addr=addr)
            self.assertEqual(s.login(DAVE, PASSWORD).code, 235)
            local_res = [s.send(DAVE, r) for r in local]
            t0 = time.monotonic()
            ext_res = [s.send(DAVE, r) for r in external]
            ext_s = time.monotonic() - t0
            # With the external budget spent, local mail still goes.
            after_res = [s.send(DAVE, [f"carol@{DOMAIN}", f"bob@{DOMAIN}"])]
        self.assertEqual(self.rcpt_lines(local_res), [OK_RCPT] * local_n)
        self.assertTrue(all(r.accepted for r in local_res))
        accepted = self.assert_burst(self.rcpt_lines(ext_res), ext_s, ACCOUNT_REFUSED)
        self.assertEqual(self.rcpt_lines(after_res), [OK_RCPT] * 2)
        d = delta(before, self.decisions())
        name = site.account["name"]
        # Local recipients are never even checked against the account limit.
        self.assertEqual(d.get((name, "accepted", "submission")), accepted, d)
        self.assertEqual(d.get((name, "tempfail", "submission")), external_n - accepted, d)
        self.report(f"{DAVE}: {local_n}/{local_n} local recipients accepted, then "
                    f"{accepted}/{external_n} external, then 2/2 local")

    # ------------------------------------------------------------------ relay

    def test_d_trusted_network_client_is_limited_per_address(self):
        site = self.site
        # Few enough messages per session (one sender each) for the sender limit.
        sessions = max(10, -(-(site.ip_amount + 10) // (site.sender_smallest // 2)))
        per_session = -(-(site.ip_amount + 10) // sessions)
        total = sessions * per_session
        before = self.decisions()
        # A webmail host relaying its users' mail without AUTH (one sender per session,
        # so the sender limit stays out of it).
        tally = blast(self.pf.port, sessions, per_session, lambda i: f"webmail{i}@{DOMAIN}",
                      rcpts=("friend@example.net",), xclient={"addr": RELAY_CLIENT})
        self.report(f"relay from {RELAY_CLIENT}: {tally.summary()}")
        self.assertEqual(tally.errors, [], tally.summary())
        self.assertGreaterEqual(tally.accepted, site.ip_amount, tally.summary())
        self.assertLessEqual(tally.accepted, refill_bound(site.ip_amount, site.ip_period,
                                                          tally.seconds), tally.summary())
        self.assertEqual(tally.refused_rcpt_lines(), {IP_REFUSED: total - tally.accepted},
                         tally.summary())
        subject = f"ip:{RELAY_CLIENT}"
        exceeded = self.fg.wait_log(rf"event=limit_exceeded subject={re.escape(subject)} ")
        self.assertEqual(len(exceeded), 1)
        self.assertRegex(exceeded[0], rf"limit={site.ip['name']} window={period_text(site.ip_period)} "
                         rf"count={site.ip_amount} "
                         rf"action=tempfail traffic=relay client={re.escape(RELAY_CLIENT)}$")
        d = delta(before, self.decisions())
        name = site.ip["name"]
        self.assertEqual(d.get((name, "accepted", "relay")), tally.accepted, d)
        self.assertEqual(d.get((name, "tempfail", "relay")), total - tally.accepted, d)
        self.report(f"{tally.accepted}/{total} accepted, {total - tally.accepted} x {IP_REFUSED}")

    # ------------------------------------------------------------------ local

    def test_e_sendmail_over_its_sender_limit_stays_queued(self):
        rcpt = "webapp-rcpt@example.net"
        for i in range(4):
            self.pf.sendmail(WEBAPP, [rcpt], f"Subject: form mail {i}\n\nhello {i}\n")
        subject = f"sender:{WEBAPP}"
        [exceeded] = self.fg.wait_log(rf"event=limit_exceeded subject={re.escape(subject)} ")
        self.assertRegex(exceeded, rf"limit={self.site.sender['name']} window=1h count=3 "
                         r"action=tempfail traffic=local client=127\.0\.0\.1$")
        wait_for(lambda: len(self.pf.maillog_lines(rf"to=<{re.escape(rcpt)}>.* status=sent ")) == 3,
                 60, lambda: "3 deliveries to " + rcpt + ":\n" + self.pf.maillog()[-3000:])
        queued = [e for e in self.pf.queue() if e["sender"] == WEBAPP]
        self.assertEqual([e["queue_name"] for e in queued], ["maildrop"], queued)
        self.assertFalse(self.pf.maillog_lines(r"status=bounced|sender non-delivery notification"))
        d = self.decisions()
        self.assertGreaterEqual(d.get((self.site.sender["name"], "tempfail", "local"), 0), 1, d)
        self.report(f"sendmail as {WEBAPP}: 3 delivered, {queued[0]['queue_id']} kept in "
                    f"{queued[0]['queue_name']}; {exceeded.split('event=', 1)[1]}")


if __name__ == "__main__":
    unittest.main()
