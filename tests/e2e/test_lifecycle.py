"""The daemon's signals through a real Postfix.

SIGUSR1 reloads the config without dropping SMTP sessions: a broken file is
refused (event=config_rejected) and the running limits stay; a good file takes
effect for the next transaction, also inside a session opened before the reload.
SIGTERM stops the daemon gracefully (exit status 0, not death by the signal).
"""
import os
import signal
import unittest

from harness import (E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml,
                     wait_for)
from smtp_client import Session

ACCOUNT_LIMIT = limit_toml("submission", "account", "1000/1h")
IP_LIMIT = limit_toml("per-ip", "ip", "1/1h")
ADDR = "198.51.100.200"


class LifecycleTest(E2ETestCase, unittest.TestCase):

    def write_config(self, fg, text):
        tmp = fg.config_path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, fg.config_path)

    def test_reload_keeps_sessions_refuses_bad_config_applies_good_one(self):
        fg = self.use(Floodgate(floodgate_toml(ACCOUNT_LIMIT)))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port))
        good_next = floodgate_toml(ACCOUNT_LIMIT, IP_LIMIT).format(
            port=fg.port, redis_url="", prefix=fg.prefix, admin_socket=fg.admin_socket,
            state_dir=fg.state_dir)

        with Session(pf.port) as s:
            s.xclient(addr=ADDR, login="reload@example.test")
            self.assertTrue(s.send("r@example.test", ["a@example.net"]).accepted)
            self.assertTrue(s.send("r@example.test", ["a@example.net"]).accepted)

            # A broken file is refused with its line; the old limits stay.
            self.write_config(fg, good_next + "\n[[limit]]\nname = \n")
            fg.proc.send_signal(signal.SIGUSR1)
            rejected = fg.wait_log(r"event=config_rejected")
            self.assertRegex(rejected[0], r"floodgate\.toml:\d+", "the alert names file and line")
            self.assertTrue(s.send("r@example.test", ["a@example.net"]).accepted,
                            "after a rejected reload the old config (no ip limit) holds")

            # A good file takes effect for the next transaction of this same session.
            self.write_config(fg, good_next)
            fg.proc.send_signal(signal.SIGUSR1)
            fg.wait_log(r"event=config_reloaded")
            first = s.send("r@example.test", ["a@example.net"])
            second = s.send("r@example.test", ["a@example.net"])
        self.assertTrue(first.accepted, first)
        self.assertFalse(second.accepted, second)
        self.assertRegex(second.rcpts[0][1].line, r"^451 4\.7\.28 .*sending rate exceeded")
        self.assertTrue(fg.alive())
        wait_for(lambda: sink.delivered() == 4, 60, lambda: f"4 at the sink, have {sink.delivered()}")
        self.report(f"rejected: {rejected[0]}")

    def test_sigterm_stops_gracefully(self):
        fg = self.use(Floodgate(floodgate_toml(ACCOUNT_LIMIT)))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port))
        with Session(pf.port) as s:
            self.assertTrue(s.send("t@example.test", ["a@example.net"]).accepted)
        rc = fg.stop()
        self.report(f"exit status after SIGTERM: {rc}")
        self.assertEqual(rc, 0, "SIGTERM must stop floodgate gracefully, not kill it; log:\n"
                         + fg.log_text()[-2000:])


if __name__ == "__main__":
    unittest.main()
