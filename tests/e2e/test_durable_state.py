"""The embedded store keeps its state in store.state_dir across restarts and crashes.

The real binaries, no Postfix: floodgate with the memory store and a private state_dir,
floodgatectl through the admin socket, floodgate-bench speaking the milter protocol for one
authenticated account (user0@example.org), each message with a queue id.
- SIGTERM and start: the admin's lock ("until unlocked") holds, the counts are exactly
  what they were, the queue ids and the events are still there;
- kill -9 and start: the lock made just before the kill and the queue ids recorded just
  before it are still there (the journal);
- a state file that is not floodgate's is moved aside, logged, and floodgate starts empty.
"""
import glob
import json
import os
import subprocess
import tempfile
import unittest

from harness import (E2ETestCase, Floodgate, build_tool, floodgate_toml, limit_toml,
                     remove_tempdir)

ACCOUNT = "user0@example.org"  # floodgate-bench --accounts 1
SUBJECT = f"account:{ACCOUNT}"


class DurableStateTest(E2ETestCase, unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.ctl_bin = build_tool("tools", "ctl", "floodgatectl")
        self.bench_bin = build_tool("tools", "floodgate-bench")
        # floodgatectl queue asks `postqueue -j` what is still queued; this one says
        # "nothing", so the answer's "recorded" is the queue ids the store holds.
        self.fake_bin = tempfile.mkdtemp(prefix="fg-e2e-fakebin-")
        self.addCleanup(remove_tempdir, self.fake_bin)
        with open(os.path.join(self.fake_bin, "postqueue"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(self.fake_bin, "postqueue"), 0o755)
        limit = limit_toml("submission", "account", ["10/1h", "100/1d"], count="messages")
        self.fg = self.use(Floodgate(floodgate_toml(limit, backend="memory")))

    def ctl(self, *args):
        argv = [self.ctl_bin, "-c", self.fg.config_path, "--json", *args]
        env = dict(os.environ, PATH=self.fake_bin + ":" + os.environ.get("PATH", ""))
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 0, f"{' '.join(argv)}: {r.stdout}{r.stderr}")
        return json.loads(r.stdout)

    def send(self, messages):
        """Messages from ACCOUNT through the milter; (delivered, refused)."""
        r = subprocess.run([self.bench_bin, "--socket", f"inet:{self.fg.port}@127.0.0.1",
                            "--sessions", "1", "--messages", str(messages), "--accounts", "1",
                            "--json"], capture_output=True, text=True, timeout=60)
        report = json.loads(r.stdout)
        self.assertEqual(sum(report["errors"].values()), 0, r.stdout + r.stderr)
        return report["delivered"], report["refused"]

    def windows(self):
        return [(w["used"], w["capacity"]) for w in self.ctl("show", SUBJECT)["limits"][0]["windows"]]

    def recorded_queue_ids(self):
        return self.ctl("queue", SUBJECT)["recorded"]

    def test_a_restart_keeps_the_lock_the_counts_the_queue_ids_and_the_events(self):
        self.assertEqual(self.send(4), (4, 0))
        self.assertTrue(self.ctl("lock", SUBJECT, "--reason", "hijacked")["locked"])
        before = self.windows()
        self.assertEqual([used for used, _ in before], [4, 4])
        self.assertEqual(self.recorded_queue_ids(), 4)

        self.assertEqual(self.fg.restart(), 0, "a graceful stop on SIGTERM")
        self.assertTrue(self.fg.log_lines(r"state saved to " + self.fg.state_dir), self.fg.log_text())
        # Logged before the admin socket serves, but the milter port opens earlier.
        loaded = self.fg.wait_log(r"state_dir .*: loaded .*1 counters, 1 locks")

        shown = self.ctl("show", SUBJECT)
        self.assertEqual(shown["lock"]["reason"], "hijacked")
        self.assertIsNone(shown["lock"].get("expires_in_s"), "until unlocked: no expiry")
        self.assertEqual(self.windows(), before, "the counts are exactly what they were")
        self.assertEqual(self.recorded_queue_ids(), 4)
        self.assertTrue(any("event=locked" in e for e in self.ctl("events")))
        self.assertEqual(self.send(2), (0, 2), "still locked")

        self.assertTrue(self.ctl("unlock", SUBJECT)["was_locked"])
        self.assertEqual(self.send(2), (2, 0))
        self.report(f"restart kept {before} and the lock; {loaded[0]}")

    def test_after_kill_9_the_lock_and_the_queue_ids_are_still_there(self):
        self.assertEqual(self.send(3), (3, 0))
        self.assertTrue(self.ctl("lock", SUBJECT, "--reason", "hijacked", "--ttl", "2h")["locked"])

        self.assertEqual(self.fg.restart(kill=True), -9)
        shown = self.ctl("show", SUBJECT)
        self.assertEqual(shown["lock"]["reason"], "hijacked")
        self.assertGreater(shown["lock"]["expires_in_s"], 3600)
        self.assertLessEqual(shown["lock"]["expires_in_s"], 7200)
        self.assertEqual(self.recorded_queue_ids(), 3)
        self.assertEqual(self.send(1), (0, 1), "still locked")
        self.report(f"kill -9 kept the lock and 3 queue ids; counts {self.windows()}")

    def test_a_state_file_that_is_not_floodgates_is_moved_aside_and_floodgate_starts(self):
        self.assertEqual(self.send(2), (2, 0))
        self.fg.stop()
        state = os.path.join(self.fg.state_dir, "state")
        with open(state, "wb") as f:
            f.write(b"this is not a floodgate state file\n")
        self.fg.start()
        self.assertTrue(self.fg.alive())
        refused = self.fg.wait_log(r"state file .* refused: not a floodgate state file.*moved to")
        moved = glob.glob(state + ".refused-*")
        self.assertEqual(len(moved), 1)
        with open(moved[0], "rb") as f:
            self.assertEqual(f.read(), b"this is not a floodgate state file\n")
        self.assertEqual([used for used, _ in self.windows()], [0, 0], "started empty")
        self.assertEqual(self.send(1), (1, 0))
        self.report(refused[0])


if __name__ == "__main__":
    unittest.main()
