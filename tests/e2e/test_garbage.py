"""Garbage and truncated packets on the milter socket (hostile input).

Whatever arrives on floodgate's milter port — random bytes, a length prefix of 4 GiB, a
packet cut off mid-way, an unknown command after a valid negotiation, connections that
open and close at once — the daemon must neither crash nor stop serving: afterwards a
real Postfix session through it is still counted and limited.
"""
import os
import random
import socket
import struct
import unittest

from harness import E2ETestCase, Floodgate, Postfix, SmtpSink, floodgate_toml, limit_toml
from smtp_client import Session


def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


OPTNEG = packet(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))


class GarbageTest(E2ETestCase, unittest.TestCase):

    def blast(self, port, payload, read_reply=False):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(payload)
            if read_reply:
                try:
                    s.recv(4096)
                except (socket.timeout, ConnectionError):
                    pass

    def test_garbage_never_crashes_the_daemon(self):
        fg = self.use(Floodgate(floodgate_toml(limit_toml("submission", "account", "3/1h"))))
        rng = random.Random(20261201)
        payloads = [
            b"",
            b"\x00",
            b"GET / HTTP/1.0\r\n\r\n",
            struct.pack(">I", 0xFFFFFFFF) + b"O",          # 4 GiB announced
            struct.pack(">I", 0) ,                          # zero-length packet
            OPTNEG[:7],                                     # negotiation cut off
            OPTNEG + packet(b"Z", b"junk"),                 # unknown command
            OPTNEG + packet(b"C", b"host\x00"),             # connect without address
            OPTNEG + packet(b"C", b"h\x004\x00\x19"),       # truncated address
            OPTNEG + packet(b"M", b"<a@b>\x00"),            # MAIL before CONNECT
            OPTNEG + packet(b"R", b"<a@b>\x00"),            # RCPT before MAIL
            OPTNEG + packet(b"D", b"M{auth_authen}"),       # macro without value
            OPTNEG + packet(b"E"),                          # end of message out of order
        ]
        payloads += [os.urandom(rng.randint(1, 2048)) for _ in range(100)]
        payloads += [OPTNEG + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 512)))
                     for _ in range(100)]
        for p in payloads:
            self.blast(fg.port, p, read_reply=p.startswith(OPTNEG))
            self.assertTrue(fg.alive(), f"floodgate died after {p[:40]!r}:\n{fg.log_text()[-2000:]}")

        # Still serving: a real session is counted and limited.
        sink = self.use(SmtpSink())
        pf = self.use(Postfix(fg.port, sink.port))
        with Session(pf.port) as s:
            s.xclient(addr="203.0.113.50", login="after@example.test")
            accepted = [s.send("after@example.test", ["x@example.net"]).accepted for _ in range(4)]
        self.assertEqual(accepted, [True, True, True, False])
        self.report(f"{len(payloads)} hostile payloads, daemon alive, limit still holds")


if __name__ == "__main__":
    unittest.main()
