"""SMTP client side of the end-to-end tests: one session, and many in parallel.

`Session` wraps smtplib so a test sees every reply as (code, text) with the exact
reply line (e.g. "451 4.7.28 account sending rate exceeded, try again later"), can
change identity with XCLIENT (Postfix then runs the milter's connect again with the
new address and {auth_authen}) or log in with real SASL, and send one transaction
recording the reply to MAIL, to each RCPT and to DATA. `blast` runs several sessions
on threads and tallies what came back.
"""
import collections
import concurrent.futures
import dataclasses
import itertools
import smtplib
import threading
import time

_msg_seq = itertools.count(1)
_msg_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Reply:
    code: int
    text: str  # the last reply line without the code, e.g. "4.7.28 account sending ..."

    @property
    def line(self):
        return f"{self.code} {self.text}"

    def __str__(self):
        return self.line


@dataclasses.dataclass
class SendResult:
    mail: Reply
    rcpts: list  # [(recipient, Reply)]
    data: Reply = None  # None when DATA was not attempted (no recipient accepted)

    @property
    def accepted(self):
        """True when the message was queued (DATA answered 250)."""
        return self.data is not None and self.data.code == 250

    @property
    def accepted_rcpts(self):
        return [r for r, rep in self.rcpts if rep.code == 250]


