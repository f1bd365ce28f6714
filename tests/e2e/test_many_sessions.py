"""1,000 SMTP sessions at the same time through a real Postfix, and nothing leaks.

Postfix gets an smtpd process limit above 1,000 (the harness default is 200), so every
session has its own smtpd and its own milter connection to floodgate at the same time.
Each session (raw sockets on one asyncio loop, so the client stays light on a 2-core
box): EHLO, XCLIENT with its own address and login, EHLO; then it waits until all 1,000
sessions have got that far (they are all open at once), sends one message and QUITs.
The limits are far above what is sent: every message must get 250.

floodgate must give back what the sessions took: its open file descriptors
(/proc/PID/fd) and threads (/proc/PID/status Threads) return to what they were before,
within a small tolerance, once the sessions are closed. (Debian's libmilter serves
connections from a small worker pool, so its thread count stays flat under load; the
fd count is what grows by one per session.) Its peak RSS (VmHWM) is reported.
"""
import asyncio
import os
import time
import unittest

from harness import (E2ETestCase, Floodgate, Postfix, RedisServer, SmtpSink, floodgate_toml,
                     limit_toml, wait_for)

SESSIONS = 1000
SMTPD_PROCESS_LIMIT = 1100
# Postfix answers within its own timeouts; this only keeps a stuck test from hanging.
REPLY_TIMEOUT_S = 90
ALL_OPEN_TIMEOUT_S = 90
FD_TOLERANCE = 2
THREAD_TOLERANCE = 2


