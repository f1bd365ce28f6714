"""floodgatectl report against a real daemon, with the Redis store and the memory store.

floodgate-bench speaks the milter protocol as Postfix would for an authenticated
account (user0@example.org, limit 3/1h): five messages, two refused, so the daemon
stores one limit_exceeded event. floodgatectl locks another account. `report --json`
(read from Redis directly, or from the daemon through its admin socket) has both
subjects and what is locked now; the table says the same; `--since` must be a duration.
"""
import json
import os
import subprocess
import unittest

from harness import (E2ETestCase, Floodgate, RedisServer, build_tool, floodgate_toml,
                     limit_toml)

ACCOUNT = "user0@example.org"  # floodgate-bench --accounts 1
HIJACKED = "account:mallory@example.org"


class ReportTest(E2ETestCase, unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.ctl_bin = build_tool("tools", "ctl", "floodgatectl")
        self.bench_bin = build_tool("tools", "floodgate-bench")

    def ctl(self, *args, status=0):
        argv = [self.ctl_bin, "-c", self.fg.config_path, *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, status, f"{' '.join(argv)}: {r.stdout}{r.stderr}")
        return r.stdout if status == 0 else r.stderr

    def run_report(self, backend):
        redis = self.use(RedisServer()) if backend == "redis" else None
        limit = limit_toml("submission", "account", "3/1h", count="messages")
        self.fg = self.use(Floodgate(floodgate_toml(limit, backend=backend), redis=redis))
        r = subprocess.run([self.bench_bin, "--socket", f"inet:{self.fg.port}@127.0.0.1",
                            "--sessions", "1", "--messages", "5", "--accounts", "1", "--json"],
                           capture_output=True, text=True, timeout=60)
        bench = json.loads(r.stdout)
        self.assertEqual((bench["delivered"], bench["refused"]), (3, 2), r.stdout + r.stderr)
        self.ctl("lock", HIJACKED, "--reason", "hijacked", "--ttl", "2h")

        report = json.loads(self.ctl("report", "--json", "--since", "1h"))
        self.assertEqual(report["since_s"], 3600)
        subjects = {s["subject"]: s for s in report["subjects"]}
        self.assertEqual(set(subjects), {f"account:{ACCOUNT}", HIJACKED}, report)
        [hit] = subjects[f"account:{ACCOUNT}"]["limits_hit"]
        self.assertEqual((hit["limit"], hit["window"], hit["count"], hit["action"], hit["times"]),
                         ("submission", "1h", 3, "tempfail", 1), hit)
        [lock] = subjects[HIJACKED]["locks"]
        self.assertEqual((lock["reason"], lock["by"], lock["ttl"]),
                         ("hijacked", "floodgatectl", "2h"), lock)
        self.assertEqual(report["subjects"][0]["subject"], HIJACKED, "locked subjects first")
        [now] = report["locked_now"]
        self.assertEqual((now["subject"], now["reason"]), (HIJACKED, "hijacked"))
        self.assertLessEqual(now["expires_in_s"], 7200)
        self.assertEqual(report["event_counts"], {"limit_exceeded": 1, "locked": 1}, report)

        table = self.ctl("report")
        self.assertIn(f"account:{ACCOUNT}", table)
        self.assertRegex(table, r"(?m)^Locked now:\n  account:mallory@example\.org +"
                         r"reason=hijacked  expires in (2h|1h 59m)$")
        self.assertIn("floodgatectl: --since: not a duration: soon",
                      self.ctl("report", "--since", "soon", status=2))
        self.report(f"{backend}: floodgatectl report:\n{table}")

    def test_report_from_redis(self):
        self.run_report("redis")

    def test_report_from_the_memory_store_through_the_admin_socket(self):
        self.run_report("memory")


if __name__ == "__main__":
    unittest.main()