def xtext(value):
    """RFC 3461 xtext, as XCLIENT expects: '+', '=', controls and non-ASCII as +HH."""
    out = []
    for b in value.encode():
        if b < 0x21 or b > 0x7E or b in (ord("+"), ord("=")):
            out.append("+%02X" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def _reply(code, msg):
    text = msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
    return Reply(code, text.splitlines()[-1] if text else "")


def message_body(sender, rcpts, subject="floodgate e2e"):
    with _msg_lock:
        n = next(_msg_seq)
    return (f"From: <{sender}>\r\nTo: {', '.join(f'<{r}>' for r in rcpts)}\r\n"
            f"Subject: {subject} {n}\r\nMessage-ID: <e2e.{time.time_ns()}.{n}@floodgate-e2e.test>\r\n"
            f"\r\nmessage {n}\r\n")


class Session:
    """One SMTP session to 127.0.0.1:port (EHLO done on connect)."""

    def __init__(self, port, helo="client.floodgate-e2e.test", timeout=60):
        self.port = port
        self.helo = helo
        self.smtp = smtplib.SMTP(timeout=timeout, local_hostname=helo)
        code, msg = self.smtp.connect("127.0.0.1", port)
        if code != 220:
            raise AssertionError(f"unexpected greeting {code} {msg!r}")
        self.ehlo()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()

    def ehlo(self):
        code, msg = self.smtp.ehlo(self.helo)
        if code != 250:
            raise AssertionError(f"EHLO refused: {code} {msg!r}")
        return Reply(code, msg.decode(errors="replace"))

    def cmd(self, line):
        """Sends one raw command line; returns its Reply (last line of a multi-line one)."""
        verb, _, args = line.partition(" ")
        code, msg = self.smtp.docmd(verb, args)
        return _reply(code, msg)

    def xclient(self, addr=None, login=None, name=None, **other):
        """XCLIENT with the given attributes (xtext-encoded), then EHLO again."""
        attrs = {"ADDR": addr, "LOGIN": login, "NAME": name}
        attrs.update({k.upper(): v for k, v in other.items()})
        args = " ".join(f"{k}={xtext(v)}" for k, v in attrs.items() if v is not None)
        rep = self.cmd("XCLIENT " + args)
        if rep.code != 220:
            raise AssertionError(f"XCLIENT {args} refused: {rep}")
        self.ehlo()
        return rep

    def login(self, user, password):
        """Real SMTP AUTH (PLAIN) through Postfix's Cyrus SASL."""
        self.smtp.user, self.smtp.password = user, password
        code, msg = self.smtp.auth("PLAIN", self.smtp.auth_plain, initial_response_ok=True)
        return _reply(code, msg)

    def send(self, sender, rcpts, body=None):
        """One transaction: MAIL, every RCPT, DATA if a recipient was accepted, else RSET."""
        rcpts = list(rcpts)
        mail = _reply(*self.smtp.docmd("MAIL", f"FROM:<{sender}>"))
        if mail.code != 250:
            self.cmd("RSET")
            return SendResult(mail, [])
        results = [(r, _reply(*self.smtp.docmd("RCPT", f"TO:<{r}>"))) for r in rcpts]
        ok = [r for r, rep in results if rep.code == 250]
        if not ok:
            self.cmd("RSET")
            return SendResult(mail, results)
        body = body if body is not None else message_body(sender, ok)
        try:
            code, msg = self.smtp.data(body)
            data = _reply(code, msg)
        except smtplib.SMTPDataError as e:  # DATA itself (not the final dot) refused
            data = _reply(e.smtp_code, e.smtp_error)
            self.cmd("RSET")
        return SendResult(mail, results, data)


@dataclasses.dataclass
class Tally:
    """What a batch of transactions got back."""
    sent: int = 0        # transactions attempted
    accepted: int = 0    # messages queued (DATA 250)
    accepted_rcpts: int = 0
    mail: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    rcpt: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    data: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    errors: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def add(self, res):
        self.sent += 1
        self.mail[res.mail.line] += 1
        for _, rep in res.rcpts:
            self.rcpt[rep.line] += 1
        if res.data is not None:
            self.data[res.data.line if res.data.code != 250 else "250"] += 1
        self.accepted += res.accepted
        self.accepted_rcpts += len(res.accepted_rcpts) if res.accepted else 0

    def merge(self, other):
        self.sent += other.sent
        self.accepted += other.accepted
        self.accepted_rcpts += other.accepted_rcpts
        self.mail.update(other.mail)
        self.rcpt.update(other.rcpt)
        self.data.update(other.data)
        self.errors += other.errors

    def rcpt_codes(self):
        c = collections.Counter()
        for line, n in self.rcpt.items():
            c[int(line[:3])] += n
        return c

    def refused_rcpt_lines(self):
        return {l: n for l, n in self.rcpt.items() if not l.startswith("250")}

    def summary(self):
        return (f"sent={self.sent} accepted={self.accepted} in {self.seconds:.2f}s "
                f"mail={dict(self.mail)} rcpt={dict(self.rcpt)} data={dict(self.data)} "
                f"errors={self.errors[:5]}")


def run_session(port, count, sender, rcpts, xclient=None, login=None):
    """One session sending `count` messages; xclient is a dict for Session.xclient,
    login a (user, password) pair for real AUTH."""
    t = Tally()
    try:
        with Session(port) as s:
            if xclient:
                s.xclient(**xclient)
            if login:
                rep = s.login(*login)
                if rep.code != 235:
                    raise AssertionError(f"AUTH failed: {rep}")
            for _ in range(count):
                t.add(s.send(sender, rcpts))
    except Exception as e:  # recorded: tests assert there were none
        t.errors.append(repr(e))
    return t


def blast(port, sessions, per_session, sender, rcpts=("rcpt@example.net",), xclient=None,
          login=None):
    """`sessions` parallel sessions each sending `per_session` messages; one Tally.

    xclient may be a dict (same for all) or a callable(i) -> dict per session; so may
    sender be a string or a callable(i) -> str.
    """
    started = time.monotonic()
    total = Tally()
    with concurrent.futures.ThreadPoolExecutor(max_workers=sessions) as pool:
        futures = [pool.submit(run_session, port, per_session,
                               sender(i) if callable(sender) else sender, rcpts,
                               xclient(i) if callable(xclient) else xclient, login)
                   for i in range(sessions)]
        for f in futures:
            total.merge(f.result())
    total.seconds = time.monotonic() - started
    return total