def proc_counts(pid):
    """(open fds, threads, VmHWM in kB, VmRSS in kB) of a process."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.split()
    return fds, int(status["Threads"][0]), int(status["VmHWM"][0]), int(status["VmRSS"][0])


def milter_connections(pid, port):
    """Established TCP connections to floodgate's milter port held by process pid."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    n = 0
    with open(f"/proc/{pid}/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                n += 1
    return n


class SmtpError(AssertionError):
    pass


async def reply(reader, what):
    """One (possibly multi-line) SMTP reply: (code, last line)."""
    while True:
        line = await asyncio.wait_for(reader.readline(), REPLY_TIMEOUT_S)
        if not line:
            raise SmtpError(f"connection closed awaiting the reply to {what}")
        if len(line) < 4 or line[3:4] != b"-":
            text = line.decode(errors="replace").rstrip("\r\n")
            return int(text[:3]), text


async def command(reader, writer, line, expect, what=None):
    writer.write(line.encode() + b"\r\n")
    await writer.drain()
    code, text = await reply(reader, what or line.split()[0])
    if code != expect:
        raise SmtpError(f"{what or line!r}: expected {expect}, got {text!r}")
    return text


class Run:
    def __init__(self, port, sessions, fg_pid, milter_port):
        self.port, self.sessions, self.fg_pid = port, sessions, fg_pid
        self.milter_port = milter_port
        self.open = 0
        self.accepted = 0
        self.errors = []
        self.peak = None      # floodgate's counts while every session was open
        self.peak_milter = None  # its milter connections then
        self.all_open_s = None

    async def session(self, i, all_open):
        login = f"user{i}@example.test"
        addr = f"10.{i // 250}.{i % 250}.1"
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            code, text = await reply(reader, "greeting")
            if code != 220:
                raise SmtpError(f"greeting {text!r}")
            await command(reader, writer, "EHLO client.floodgate-e2e.test", 250)
            await command(reader, writer, f"XCLIENT ADDR={addr} LOGIN={login}", 220)
            await command(reader, writer, "EHLO client.floodgate-e2e.test", 250)
            self.open += 1
            if self.open == self.sessions:
                self.all_open_s = time.monotonic() - self.started
                self.peak = proc_counts(self.fg_pid)
                self.peak_milter = milter_connections(self.fg_pid, self.milter_port)
                all_open.set()
            await asyncio.wait_for(all_open.wait(), ALL_OPEN_TIMEOUT_S)
            await command(reader, writer, f"MAIL FROM:<{login}>", 250)
            await command(reader, writer, "RCPT TO:<rcpt@example.net>", 250)
            await command(reader, writer, "DATA", 354)
            body = (f"From: <{login}>\r\nTo: <rcpt@example.net>\r\nSubject: many {i}\r\n"
                    f"Message-ID: <many.{time.time_ns()}.{i}@floodgate-e2e.test>\r\n\r\n"
                    f"message {i}\r\n.")
            await command(reader, writer, body, 250, "end of DATA")
            self.accepted += 1
            await command(reader, writer, "QUIT", 221)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def guarded(self, i, all_open):
        try:
            await self.session(i, all_open)
        except Exception as e:  # recorded: the test asserts there were none
            self.errors.append(f"session {i}: {e!r}")
            all_open.set()  # do not keep the others waiting for a session that failed

    async def main(self):
        self.started = time.monotonic()
        all_open = asyncio.Event()
        await asyncio.gather(*(self.guarded(i, all_open) for i in range(self.sessions)))
        self.seconds = time.monotonic() - self.started

    def run(self):
        asyncio.run(self.main())
        return self


class ManySessionsTest(E2ETestCase, unittest.TestCase):

    def test_thousand_concurrent_sessions_all_pass_and_nothing_leaks(self):
        redis = self.use(RedisServer())
        fg = self.use(Floodgate(floodgate_toml(
            limit_toml("submission", "account", "100000/1h"),
            limit_toml("per-ip", "ip", "100000/1h"), backend="redis"), redis=redis))
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port, smtpd_process_limit=SMTPD_PROCESS_LIMIT))
        pid = fg.proc.pid
        fresh = proc_counts(pid)

        # Warm-up: one complete session opens floodgate's lazy Redis connection, so
        # "before" holds everything the daemon keeps for good. The warm-up's milter
        # connection goes away when Postfix ends the session: wait for that.
        warm = Run(pf.port, 1, pid, fg.port).run()
        self.assertEqual(warm.errors, [])
        wait_for(lambda: milter_connections(pid, fg.port) == 0, 30,
                 lambda: f"floodgate's milter connections closed after the warm-up, have "
                 f"{milter_connections(pid, fg.port)}")
        before = proc_counts(pid)

        run = Run(pf.port, SESSIONS, pid, fg.port).run()
        self.report(f"{SESSIONS} sessions in {run.seconds:.1f}s (all open after "
                    f"{run.all_open_s}s), accepted {run.accepted}, errors {len(run.errors)}: "
                    f"{run.errors[:5]}")
        self.assertEqual(run.errors, [])
        self.assertEqual(run.accepted, SESSIONS)
        self.assertTrue(fg.alive(), fg.log_text()[-3000:])
        # Every session really was open at the same time, milter connection included. (On a
        # loaded machine an smtpd that Postfix is just replacing can still hold its old
        # connection at that moment: more is fine, fewer is not; leaks show in the fds below.)
        self.assertIsNotNone(run.peak)
        self.assertGreaterEqual(run.peak_milter, SESSIONS,
                         f"floodgate's milter connections while all sessions were open "
                         f"(fds, threads: {run.peak[:2]})")

        def settled():
            now = proc_counts(pid)
            return (now[0] <= before[0] + FD_TOLERANCE and
                    now[1] <= before[1] + THREAD_TOLERANCE) and now
        after = wait_for(settled, 60, lambda: f"floodgate fds/threads back to {before[:2]} "
                         f"(+{FD_TOLERANCE}/+{THREAD_TOLERANCE}), have {proc_counts(pid)[:2]}")
        self.report(f"floodgate fds/threads: fresh {fresh[:2]}, before {before[:2]}, "
                    f"all sessions open {run.peak[:2]} with {run.peak_milter} milter connections, "
                    f"after {after[:2]}; "
                    f"VmHWM {after[2] / 1024:.1f} MiB (VmRSS before {before[3] / 1024:.1f}, "
                    f"after {after[3] / 1024:.1f} MiB)")

        wait_for(lambda: sink.delivered() == SESSIONS + 1, 120,
                 lambda: f"{SESSIONS + 1} messages at the sink, have {sink.delivered()}")
        fg.stop()
        self.assertEqual(fg.log_lines(r"event=(store_down|limit_exceeded)"), [])


if __name__ == "__main__":
    unittest.main()
