"""Postfix wiring over a unix socket, with smtpd and cleanup chrooted as Debian runs them.

deploy/postfix/main.cf.unix-socket.snippet says
    smtpd_milters = unix:floodgate/floodgate.sock
    non_smtpd_milters = unix:floodgate/floodgate.sock
with floodgate listening on <queue_directory>/floodgate/floodgate.sock in a directory
that belongs to the floodgate user and group postfix, mode 2750 (deploy/systemd/
unix-socket.conf), under [milter] umask 0007. Here the private instance's queue
directory stands in for /var/spool/postfix and user nobody for floodgate.

Proved through a real Postfix:
- chrooted smtpd (SMTP, 6 parallel XCLIENT sessions from one address): an ip limit of 5/1h
  passes exactly 5 of 12 messages, the other 7 get floodgate's 451 4.7.28 at RCPT;
- chrooted cleanup (sendmail(1) through non_smtpd_milters): a sender limit of 2/1h passes
  2 of 3, the third is tempfailed at end of message and stays in the maildrop;
- the same relative path works for unchrooted daemons too (they run in the queue
  directory), while the absolute path does not exist for a chrooted smtpd.
"""
import grp
import os
import pwd
import stat
import unittest

from harness import (E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml,
                     wait_for)
from smtp_client import blast

MILTER = "unix:floodgate/floodgate.sock"  # as in main.cf.unix-socket.snippet
ADDR = "203.0.113.60"
SCRIPT_SENDER, SENDER_LIMIT, SUBMISSIONS = "webapp@example.test", 2, 3
# Each SMTP session has its own sender and stays within SENDER_LIMIT: only the ip limit bites.
IP_LIMIT, SESSIONS, PER_SESSION = 5, 6, SENDER_LIMIT
CHROOTED = ("smtpd", "cleanup")  # the two milter clients; both chrooted on Debian
MILTER_DOWN = r"warning: connect to Milter service "


def socket_dir(pf):
    """<queue_directory>/floodgate as deploy/systemd/unix-socket.conf creates it:
    owner = floodgate's user (nobody here), group postfix, setgid, 2750."""
    d = os.path.join(pf.queue_dir, "floodgate")
    os.mkdir(d)
    os.chown(d, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("postfix").gr_gid)
    os.chmod(d, 0o2750)
    return d


def unix_floodgate(sock_path, *limits):
    """floodgate.toml's [milter] as README/the snippet prescribe for the unix socket:
    started as root, it creates the socket under umask 0007 and then runs as `user`."""
    config = floodgate_toml(*limits).replace(
        'socket = "inet:{port}@127.0.0.1"',
        f'socket = "unix:{sock_path}"\nuser = "nobody"\numask = "0007"')
    return Floodgate(config, ready=lambda: os.path.exists(sock_path))


