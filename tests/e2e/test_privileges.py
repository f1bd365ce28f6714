"""Privilege drop and the unix socket's mode.

Started as root with `milter.user`, floodgate opens its socket first and then runs as that
user (all of real, effective and saved ids); a unix socket is created under `milter.umask`,
so with umask 0007 only its owner and group can connect. The daemon still decides after
dropping privileges.
"""
import contextlib
import os
import pwd
import socket
import stat
import unittest

from harness import (E2ETestCase, Floodgate, floodgate_toml, limit_toml, make_tempdir,
                     remove_tempdir, wait_for)


def ids(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class PrivilegesTest(E2ETestCase, unittest.TestCase):

    def test_drops_to_milter_user_after_opening_a_unix_socket_with_the_umask(self):
        self.assertEqual(os.geteuid(), 0, "this test starts floodgate as root")
        nobody = pwd.getpwnam("nobody")
        sock_dir = make_tempdir("fgsock")
        self.use(contextlib.ExitStack()).callback(remove_tempdir, sock_dir)  # after floodgate stops
        os.chown(sock_dir, nobody.pw_uid, nobody.pw_gid)
        sock_path = os.path.join(sock_dir, "floodgate.sock")
        config = floodgate_toml(limit_toml("submission", "account", "3/1h")).replace(
            'socket = "inet:{port}@127.0.0.1"',
            f'socket = "unix:{sock_path}"\nuser = "nobody"\numask = "0007"')
        fg = self.use(Floodgate(config, ready=lambda: os.path.exists(sock_path)))
        self.assertTrue(fg.alive(), fg.log_text())
        pid = fg.proc.pid
        wait_for(lambda: ids(pid, "Uid")[0] == nobody.pw_uid, 10, "the privilege drop")
        self.assertEqual(ids(pid, "Uid"), [nobody.pw_uid] * 4)
        self.assertEqual(ids(pid, "Gid"), [nobody.pw_gid] * 4)
        mode = stat.S_IMODE(os.stat(sock_path).st_mode)
        self.assertEqual(mode & 0o007, 0, f"socket mode {oct(mode)} is open to others")
        # It still answers the milter protocol: a negotiation gets a reply.
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(sock_path)
            s.sendall(b"\x00\x00\x00\x0dO\x00\x00\x00\x06\x00\x00\x01\xff\x00\x1f\xff\xff")
            reply = s.recv(64)
        self.assertGreaterEqual(len(reply), 5)
        self.assertEqual(reply[4:5], b"O")
        self.report(f"uid {ids(pid, 'Uid')}, socket mode {oct(mode)}")


if __name__ == "__main__":
    unittest.main()
