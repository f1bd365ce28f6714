"""floodgatectl with the memory store: the counts live inside the daemon, and floodgatectl
reaches them through store.admin_socket.

The real binaries, no Postfix: floodgate with the embedded store, floodgatectl with the
same config, and floodgate-bench speaking the milter protocol as Postfix would for an
authenticated account (user0@example.org):
- `lock` stops the account's mail at once (every message refused) and is logged by the
  daemon like any lock;
- `show` and `events` say so; `unlock` lets it send again, within its limit;
- `reset` frees its bucket;
- with the daemon gone, floodgatectl fails with a clear error and exit status 1.
"""
import json
import os
import subprocess
import unittest

from harness import E2ETestCase, Floodgate, build_tool, floodgate_toml, limit_toml

ACCOUNT = "user0@example.org"  # floodgate-bench --accounts 1
SUBJECT = f"account:{ACCOUNT}"


class MemoryAdminTest(E2ETestCase, unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.ctl_bin = build_tool("tools", "ctl", "floodgatectl")
        self.bench_bin = build_tool("tools", "floodgate-bench")
        limit = limit_toml("submission", "account", "3/1h", count="messages")
        self.fg = self.use(Floodgate(floodgate_toml(limit, backend="memory")))

    def ctl(self, *args, status=0):
        argv = [self.ctl_bin, "-c", self.fg.config_path, "--json", *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, status, f"{' '.join(argv)}: {r.stdout}{r.stderr}")
        return json.loads(r.stdout) if status == 0 else r.stderr

    def send(self, messages):
        """Messages from ACCOUNT through the milter; (delivered, refused)."""
        r = subprocess.run([self.bench_bin, "--socket", f"inet:{self.fg.port}@127.0.0.1",
                            "--sessions", "1", "--messages", str(messages), "--accounts", "1",
                            "--json"], capture_output=True, text=True, timeout=60)
        report = json.loads(r.stdout)
        self.assertEqual(sum(report["errors"].values()), 0, r.stdout + r.stderr)
        return report["delivered"], report["refused"]

    def test_lock_show_unlock_reset_through_the_daemon(self):
        status = self.ctl("status")
        self.assertEqual(status["store"], "memory")
        self.assertIn(self.fg.admin_socket, status["url"])

        locked = self.ctl("lock", SUBJECT, "--reason", "hijacked", "--ttl", "1h")
        self.assertTrue(locked["locked"])
        self.assertEqual(self.send(2), (0, 2), "a locked account sends nothing")
        shown = self.ctl("show", SUBJECT)
        self.assertEqual(shown["lock"]["reason"], "hijacked")
        self.assertLessEqual(shown["lock"]["expires_in_s"], 3600)
        # Logged by the daemon before it answered floodgatectl: no waiting.
        self.assertTrue(
            self.fg.log_lines(rf"event=locked subject={SUBJECT} reason=hijacked by=floodgatectl"),
            self.fg.log_text())
        self.assertTrue(any("event=locked" in e for e in self.ctl("events")))

        self.assertTrue(self.ctl("unlock", SUBJECT)["was_locked"])
        self.assertTrue(self.fg.log_lines(rf"event=unlocked subject={SUBJECT} by=floodgatectl"),
                        self.fg.log_text())
        self.assertEqual(self.send(2), (2, 0))
        window = self.ctl("show", SUBJECT)["limits"][0]["windows"][0]
        self.assertEqual((window["used"], window["capacity"]), (2, 3))
        top = self.ctl("top")
        self.assertEqual(top[0]["subject"], SUBJECT)

        self.assertEqual(self.ctl("reset", SUBJECT)["deleted"], 1)
        self.assertEqual(self.ctl("show", SUBJECT)["limits"][0]["windows"][0]["used"], 0)
        self.assertEqual(self.send(3), (3, 0))
        self.report(f"lock, unlock and reset through {self.fg.admin_socket}")

        self.fg.stop()
        err = self.ctl("status", status=1)
        self.assertIn("cannot connect to the admin socket", err)
        self.assertFalse(os.path.exists(self.fg.admin_socket), "removed when floodgate stops")


if __name__ == "__main__":
    unittest.main()
