"""A config written for the release before traffic classes, run by this daemon.

The previous release's example config (tests/config/good_previous_release.toml, kept
verbatim but for the socket, the admin socket and the user to drop to) loads; its
account limit counts submission mail exactly as before, and its ip limit, which used to
count every SMTP client, now counts submission and relay mail only. floodgate -n and the
start log say so once, in words; a reload of the same file does not say it again.
"""
import os
import signal
import subprocess
import unittest

from harness import E2ETestCase, Floodgate

HERE = os.path.dirname(os.path.abspath(__file__))
OLD_CONFIG = os.path.join(HERE, "..", "config", "good_previous_release.toml")
NOTICE = (r'config notice: limit "per-ip" \(line 141\) has no traffic setting, so it counts only '
          r"submission, relay traffic: inbound mail \(unauthenticated SMTP from outside "
          r"\[traffic\] trusted_networks\) is no longer counted")


def previous_release_config():
    with open(OLD_CONFIG) as f:
        text = f.read()
    # Literal braces (none expected) must survive str.format in Floodgate.
    text = text.replace("{", "{{").replace("}", "}}")
    text = text.replace('socket = "inet:8899@127.0.0.1"', 'socket = "inet:{port}@127.0.0.1"', 1)
    text = text.replace('admin_socket = "/run/floodgate/admin.sock"',
                        'admin_socket = "{admin_socket}"', 1)
    # Its store keeps state in the default /var/lib/floodgate: this instance gets its own
    # (on the line after admin_socket, an empty one, so that line numbers stay).
    text = text.replace('admin_socket = "{admin_socket}"\n\n',
                        'admin_socket = "{admin_socket}"\nstate_dir = "{state_dir}"\n', 1)
    return text.replace('user = "floodgate"', "", 1)


class ConfigUpgradeTest(E2ETestCase, unittest.TestCase):

    def test_previous_release_config_loads_and_says_what_changed(self):
        fg = self.use(Floodgate(previous_release_config()))
        fg.wait_log(r"started: ")
        self.assertEqual(len(fg.log_lines(NOTICE)), 1, fg.log_text())

        check = subprocess.run([fg.bin, "-n", "-c", fg.config_path], capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("submission (line 90): subject account, counts recipients", check.stdout)
        self.assertIn("traffic: submission (the default for this subject)", check.stdout)
        self.assertIn("traffic: submission, relay (the default for this subject)", check.stdout)
        self.assertIn('notices:\n  limit "per-ip" (line 141) has no traffic setting',
                      check.stdout)

        fg.proc.send_signal(signal.SIGUSR1)
        fg.wait_log(r"event=config_reloaded ")
        self.assertEqual(len(fg.log_lines(NOTICE)), 1, "the same notice is not news on reload")
        self.report(fg.log_lines(NOTICE)[0].split("config notice: ", 1)[1][:120] + "...")


if __name__ == "__main__":
    unittest.main()
