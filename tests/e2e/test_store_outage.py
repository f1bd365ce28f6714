"""Redis dies in the middle of a burst ("when the store fails"), with real processes.

A hijacked account bursts through a real Postfix in 8 parallel sessions against a
100/1h message limit kept in a real redis-server; after a given number of RCPT
replies the test SIGKILLs Redis (a crash: no shutdown, the kernel resets its sockets).
Every RCPT reply is timed on the client side: whatever the store does, no SMTP reply
may wait much longer than the store deadline (store.timeout_ms = 50, the shipped
default). Then, per store.on_error:

- local: the in-process limiter takes over, so the burst stays capped; store_down is
  logged once; a fresh Redis on the same port takes over again (keys reappear under
  the prefix) and store_up is logged once.
- tempfail: from the kill on, every recipient gets 451 4.3.0: nothing passes.
- accept: from the kill on, everything passes, and store_down says so once.

A fourth case freezes Redis (SIGSTOP) instead: connections stay open and nothing
answers, so a store call runs into its deadline. Only the first calls pay it: after a
failure floodgate asks Redis again only with one probe per backoff, so most RCPT replies
come from the local limiter at once; after SIGCONT a probe is answered and store_up says
so, once.

RCPT commands are sorted by when they were sent relative to the kill: "before" (the
reply came before the kill began), "after" (sent after Redis was dead and reaped), and
the few in flight across it (one or two per session), which only count in totals.
"""
import os
import signal
import statistics
import threading
import time
import unittest

from harness import (E2ETestCase, Floodgate, Postfix, RedisServer, SmtpSink, floodgate_toml,
                     limit_toml, refill_bound, wait_for)
from smtp_client import Session, _reply, message_body

VICTIM = "victim@example.test"
VICTIM_ADDR = "203.0.113.9"
LIMIT, PERIOD_S = 100, 3600
TIMEOUT_MS = 50  # the shipped default of store.timeout_ms
# The deadline is 50 ms; a loaded 2-core box running Postfix, Redis, floodgate and a
# Python client adds scheduling noise on top, so the assertion allows a generous
# margin while the report shows the real distribution.
MAX_RCPT_REPLY_S = 1.0
LIMIT_REPLY = r"^451 4\.7\.28 .*sending rate exceeded"
UNAVAILABLE_REPLY = r"^451 4\.3\.0 "


class Rcpt:
    __slots__ = ("sent", "replied", "reply", "accepted")

    def __init__(self, sent, replied, reply):
        self.sent, self.replied, self.reply, self.accepted = sent, replied, reply, False

    @property
    def seconds(self):
        return self.replied - self.sent


