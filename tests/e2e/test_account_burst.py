"""Scenario 1: a hijacked account bursts 1,200 messages against a 100/1h limit.

Through a real Postfix (XCLIENT LOGIN makes the sessions authenticated), 8 parallel
sessions. At most the bucket (100) plus what refilled while the burst ran gets
through; every other message is refused at RCPT with 451 4.7.28; another account
sending at the same time loses nothing; one alert line is written, not one per
refusal. Run with the Redis store and with the embedded memory store.
"""
import concurrent.futures
import unittest

from harness import (E2ETestCase, Floodgate, Postfix, RedisServer, SmtpSink, floodgate_toml,
                     limit_toml, refill_bound, wait_for)
from smtp_client import blast

VICTIM = "victim@example.test"
BYSTANDER = "bystander@example.test"
SESSIONS, PER_SESSION = 8, 150  # 1,200 messages
LIMIT, PERIOD_S = 100, 3600


class AccountBurstTest(E2ETestCase, unittest.TestCase):

    def run_burst(self, backend):
        redis = self.use(RedisServer()) if backend == "redis" else None
        fg = self.use(Floodgate(floodgate_toml(
            limit_toml("submission", "account", f"{LIMIT}/1h"), backend=backend), redis=redis))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port))

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            victim_f = pool.submit(blast, pf.port, SESSIONS, PER_SESSION, "spam@example.test",
                                   xclient={"addr": "203.0.113.9", "login": VICTIM})
            bystander_f = pool.submit(blast, pf.port, 2, 10, "user@example.test",
                                      xclient={"addr": "198.51.100.7", "login": BYSTANDER})
            victim, bystander = victim_f.result(), bystander_f.result()
        self.report(f"{backend}: victim {victim.summary()}")
        self.report(f"{backend}: bystander {bystander.summary()}")

        self.assertEqual(victim.errors, [], victim.summary())
        self.assertEqual(victim.sent, SESSIONS * PER_SESSION)
        self.assertEqual(dict(victim.mail), {"250 2.1.0 Ok": SESSIONS * PER_SESSION},
                         "MAIL FROM is never refused for a rate limit")
        bound = refill_bound(LIMIT, PERIOD_S, victim.seconds)
        self.assertGreaterEqual(victim.accepted, LIMIT, victim.summary())
        self.assertLessEqual(victim.accepted, bound, victim.summary())
        refused = victim.refused_rcpt_lines()
        self.assertEqual(sum(refused.values()), SESSIONS * PER_SESSION - victim.accepted,
                         victim.summary())
        for line in refused:
            self.assertRegex(line, r"^451 4\.7\.28 .*sending rate exceeded", victim.summary())
        self.assertEqual(victim.rcpt_codes()[250], victim.accepted)

        self.assertEqual(bystander.errors, [], bystander.summary())
        self.assertEqual(bystander.accepted, 20, bystander.summary())

        # What was accepted is delivered to the relay, and nothing else.
        wait_for(lambda: sink.delivered() == victim.accepted + 20, 60,
                 lambda: f"{victim.accepted + 20} messages at the sink, have {sink.delivered()}")
        pf.wait_queue_empty()
        self.assertEqual(pf.sent_count(), victim.accepted + 20)

        # One alert for the event, naming subject, limit, window, action and client.
        fg.stop()
        alerts = fg.log_lines(r"event=limit_exceeded ")
        victim_alerts = [l for l in alerts if f"subject=account:{VICTIM} " in l]
        self.assertEqual(len(victim_alerts), 1, "\n".join(alerts))
        self.assertRegex(victim_alerts[0], r"limit=submission window=1h .*action=tempfail")
        self.assertIn("client=203.0.113.9", victim_alerts[0])
        self.assertFalse([l for l in alerts if BYSTANDER in l], "\n".join(alerts))
        self.assertEqual(fg.log_lines(r"event=store_down"), [])
        if redis:  # the counts really live in the shared store
            self.assertTrue(redis.command("KEYS", fg.prefix + "*"), "no keys under " + fg.prefix)
        self.report(f"{backend}: delivered {sink.delivered()}, alert: {victim_alerts[0]}")

    def test_redis_store_holds_account_to_its_limit(self):
        self.run_burst("redis")

    def test_memory_store_holds_account_to_its_limit(self):
        self.run_burst("memory")


if __name__ == "__main__":
    unittest.main()
