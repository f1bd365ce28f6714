"""The incident floodgate exists for, replayed end to end.

A hijacked account (limit 100/1h messages, lock_after = 10) is driven at full speed:
12,000 messages over 8 parallel sessions that reconnect from 20 different /24
networks, through a real Postfix whose relay is down (accepted mail stays queued),
with the Redis store. The admin's side is floodgatectl, the real binary:

- at most the bucket (100, plus what refilled meanwhile) is accepted; the refusals
  answer 451 until the refused units reach 10 x 100, then the account is locked and
  every later RCPT gets `550 5.7.1 account locked for sending, ...`;
- floodgate writes one `event=limit_exceeded` and one `event=locked` line, not one per
  refusal; `floodgatectl show` and `events` say so;
- `floodgatectl queue` lists exactly the account's queued messages, `--delete` removes
  them and leaves another account's queued mail alone;
- `floodgatectl unlock` (+ `reset`) gives the account its sending back.

A second, smaller test: one account seen from more /24 networks than
`max_networks.count` is locked with reason too_many_networks.
"""
import collections
import concurrent.futures
import json
import os
import subprocess
import time
import unittest

from harness import (E2ETestCase, Floodgate, Postfix, RedisServer, floodgate_toml, limit_toml,
                     refill_bound, wait_for)
from smtp_client import Session, Tally

VICTIM = "user@example.test"  # the throw-away account of the incident
BOB = "bob@example.test"      # an innocent account with mail in the same queue
SPAM_FROM = "spam@example.test"
RCPT = "rcpt@example.net"
LIMIT, PERIOD_S, LOCK_AFTER = 100, 3600, 10
SESSIONS, CONNECTIONS, PER_CONNECTION = 8, 5, 300  # 8 x 5 x 300 = 12,000 messages
TOTAL = SESSIONS * CONNECTIONS * PER_CONNECTION
NETWORKS = [f"203.0.{n}.9" for n in range(1, 21)]  # 20 distinct /24s
BOB_MESSAGES = 5
LOCKED = "550 5.7.1 account locked for sending, contact your administrator"
REFUSED = "451 4.7.28 account sending rate exceeded, try again later"


def ctl_path():
    build = os.environ.get("FLOODGATE_BUILD")
    if build:
        return os.path.join(build, "tools", "ctl", "floodgatectl")
    # Run by hand: floodgatectl sits next to the daemon's build dir.
    bin_dir = os.path.dirname(os.environ.get("FLOODGATE_BIN", ""))
    return os.path.join(os.path.dirname(bin_dir), "tools", "ctl", "floodgatectl")


def config(max_networks):
    limit = limit_toml("submission", "account", f"{LIMIT}/1h", count="messages",
                       lock_after=LOCK_AFTER)
    limit += f'max_networks = {{ count = {max_networks}, window = "1h" }}\n'
    return floodgate_toml(limit, backend="redis")