class OutageBurst:
    """`sessions` x `per_session` one-recipient messages from one account; `fault()`
    (e.g. SIGKILL Redis) is run by whichever session receives RCPT reply `kill_after`."""

    def __init__(self, port, fg, fault, sessions, per_session, kill_after):
        self.port, self.fg, self.fault = port, fg, fault
        self.sessions, self.per_session, self.kill_after = sessions, per_session, kill_after
        self.lock = threading.Lock()
        self.rcpts = []
        self.errors = []
        self.replies = 0
        self.kill_started = self.kill_done = None
        self.store_down_before_kill = None
        self.seconds = 0.0

    def run(self):
        started = time.monotonic()
        threads = [threading.Thread(target=self._session, args=(i,)) for i in range(self.sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.seconds = time.monotonic() - started
        return self

    def _kill(self):
        # Any store_down before this point would be a failure of the healthy store
        # (e.g. a timeout under load) and would make the rest of the test meaningless.
        self.store_down_before_kill = self.fg.log_lines(r"event=store_down")
        self.kill_started = time.monotonic()
        self.fault()
        self.kill_done = time.monotonic()

    def _session(self, i):
        try:
            with Session(self.port) as s:
                s.xclient(addr=VICTIM_ADDR, login=VICTIM)
                for _ in range(self.per_session):
                    self._one(s)
        except Exception as e:  # recorded: the tests assert there were none
            with self.lock:
                self.errors.append(repr(e))

    def _one(self, s):
        mail = _reply(*s.smtp.docmd("MAIL", "FROM:<spam@example.test>"))
        if mail.code != 250:
            raise AssertionError(f"MAIL refused: {mail}")
        t0 = time.monotonic()
        reply = _reply(*s.smtp.docmd("RCPT", "TO:<rcpt@example.net>"))
        rcpt = Rcpt(t0, time.monotonic(), reply)
        with self.lock:
            self.rcpts.append(rcpt)
            self.replies += 1
            kill_now = self.replies == self.kill_after
        if kill_now:
            self._kill()
        if reply.code != 250:
            s.cmd("RSET")
            return
        code, msg = s.smtp.data(message_body("spam@example.test", ["rcpt@example.net"]))
        if code != 250:
            raise AssertionError(f"DATA refused after an accepted RCPT: {code} {msg!r}")
        rcpt.accepted = True

    # --- views
    def before(self):
        return [r for r in self.rcpts if r.replied < self.kill_started]

    def after(self):
        return [r for r in self.rcpts if r.sent > self.kill_done]

    def accepted(self, rcpts=None):
        return sum(r.accepted for r in (self.rcpts if rcpts is None else rcpts))

    def lines(self, rcpts):
        out = {}
        for r in rcpts:
            out[r.reply.line] = out.get(r.reply.line, 0) + 1
        return out

    def latency(self, rcpts=None):
        ms = sorted(r.seconds * 1000 for r in (self.rcpts if rcpts is None else rcpts))
        if not ms:
            return "none"
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        return (f"n={len(ms)} p50={statistics.median(ms):.1f}ms p99={p99:.1f}ms "
                f"max={ms[-1]:.1f}ms")

    def summary(self):
        before, after = self.before(), self.after()
        return (f"{len(self.rcpts)} RCPT in {self.seconds:.2f}s, accepted {self.accepted()} "
                f"(before kill {self.accepted(before)}, after {self.accepted(after)}, "
                f"in flight {len(self.rcpts) - len(before) - len(after)}); "
                f"RCPT latency all: {self.latency()}; after kill: {self.latency(after)}; "
                f"before: {self.lines(before)}; after: {self.lines(after)}; "
                f"errors={self.errors[:5]}")


class StoreOutageTest(E2ETestCase, unittest.TestCase):

    def start(self, on_error):
        self.redis = self.use(RedisServer())
        self.fg = self.use(Floodgate(floodgate_toml(
            limit_toml("submission", "account", f"{LIMIT}/1h"), backend="redis",
            timeout_ms=TIMEOUT_MS, on_error=on_error), redis=self.redis))
        self.sink = self.use(SmtpSink())
        self.pf = self.use(Postfix(self.fg.port, self.sink.port))

    def burst(self, sessions, per_session, kill_after, fault=None):
        b = OutageBurst(self.pf.port, self.fg, fault or self.redis.kill, sessions, per_session,
                        kill_after).run()
        self.report(f"on_error={self.on_error} timeout_ms={TIMEOUT_MS}: {b.summary()}")
        self.assertEqual(b.errors, [], b.summary())
        self.assertEqual(len(b.rcpts), sessions * per_session)
        self.assertIsNotNone(b.kill_done, "Redis was never killed")
        self.assertEqual(b.store_down_before_kill, [],
                         f"the store failed before Redis was killed: {b.summary()}")
        self.assertTrue(self.fg.alive(), "floodgate died:\n" + self.fg.log_text()[-3000:])
        slow = [r.seconds for r in b.rcpts if r.seconds > MAX_RCPT_REPLY_S]
        self.assertEqual(slow, [], f"RCPT replies slower than {MAX_RCPT_REPLY_S}s "
                         f"(store deadline {TIMEOUT_MS} ms): {b.summary()}")
        # The Redis phase behaves as without a fault: the limit, then its reply.
        for line in b.lines(b.before()):
            self.assertRegex(line, r"^250 |" + LIMIT_REPLY, b.summary())
        # What was accepted is delivered, and nothing else.
        wait_for(lambda: self.sink.delivered() == b.accepted(), 60,
                 lambda: f"{b.accepted()} messages at the sink, have {self.sink.delivered()}")
        return b

    def store_down_lines(self):
        return self.fg.log_lines(r"event=store_down")

    def test_local_limiter_caps_the_burst_and_redis_takes_over_again(self):
        self.on_error = "local"
        self.start("local")
        # 1,200 messages, Redis killed after half of the RCPT replies: by then Redis has
        # let the bucket's 100 through and refused the rest.
        b = self.burst(8, 150, kill_after=600)
        # Redis part: at most the bucket plus refill. Local part: the in-process limiter
        # saw nothing while Redis counted, so it starts with a full bucket: after the
        # failover one more bucket (100) plus refill passes, not more. Hence at most two
        # buckets in total, and (as the burst goes on long enough) at least two.
        bound = 2 * refill_bound(LIMIT, PERIOD_S, b.seconds)
        self.assertLessEqual(b.accepted(), bound, b.summary())
        self.assertGreaterEqual(b.accepted(), 2 * LIMIT, b.summary())
        self.assertGreaterEqual(b.accepted(b.after()), 1, "the local limiter let nothing pass")
        for line in b.lines(b.after()):
            self.assertRegex(line, r"^250 |" + LIMIT_REPLY, b.summary())
        down = self.fg.wait_log(r"event=store_down")
        self.assertEqual(len(down), 1, "\n".join(down))
        self.assertIn("on_error=local", down[0])

        # A fresh, empty Redis on the same port. Send one message at a time until the
        # daemon reconnects (it retries on demand, at most once per backoff).
        self.redis = self.use(RedisServer(port=self.redis.port))
        self.assertEqual(self.redis.command("KEYS", self.fg.prefix + "*"), [])
        with Session(self.pf.port) as s:
            s.xclient(addr="198.51.100.20", login="probe@example.test")
            wait_for(lambda: s.send("probe@example.test", ["rcpt@example.net"]) and
                     self.fg.log_lines(r"event=store_up"), 30,
                     lambda: "event=store_up after Redis came back; log:\n"
                     + self.fg.log_text()[-3000:])
        # Counting in Redis resumes: a new account's messages land there, under the prefix.
        after = "after@example.test"
        with Session(self.pf.port) as s:
            s.xclient(addr="198.51.100.21", login=after)
            results = [s.send("after@example.test", ["rcpt@example.net"]) for _ in range(20)]
        self.assertTrue(all(r.accepted for r in results), [str(r.rcpts) for r in results])
        keys = self.redis.command("KEYS", self.fg.prefix + "*")
        self.assertTrue([k for k in keys if "account:" + after in k],
                        f"no Redis key for {after} under {self.fg.prefix}: {keys}")
        self.assertTrue(self.fg.alive())
        self.fg.stop()
        self.assertEqual(len(self.store_down_lines()), 1, self.fg.log_text()[-3000:])
        self.assertEqual(len(self.fg.log_lines(r"event=store_up")), 1,
                         self.fg.log_text()[-3000:])
        self.report(f"after restart: {len(keys)} key(s) under {self.fg.prefix}; "
                    f"{down[0]}; {self.fg.log_lines(r'event=store_up')[0]}")

    def test_tempfail_lets_nothing_pass_while_redis_is_down(self):
        self.on_error = "tempfail"
        self.start("tempfail")
        # Killed early, while the account still has most of its bucket: the messages
        # that Redis (or a local limiter) would have accepted get 4.3.0 instead.
        b = self.burst(8, 150, kill_after=40)
        after = b.after()
        self.assertGreater(len(after), 1000, b.summary())
        self.assertEqual(b.accepted(after), 0, b.summary())
        for line in b.lines(after):
            self.assertRegex(line, UNAVAILABLE_REPLY, b.summary())
        self.assertLess(b.accepted(), LIMIT, b.summary())
        self.fg.stop()
        down = self.store_down_lines()
        self.assertEqual(len(down), 1, "\n".join(down))
        self.assertIn("on_error=tempfail", down[0])

    def test_accept_lets_everything_pass_while_redis_is_down(self):
        self.on_error = "accept"
        self.start("accept")
        # Cheap: 300 messages, killed after 150 replies (the limit was reached by then).
        b = self.burst(4, 75, kill_after=150)
        self.assertGreaterEqual(b.accepted(b.before()), LIMIT, b.summary())
        self.assertLessEqual(b.accepted(b.before()), refill_bound(LIMIT, PERIOD_S, b.seconds))
        after = b.after()
        self.assertGreater(len(after), 100, b.summary())
        self.assertEqual(b.accepted(after), len(after), b.summary())
        self.assertGreater(b.accepted(), refill_bound(LIMIT, PERIOD_S, b.seconds), b.summary())
        self.fg.stop()
        down = self.store_down_lines()
        self.assertEqual(len(down), 1, "\n".join(down))
        self.assertIn("on_error=accept", down[0])

    def test_frozen_redis_costs_only_the_probes_a_deadline_and_thaws(self):
        self.on_error = "local"
        self.start("local")
        pid = self.redis.proc.pid
        # Runs before the fixtures close, so Redis can be stopped normally.
        self.addCleanup(lambda: self.redis.proc.poll() is None and os.kill(pid, signal.SIGCONT))
        b = self.burst(4, 50, kill_after=20, fault=lambda: os.kill(pid, signal.SIGSTOP))
        after = b.after()
        self.assertGreater(len(after), 150, b.summary())
        # Only the calls in flight at the freeze and one probe per backoff (50 ms doubling
        # to 2 s) wait for the deadline; the rest are decided without asking Redis. (Were
        # every call sent to the frozen Redis, every one would take about timeout_ms.)
        waited = [r for r in after if r.seconds >= 0.8 * TIMEOUT_MS / 1000]
        self.assertLessEqual(len(waited), len(after) // 4, b.summary())
        # ...and the local limiter decides: it starts with a full bucket of its own (it
        # never saw the 20 that Redis counted), then refuses with the limit's reply.
        # (The few RCPTs in flight across the freeze may have been decided by either.)
        before = b.before()
        in_flight = len(b.rcpts) - len(before) - len(after)
        self.assertGreaterEqual(b.accepted() - b.accepted(before), LIMIT, b.summary())
        self.assertLessEqual(b.accepted() - b.accepted(before),
                             refill_bound(LIMIT, PERIOD_S, b.seconds) + in_flight, b.summary())
        for line in b.lines(after):
            self.assertRegex(line, r"^250 |" + LIMIT_REPLY, b.summary())
        self.assertEqual(self.fg.log_lines(r"event=store_up"), [])

        # Thawed: a probe (a real message's check) is answered within the backoff cap.
        os.kill(pid, signal.SIGCONT)
        with Session(self.pf.port) as s:
            s.xclient(addr="198.51.100.20", login="probe@example.test")
            wait_for(lambda: s.send("probe@example.test", ["rcpt@example.net"]) and
                     self.fg.log_lines(r"event=store_up"), 30,
                     lambda: "event=store_up after SIGCONT; log:\n" + self.fg.log_text()[-3000:])
        self.fg.stop()
        down = self.store_down_lines()
        self.assertEqual(len(down), 1, "\n".join(down))
        up = self.fg.log_lines(r"event=store_up")
        self.assertEqual(len(up), 1, "\n".join(up))
        self.report(f"{down[0]}; {up[0]}; {len(waited)} of {len(after)} RCPT after the "
                    f"freeze waited >= {0.8 * TIMEOUT_MS:.0f} ms")

if __name__ == "__main__":
    unittest.main()