class UnixSocketTest(E2ETestCase, unittest.TestCase):

    def _decides_through_the_socket(self, chroot):
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(relay_port=sink.port, milter=MILTER, chroot=chroot))
        sock_path = os.path.join(socket_dir(pf), "floodgate.sock")
        fg = self.use(unix_floodgate(
            sock_path,
            limit_toml("per-ip", "ip", f"{IP_LIMIT}/1h"),
            limit_toml("scripts", "sender", f"{SENDER_LIMIT}/1h")))
        # The harness' greeting probe ran before floodgate was up; count from here.
        milter_down_before = len(pf.maillog_lines(MILTER_DOWN))

        # Only group postfix can reach the socket: Postfix (user postfix) is neither its
        # owner nor an "other".
        st = os.stat(sock_path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(st.st_gid, grp.getgrnam("postfix").gr_gid, "setgid dir: group postfix")
        self.assertNotEqual(st.st_uid, pwd.getpwnam("postfix").pw_uid)
        self.assertEqual(stat.S_IMODE(st.st_mode) & 0o007, 0, oct(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode) & 0o060, 0o060, oct(st.st_mode))

        # SMTP: smtpd_milters.
        tally = blast(pf.port, SESSIONS, PER_SESSION, lambda i: f"user{i}@example.test",
                      xclient=lambda i: {"addr": ADDR, "login": f"user{i}@example.test"})
        self.assertEqual(tally.errors, [], tally.summary())
        self.assertEqual(tally.accepted, IP_LIMIT, tally.summary())
        refused = tally.refused_rcpt_lines()
        self.assertEqual(sum(refused.values()), SESSIONS * PER_SESSION - IP_LIMIT, tally.summary())
        for line in refused:
            self.assertRegex(line, r"^451 4\.7\.28 .*sending rate exceeded")

        # sendmail(1): pickup -> cleanup -> non_smtpd_milters; refused at end of message.
        for i in range(SUBMISSIONS):
            pf.sendmail(SCRIPT_SENDER, ["rcpt@example.net"], f"Subject: form {i}\n\nhello {i}\n")
        rejects = wait_for(
            lambda: pf.maillog_lines(r"/cleanup\[\d+\]: \w+: milter-reject: END-OF-MESSAGE "
                                     r"from localhost\[127\.0\.0\.1\]: 4\.7\.28 "), 30,
            lambda: "cleanup's milter-reject in the maillog:\n" + pf.maillog()[-3000:])
        delivered = IP_LIMIT + SENDER_LIMIT
        wait_for(lambda: sink.delivered() == delivered and pf.sent_count() == delivered, 60,
                 lambda: f"{delivered} deliveries, sink has {sink.delivered()}, "
                         f"maillog {pf.sent_count()}")
        queued = pf.queue()
        self.assertEqual([(e["queue_name"], e["sender"]) for e in queued],
                         [("maildrop", SCRIPT_SENDER)], queued)

        # The daemons that talked to floodgate ran where the test says they did.
        want_root = pf.queue_dir if chroot else "/"
        for command in ("smtpd", "cleanup"):
            procs = pf.processes(command)
            self.assertTrue(procs, f"no {command} process of the instance")
            self.assertEqual({root for _, _, root in procs}, {want_root}, procs)
        self.assertEqual(len(pf.maillog_lines(MILTER_DOWN)), milter_down_before,
                         "\n".join(pf.maillog_lines(MILTER_DOWN)))

        fg.stop()
        alerts = fg.log_lines(r"event=limit_exceeded ")
        self.assertEqual(len([l for l in alerts if f"subject=ip:{ADDR} limit=per-ip " in l]), 1,
                         "\n".join(alerts))
        self.assertEqual(len([l for l in alerts if f"subject=sender:{SCRIPT_SENDER} " in l
                              and "client=127.0.0.1" in l]), 1, "\n".join(alerts))
        self.report(f"chroot={','.join(chroot) or 'none'} socket {oct(stat.S_IMODE(st.st_mode))} "
                    f"uid {st.st_uid} gid {st.st_gid}; SMTP: {tally.accepted} accepted, "
                    f"{sum(refused.values())} refused {sorted(refused)}; sendmail: "
                    f"{SENDER_LIMIT} delivered, 1 in maildrop; "
                    + rejects[0].split("milter-reject: ", 1)[-1])

    def test_chrooted_smtpd_and_cleanup_reach_the_socket_in_the_queue_directory(self):
        self._decides_through_the_socket(CHROOTED)

    def test_same_relative_path_works_unchrooted(self):
        self._decides_through_the_socket(())

    def test_absolute_path_is_not_found_by_a_chrooted_smtpd(self):
        """Why the snippet's path is relative: chrooted, the full path does not exist."""
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(relay_port=sink.port, chroot=CHROOTED,
                              milter="unix:{queue_dir}/floodgate/floodgate.sock"))
        sock_path = os.path.join(socket_dir(pf), "floodgate.sock")
        self.use(unix_floodgate(sock_path, limit_toml("per-ip", "ip", "100/1h")))
        before = len(pf.maillog_lines(MILTER_DOWN))

        tally = blast(pf.port, 1, 1, "user@example.test",
                      xclient={"addr": ADDR, "login": "user0@example.test"})
        self.assertEqual(tally.accepted, 0, tally.summary())
        self.assertEqual(dict(tally.mail), {"451 4.7.1 Service unavailable - try again later": 1},
                         tally.summary())
        lines = wait_for(lambda: pf.maillog_lines(MILTER_DOWN)[before:], 10, "smtpd's warning")
        self.assertIn(f"unix:{sock_path}: No such file or directory", lines[0])
        self.report(lines[0].split("warning: ", 1)[-1])


if __name__ == "__main__":
    unittest.main()
