"""Scenario 5: two Postfix hosts, two floodgate daemons, one Redis: one shared count.

Each host receives 150 messages for the same account at the same time; with a
100/1h limit and the same key_prefix, 100 (plus what refills meanwhile) pass in
total, not 100 per host.
"""
import concurrent.futures
import unittest

from harness import (E2ETestCase, Floodgate, Postfix, RedisServer, SmtpSink, floodgate_toml,
                     limit_toml, refill_bound, wait_for)
from smtp_client import blast

ACCOUNT = "shared@example.test"
LIMIT, PERIOD_S = 100, 3600


class SharedRedisTest(E2ETestCase, unittest.TestCase):

    def test_two_hosts_share_one_limit(self):
        redis = self.use(RedisServer())
        config = floodgate_toml(limit_toml("submission", "account", f"{LIMIT}/1h"), backend="redis")
        fgs = [self.use(Floodgate(config, redis=redis, prefix="fgshared:")) for _ in range(2)]
        sink = self.use(SmtpSink())
        pfs = [self.use(Postfix(fg.port, sink.port)) for fg in fgs]

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(blast, pf.port, 5, 30, "x@example.test",
                                   xclient={"addr": f"203.0.113.{70 + i}", "login": ACCOUNT})
                       for i, pf in enumerate(pfs)]
            tallies = [f.result() for f in futures]
        for i, t in enumerate(tallies):
            self.report(f"host {i}: {t.summary()}")
            self.assertEqual(t.errors, [], t.summary())
            self.assertEqual(t.sent, 150)
            for line in t.refused_rcpt_lines():
                self.assertRegex(line, r"^451 4\.7\.28 .*sending rate exceeded")
        accepted = sum(t.accepted for t in tallies)
        elapsed = max(t.seconds for t in tallies)
        self.assertGreaterEqual(accepted, LIMIT)
        self.assertLessEqual(accepted, refill_bound(LIMIT, PERIOD_S, elapsed),
                             [t.summary() for t in tallies])
        self.report(f"accepted together: {accepted} of 300 in {elapsed:.2f}s "
                    f"({tallies[0].accepted} + {tallies[1].accepted})")

        wait_for(lambda: sink.delivered() == accepted, 60,
                 lambda: f"{accepted} messages at the sink, have {sink.delivered()}")
        for fg in fgs:
            fg.stop()
            self.assertEqual(fg.log_lines(r"event=store_down"), [], fg.log_text())
            self.assertLessEqual(len(fg.log_lines(rf"event=limit_exceeded subject=account:{ACCOUNT} ")), 1)
        self.assertTrue(redis.command("KEYS", "fgshared:*"))


if __name__ == "__main__":
    unittest.main()