class IncidentTest(E2ETestCase, unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.ctl_bin = ctl_path()
        if not os.access(self.ctl_bin, os.X_OK):
            self.fail(f"floodgatectl is not an executable: {self.ctl_bin!r} (set FLOODGATE_BUILD)")

    def start(self, max_networks):
        self.redis = self.use(RedisServer())
        self.fg = self.use(Floodgate(config(max_networks), redis=self.redis))
        self.pf = self.use(Postfix(self.fg.port))  # no sink: the relay is down

    def ctl(self, *args, json_out=False):
        """Runs floodgatectl against the daemon's config; parsed JSON or the text."""
        argv = [self.ctl_bin, "-c", self.fg.config_path] + (["--json"] if json_out else [])
        r = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=60,
                           env=self.pf.env)
        self.assertEqual(r.returncode, 0, f"{' '.join(argv + list(args))}: {r.stdout}{r.stderr}")
        return json.loads(r.stdout) if json_out else r.stdout

    def send_one(self, addr, login, sender):
        with Session(self.pf.port) as s:
            s.xclient(addr=addr, login=login)
            return s.send(sender, [RCPT])

    def fg_events(self, event, subject):
        return self.fg.log_lines(rf"event={event} subject={subject}( |$)")

    # ------------------------------------------------------------------ the burst

    def burst_session(self, i, t0):
        """One attacker thread: CONNECTIONS connections, each from the next network,
        PER_CONNECTION messages each. Returns (tally, first lock reply time, the
        replies that came after a lock reply but were not one)."""
        tally, first_lock, after_lock = Tally(), None, []
        try:
            for k in range(CONNECTIONS):
                with Session(self.pf.port) as s:
                    s.xclient(addr=NETWORKS[(i * CONNECTIONS + k) % len(NETWORKS)], login=VICTIM)
                    for _ in range(PER_CONNECTION):
                        res = s.send(SPAM_FROM, [RCPT])  # a refused RCPT: RSET, go on
                        tally.add(res)
                        line = res.rcpts[0][1].line if res.rcpts else res.mail.line
                        if line == LOCKED:
                            if first_lock is None:
                                first_lock = time.monotonic() - t0
                        elif first_lock is not None:
                            after_lock.append(line)
        except Exception as e:  # recorded: the test asserts there were none
            tally.errors.append(repr(e))
        return tally, first_lock, after_lock

    def test_burst_locks_account_and_ctl_cleans_up(self):
        self.start(max_networks=50)
        victim_subject = f"account:{VICTIM}"

        # Bob's mail is queued first (the relay is down): it must survive the clean-up.
        for _ in range(BOB_MESSAGES):
            self.assertTrue(self.send_one("198.51.100.7", BOB, BOB).accepted)

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(SESSIONS) as pool:
            results = list(pool.map(lambda i: self.burst_session(i, t0), range(SESSIONS)))
        total_s = time.monotonic() - t0
        tally = Tally()
        for t, _, _ in results:
            tally.merge(t)
        tally.seconds = total_s
        lock_times = [fl for _, fl, _ in results if fl is not None]
        time_to_lock = min(lock_times) if lock_times else None
        rcpt = collections.Counter(tally.rcpt)
        self.report(f"burst: {tally.summary()}")
        self.report(f"burst: {TOTAL} messages in {total_s:.2f}s ({TOTAL / total_s:.0f}/s), "
                    f"accepted {tally.accepted}, 451 {rcpt[REFUSED]}, locked {rcpt[LOCKED]}, "
                    f"first lock reply after {time_to_lock}s")

        self.assertEqual(tally.errors, [], tally.summary())
        self.assertEqual(tally.sent, TOTAL)
        self.assertEqual(dict(tally.mail), {"250 2.1.0 Ok": TOTAL}, "MAIL is never refused")
        self.assertGreaterEqual(tally.accepted, LIMIT, tally.summary())
        self.assertLessEqual(tally.accepted, refill_bound(LIMIT, PERIOD_S, time_to_lock or total_s),
                             tally.summary())
        self.assertEqual(rcpt["250 2.1.5 Ok"], tally.accepted, tally.summary())
        # Refused units reach LOCK_AFTER x LIMIT at the last of them, which is answered
        # with the lock already: LOCK_AFTER x LIMIT - 1 tempfails, the rest locked.
        self.assertEqual(rcpt[REFUSED], LOCK_AFTER * LIMIT - 1, tally.summary())
        self.assertEqual(rcpt[LOCKED], TOTAL - tally.accepted - rcpt[REFUSED], tally.summary())
        self.assertIsNotNone(time_to_lock)
        for _, _, after in results:
            self.assertEqual(after, [], "a reply other than the lock after the lock")
        # All 20 networks were seen, and 20 <= max_networks did not lock the account.
        lock_key = f"{self.fg.prefix}{{{victim_subject}}}!lock"
        self.assertEqual(self.redis.command("ZCARD", lock_key + ":networks"), len(NETWORKS))
        self.assertEqual(self.redis.command("GET", lock_key), "burst")

        # One alert per event in floodgate's log, not one per refusal.
        exceeded = self.fg_events("limit_exceeded", victim_subject)
        locked = self.fg_events("locked", victim_subject)
        self.assertEqual(len(exceeded), 1, "\n".join(self.fg.log_lines("event=")))
        self.assertEqual(len(locked), 1, "\n".join(self.fg.log_lines("event=")))
        self.assertRegex(exceeded[0], r"limit=submission window=1h count=100 action=tempfail traffic=submission client=203\.0\.\d+\.9$")
        self.assertRegex(locked[0], rf"reason=burst limit=submission traffic=submission refused={LOCK_AFTER * LIMIT} ttl=1d")
        self.assertEqual(self.fg.log_lines(f"subject=account:{BOB}"), [])
        self.report(f"alerts:\n  {exceeded[0]}\n  {locked[0]}")

        # floodgatectl show, as a table and as JSON.
        shown = self.ctl("show", victim_subject)
        self.assertIn("LOCKED  reason=burst", shown)
        j = json.loads(self.ctl("show", victim_subject, "--json"))  # --json after it works too
        self.assertEqual(j["subject"], victim_subject)
        self.assertTrue(j["lock"]["locked"], j)
        self.assertEqual(j["lock"]["reason"], "burst")
        self.assertGreater(j["lock"]["expires_in_s"], 86400 - 600)
        [window] = j["limits"][0]["windows"]
        # The lock took the 1,000 refused units (the locked line says refused=1000); the
        # window's count restarted at the lock, so a later lock needs a new burst.
        self.assertEqual((window["rate"], window["capacity"], window["refused"]),
                         ("100/1h", LIMIT, 0), j)
        self.assertTrue(window["over"], j)
        self.report(f"floodgatectl show:\n{shown}")

        # floodgatectl events: the same two events.
        events = self.ctl("events", json_out=True)
        self.assertEqual(len([e for e in events if f"event=limit_exceeded subject={victim_subject} " in e]), 1, events)
        self.assertEqual(len([e for e in events if f"event=locked subject={victim_subject} " in e]), 1, events)

        # floodgatectl queue: exactly the accepted messages, found by recorded queue id.
        pfc = ["--postfix-config", self.pf.config_dir]
        q = wait_for(lambda: (lambda q: len(q["messages"]) == tally.accepted and q)(
            self.ctl("queue", victim_subject, *pfc, json_out=True)), 30,
            lambda: f"{tally.accepted} queued messages of {victim_subject}")
        self.assertEqual(q["recorded"], tally.accepted, q["recorded"])
        self.assertEqual({m["sender"] for m in q["messages"]}, {SPAM_FROM})
        queued = self.pf.queue()
        self.assertEqual(len(queued), tally.accepted + BOB_MESSAGES)
        self.assertEqual({m["queue_id"] for m in q["messages"]},
                         {e["queue_id"] for e in queued if e["sender"] == SPAM_FROM})
        listing = self.ctl("queue", victim_subject, *pfc)
        self.assertIn(f"{victim_subject}: {tally.accepted} message(s) in the queue", listing)

        t_del = time.monotonic()
        d = self.ctl("queue", victim_subject, *pfc, "--delete", json_out=True)
        self.assertEqual((d["action"], d["acted_on"]), ("delete", tally.accepted), d)
        left = self.pf.queue()
        self.assertEqual(sorted(e["sender"] for e in left), [BOB] * BOB_MESSAGES, left)
        self.assertEqual(self.ctl("queue", victim_subject, *pfc, json_out=True)["messages"], [])
        self.report(f"queue --delete of {tally.accepted} messages took {time.monotonic() - t_del:.2f}s; "
                    f"{len(left)} of {BOB}'s left")

        # Still locked: the next message, from any network, is refused with the lock.
        self.assertEqual(self.send_one(NETWORKS[0], VICTIM, SPAM_FROM).rcpts[0][1].line, LOCKED)

        # Unlocked, the account is held to its rate again (the bucket is still full),
        # not locked again by its next refusal.
        self.assertEqual(self.ctl("unlock", victim_subject, json_out=True),
                         {"subject": victim_subject, "was_locked": True})
        res = self.send_one(NETWORKS[1], VICTIM, SPAM_FROM)
        self.assertEqual(res.rcpts[0][1].line, REFUSED)
        j = self.ctl("show", victim_subject, json_out=True)
        self.assertFalse(j["lock"]["locked"], j)
        self.assertEqual(j["limits"][0]["windows"][0]["refused"], 1, j)  # counted afresh

        # Reset frees the bucket: the account sends again.
        self.ctl("reset", victim_subject)
        res = self.send_one(NETWORKS[2], VICTIM, "user@example.test")
        self.assertTrue(res.accepted, res)
        self.assertIn("not locked", self.ctl("show", victim_subject))
        events = self.ctl("events")
        self.assertRegex(events, rf"event=unlocked subject={victim_subject} by=floodgatectl")
        for line in events.splitlines():  # the daemon's and floodgatectl's alike
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ event=")
        self.assertEqual(len(self.fg_events("locked", victim_subject)), 1,
                         "\n".join(self.fg.log_lines("event=")))
        self.assertEqual(len(self.ctl("queue", victim_subject, *pfc, json_out=True)["messages"]), 1)
        self.report(f"floodgatectl events:\n{events}")
        self.report(f"timings: {TOTAL} messages in {total_s:.2f}s, first lock reply at "
                    f"{time_to_lock:.2f}s")

    # ------------------------------------------------------------------ max_networks

    def test_account_from_too_many_networks_is_locked(self):
        self.start(max_networks=3)
        subject = f"account:{VICTIM}"
        nets = [f"203.0.{n}.9" for n in range(1, 6)]
        lines = [self.send_one(addr, VICTIM, SPAM_FROM).rcpts[0][1].line for addr in nets]
        self.report(f"five /24 networks: {lines}")
        self.assertEqual(lines, ["250 2.1.5 Ok"] * 3 + [LOCKED] * 2)
        # The first network again: the lock holds for every network.
        self.assertEqual(self.send_one(nets[0], VICTIM, SPAM_FROM).rcpts[0][1].line, LOCKED)

        locked = self.fg_events("locked", subject)
        self.assertEqual(len(locked), 1, "\n".join(self.fg.log_lines("event=")))
        self.assertIn("reason=too_many_networks", locked[0])
        self.assertRegex(locked[0], r"client=203\.0\.4\.9$")
        self.assertEqual(self.fg.log_lines("event=limit_exceeded"), [])
        j = self.ctl("show", subject, json_out=True)
        self.assertEqual((j["lock"]["locked"], j["lock"]["reason"]), (True, "too_many_networks"), j)
        self.assertIn("LOCKED  reason=too_many_networks", self.ctl("show", subject))

        # Unlocking forgets the networks too, so the next message is not locked again.
        self.ctl("unlock", subject)
        self.assertTrue(self.send_one(nets[4], VICTIM, SPAM_FROM).accepted)
        self.assertEqual(len(self.fg_events("locked", subject)), 1)


if __name__ == "__main__":
    unittest.main()
