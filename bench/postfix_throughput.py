#!/usr/bin/env python3
"""Postfix end to end: delivered messages per second with and without floodgate.

Run through bench/postfix-throughput.sh (which checks the binaries, owns the work
directory and cleans up after this program whatever happens to it). Uses the e2e
harness (tests/e2e/harness.py) for a private Postfix instance (own config and queue
directories, loopback port, every daemon unchrooted), an smtp-sink relay, floodgate and
redis-server. Two floodgate daemons run side by side, one on an inet socket and one on a
unix socket; Postfix is switched between "no milter", "inet" and "unix" with
`postconf -c DIR -e smtpd_milters=...` and `postfix -c DIR reload`.

What is timed: from the start of `smtp-source` until smtp-sink has counted all N
messages of the run, i.e. accepted by smtpd (with the milter's checks), queued by
cleanup, scheduled by qmgr and delivered by smtp to the sink. That is the throughput a
site sees. Also shown: the rate at which smtp-source finished (SMTP acceptance only).
"""
import argparse
import contextlib
import grp
import json
import os
import re
import signal
import smtplib
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))

import harness  # noqa: E402  (tests/e2e/harness.py, used unchanged)
from harness import Floodgate, Postfix, RedisServer, free_port, wait_for  # noqa: E402

FG_CONFIGS = ("floodgate inet", "floodgate unix")
TARGET = 0.95
STALL_MS = 20.0  # added per-message time in one session that smells of delayed ACKs


def log(msg):
    print(f"[postfix-throughput] {msg}", file=sys.stderr, flush=True)


def record_pid(pid, name):
    """Tells the shell wrapper what to kill should this program die without cleaning up."""
    path = os.environ.get("PF_BENCH_PIDS")
    if path:
        with open(path, "a") as f:
            f.write(f"{pid} {name}\n")


class Sink(harness._Managed):
    """smtp-sink as Postfix's relay; a thread reads its running counter from a pipe.

    `wait_count(n)` returns the monotonic time at which the counter first reached n
    (taken when the line arrived, not when a poll noticed it).
    """

    def __init__(self):
        self.port = free_port()
        self.proc = None
        self._count = 0
        self._reached = []  # (target, event, [time])
        self._lock = threading.Lock()

    def start(self):
        self.proc = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", "-c", f"127.0.0.1:{self.port}", "1000"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
        record_pid(self.proc.pid, "smtp-sink")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        wait_for(lambda: self.proc.poll() is not None or harness.port_open(self.port), 10,
                 f"smtp-sink on port {self.port}")
        if self.proc.poll() is not None:
            raise RuntimeError("smtp-sink exited")

    def _read(self):
        rx = re.compile(rb"mesg=(\d+)")
        tail = b""
        while True:
            chunk = self.proc.stdout.read(65536)
            if not chunk:
                return
            now = time.monotonic()
            found = rx.findall(tail + chunk)
            tail = chunk[-64:]
            if not found:
                continue
            with self._lock:
                self._count = max(self._count, int(found[-1]))
                for target, event, when in self._reached:
                    if not event.is_set() and self._count >= target:
                        when.append(now)
                        event.set()

    def count(self):
        with self._lock:
            return self._count

    def wait_count(self, target, timeout):
        event, when = threading.Event(), []
        with self._lock:
            if self._count >= target:
                return time.monotonic()
            self._reached.append((target, event, when))
        if not event.wait(timeout):
            raise harness.WaitTimeout(
                f"smtp-sink counted {self.count()} of {target} messages after {timeout}s")
        return when[0]

    def close(self):
        if self.proc:
            harness._terminate(self.proc)


def cpu_ticks(pid):
    """utime + stime of a process in clock ticks (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


class NullMilter(harness._Managed):
    """bench/null_milter.c on a loopback port: libmilter answering CONTINUE, the ceiling."""

    def __init__(self, binary):
        self.bin = binary
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.bin, "-p", f"inet:{self.port}@127.0.0.1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        record_pid(self.proc.pid, "null-milter")
        wait_for(lambda: self.proc.poll() is not None or harness.port_open(self.port), 10,
                 f"null-milter on port {self.port}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"null-milter exited with {self.proc.returncode}")

    def close(self):
        if self.proc:
            harness._terminate(self.proc)


def metrics(port):
    """(decisions, fallback decisions, store errors, store check count, check latency sum)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {"decisions": 0.0, "fallback": 0.0, "errors": 0.0, "checks": 0.0, "check_s": 0.0}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        v = float(value)
        if name.startswith("floodgate_decisions_total"):
            out["decisions"] += v
        elif name.startswith("floodgate_fallback_decisions_total"):
            out["fallback"] += v
        elif name.startswith("floodgate_store_errors_total"):
            out["errors"] += v
        elif name.startswith("floodgate_store_latency_seconds_count") and 'op="check"' in name:
            out["checks"] += v
        elif name.startswith("floodgate_store_latency_seconds_sum") and 'op="check"' in name:
            out["check_s"] += v
    return out


FLOODGATE_TOML = """\
[milter]
socket = "{socket}"
umask = "0007"
timeout = 30

[store]
{store}

[metrics]
listen = "127.0.0.1:{metrics_port}"

# Limits no run reaches: every RCPT is a full check-and-charge that passes, for the
# client address and for the envelope sender (smtp-source does not authenticate, so an
# account limit would not apply).
[[limit]]
name = "bench_ip"
subject = "ip"
count = "recipients"
rate = ["1000000000/1d"]
action = "tempfail"

[[limit]]
name = "bench_sender"
subject = "sender"
count = "recipients"
rate = ["1000000000/1d"]
action = "tempfail"
"""


def floodgate_config(socket_spec, metrics_port, redis):
    if redis:
        store = 'backend = "redis"\nurl = "{redis_url}"\nkey_prefix = "{prefix}"'
    else:
        store = 'backend = "memory"\nadmin_socket = "{admin_socket}"'
    # Floodgate() fills {port}, {redis_url}, {prefix} and {admin_socket} with str.format.
    return FLOODGATE_TOML.replace("{socket}", socket_spec).replace(
        "{metrics_port}", str(metrics_port)).replace("{store}", store)


class Bench:
    def __init__(self, args, stack):
        self.args = args
        self.stack = stack
        self.work = os.environ.get("FLOODGATE_E2E_TMP", "/tmp")

    # --- setup
    def start(self):
        a = self.args
        self.redis = None
        if a.store == "redis":
            self.redis = self.stack.enter_context(RedisServer())
            record_pid(self.redis.proc.pid, "redis-server")
            log(f"redis-server on 127.0.0.1:{self.redis.port}")
        self.sink = self.stack.enter_context(Sink())
        log(f"smtp-sink on 127.0.0.1:{self.sink.port}")

        self.m_inet, self.m_unix = free_port(), free_port()
        self.fg_inet = self.stack.enter_context(Floodgate(
            floodgate_config("inet:{port}@127.0.0.1", self.m_inet, self.redis),
            redis=self.redis, prefix="fgpf:"))
        record_pid(self.fg_inet.proc.pid, "floodgate")
        # The unix socket lives in a directory of group postfix, set-gid, so the socket
        # gets group postfix and umask 0007 lets Postfix's smtpd (user postfix) in and
        # nobody else: what deploy/systemd/unix-socket.conf sets up.
        sock_dir = os.path.join(self.work, "fgsock")
        os.makedirs(sock_dir)
        os.chown(sock_dir, 0, grp.getgrnam("postfix").gr_gid)
        os.chmod(sock_dir, 0o2750)
        self.sock_path = os.path.join(sock_dir, "floodgate.sock")
        self.fg_unix = self.stack.enter_context(Floodgate(
            floodgate_config(f"unix:{self.sock_path}", self.m_unix, self.redis),
            redis=self.redis, prefix="fgpf:", ready=lambda: os.path.exists(self.sock_path)))
        record_pid(self.fg_unix.proc.pid, "floodgate")
        wait_for(lambda: metrics(self.m_inet) and metrics(self.m_unix), 10, "floodgate metrics")
        log(f"floodgate inet:{self.fg_inet.port}@127.0.0.1 and unix:{self.sock_path}"
            f" ({a.store} store)")

        self.null = None
        null_bin = os.environ.get("NULL_MILTER_BIN")
        if self.args.null_milter:
            if not null_bin or not os.access(null_bin, os.X_OK):
                raise RuntimeError("--null-milter: no DIR/tools/null-milter in the build dir")
            self.null = self.stack.enter_context(NullMilter(null_bin))
            log(f"null-milter inet:{self.null.port}@127.0.0.1")
        self.configs = ["no milter"] + (["null-milter inet"] if self.null else []) + list(FG_CONFIGS)
        # Postfix: the harness's instance; extra_main lines come last and win.
        self.pf = self.stack.enter_context(Postfix(
            milter_port=None, relay_port=self.sink.port,
            smtpd_process_limit=max(200, 2 * a.sessions), extra_main=a.extra_main))
        log(f"postfix -c {self.pf.config_dir} on 127.0.0.1:{self.pf.port}")
        self.expected = self.sink.count()
        self.current = None
        self.fg_messages = 0  # messages that went through floodgate (for Redis per message)

    # --- configuration switch
    def milters_value(self, config):
        return {"no milter": "",
                "null-milter inet": f"inet:127.0.0.1:{self.null.port}" if self.null else None,
                "floodgate inet": f"inet:127.0.0.1:{self.fg_inet.port}",
                "floodgate unix": f"unix:{self.sock_path}"}[config]

    def smtpd_pids(self):
        out = []
        for pid in harness._instance_pids(self.pf.config_dir):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[0].endswith(b"smtpd"):
                        out.append(pid)
            except OSError:
                pass
        return out

    def probe(self, config):
        """One message through smtpd; returns the decision counters it moved."""
        before = (metrics(self.m_inet)["decisions"], metrics(self.m_unix)["decisions"])
        with smtplib.SMTP("127.0.0.1", self.pf.port, timeout=30) as s:
            s.sendmail("probe@bench.test", ["probe@sink.test"], "Subject: probe\r\n\r\nprobe\r\n")
        self.expected += 1
        if config.startswith("floodgate"):
            self.fg_messages += 1
        self.sink.wait_count(self.expected, 60)
        after = (metrics(self.m_inet)["decisions"], metrics(self.m_unix)["decisions"])
        return after[0] - before[0], after[1] - before[1]

    def switch(self, config):
        if config == self.current:
            return
        env = self.pf.env
        value = self.milters_value(config)
        subprocess.run(["postconf", "-c", self.pf.config_dir, "-e", f"smtpd_milters = {value}"],
                       env=env, check=True, capture_output=True, timeout=30)
        got = subprocess.run(["postconf", "-c", self.pf.config_dir, "-h", "smtpd_milters"],
                             env=env, check=True, capture_output=True, text=True,
                             timeout=30).stdout.strip()
        if got != value:
            raise RuntimeError(f"postconf says smtpd_milters = {got!r}, wanted {value!r}")
        old = set(self.smtpd_pids())
        subprocess.run(["postfix", "-c", self.pf.config_dir, "reload"], env=env, check=True,
                       capture_output=True, timeout=30)
        # Idle smtpd processes of the old generation exit after a reload; a session on
        # one of them would still run the old milter setting. Wait until none is left.
        wait_for(lambda: not (old & set(self.smtpd_pids())), 30,
                 lambda: f"old smtpd processes {sorted(old & set(self.smtpd_pids()))} to exit")
        d_inet, d_unix = self.probe(config)
        # (null-milter: the probe passing at all shows smtpd reached it, for a milter
        # that cannot be reached makes Postfix tempfail with milter_default_action.)
        want = {"no milter": (False, False), "null-milter inet": (False, False),
                "floodgate inet": (True, False),
                "floodgate unix": (False, True)}[config]
        if (d_inet > 0, d_unix > 0) != want:
            raise RuntimeError(f"after switching to {config!r} a probe message moved floodgate "
                               f"decisions inet +{d_inet:g}, unix +{d_unix:g}")
        self.current = config
        # Warm-up: let Postfix spawn its smtpd/cleanup/smtp processes for this setting.
        self.run(self.args.sessions, 2 * self.args.sessions, warmup=True)

    # --- one measurement
    def run(self, sessions, messages, warmup=False):
        a = self.args
        cmd = ["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(a.size),
               "-f", "bench@sender.test", "-t", "rcpt@sink.test", "-M", "client.bench.test"]
        if not a.connect_per_message:
            cmd.append("-d")
        cmd.append(f"127.0.0.1:{self.pf.port}")
        wait_for(lambda: self.sink.count() >= self.expected, 60, "earlier mail to reach the sink")
        if self.sink.count() != self.expected:
            raise RuntimeError(f"sink counted {self.sink.count()}, expected {self.expected}")
        target = self.expected + messages
        pids = self.cpu_pids()
        cpu0 = {k: cpu_ticks(p) for k, p in pids.items()}
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        record_pid(proc.pid, "smtp-source")
        _, err = proc.communicate(timeout=a.timeout)
        t_source = time.monotonic()
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err.decode()[-2000:]}")
        t_sink = self.sink.wait_count(target, a.timeout)
        self.expected = target
        if self.current.startswith("floodgate"):
            self.fg_messages += messages
        if warmup:
            return None
        hz = os.sysconf("SC_CLK_TCK")
        cpu = {k: (cpu_ticks(p) - cpu0[k]) / hz for k, p in pids.items()}
        return {"delivered": messages / (t_sink - t0), "accepted": messages / (t_source - t0),
                "seconds": t_sink - t0, "messages": messages, "cpu": cpu,
                "loadavg": os.getloadavg()[0]}

    def cpu_pids(self):
        """Processes whose CPU time a run charges to its configuration."""
        pids = {"floodgate inet": self.fg_inet.proc.pid, "floodgate unix": self.fg_unix.proc.pid}
        if self.null:
            pids["null-milter inet"] = self.null.proc.pid
        if self.redis:
            pids["redis"] = self.redis.proc.pid
        return pids

    def queue_empty(self):
        return not self.pf.queue()


def fmt_rate(v):
    return f"{v:,.0f}"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=3000, help="messages per run with --sessions")
    p.add_argument("--single-messages", type=int, default=0,
                   help="messages per one-session run (default: min(messages, 600))")
    p.add_argument("--sessions", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--store", choices=("memory", "redis"), default="memory")
    p.add_argument("--size", type=int, default=1000, help="body bytes per message (smtp-source -l)")
    p.add_argument("--connect-per-message", action="store_true",
                   help="one SMTP connection per message (default: smtp-source -d, each "
                        "session sends its messages over one connection)")
    p.add_argument("--null-milter", action="store_true",
                   help="add a row for null-milter over inet ($NULL_MILTER_BIN), libmilter "
                        "doing nothing with the protocol steps bench/null_milter.c negotiates")
    p.add_argument("--timeout", type=float, default=300, help="seconds one run may take")
    p.add_argument("--extra-main", default="", help="more main.cf lines for the instance")
    p.add_argument("--json", help="also write the raw results to this file")
    a = p.parse_args()
    a.extra_main = a.extra_main.replace("\\n", "\n")
    single = a.single_messages or min(a.messages, 600)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    with contextlib.ExitStack() as stack:
        b = Bench(a, stack)
        b.start()
        configs = b.configs
        results = {(c, n): [] for c in configs for n in (a.sessions, 1)}
        fg_before = {"inet": metrics(b.m_inet), "unix": metrics(b.m_unix)}
        if b.redis:
            b.redis.command("CONFIG", "RESETSTAT")
        b.fg_messages = 0
        started = time.monotonic()
        for r in range(a.rounds):
            # Rotate the order each round so no configuration always runs first or last.
            k = r % len(configs)
            for config in configs[k:] + configs[:k]:
                b.switch(config)
                for n, m in ((a.sessions, a.messages), (1, single)):
                    res = b.run(n, m)
                    results[(config, n)].append(res)
                    log(f"round {r + 1}/{a.rounds} {config:16} {n:3} sessions: "
                        f"{res['delivered']:7.1f} delivered/s ({res['accepted']:7.1f} accepted/s,"
                        f" {m} messages in {res['seconds']:.2f}s, load {res['loadavg']:.1f})")
        elapsed = time.monotonic() - started
        wait_for(b.queue_empty, 60, "the Postfix queue to drain")
        fg_after = {"inet": metrics(b.m_inet), "unix": metrics(b.m_unix)}
        redis_stats = b.redis.command("INFO", "commandstats") if b.redis else None
        report(a, single, configs, results, elapsed, fg_before, fg_after, b.fg_messages,
               redis_stats)
        if a.json:
            with open(a.json, "w") as f:
                json.dump({f"{c}|{n}": v for (c, n), v in results.items()}, f, indent=1)
    return 0


def report(a, single, configs, results, elapsed, fg_before, fg_after, fg_messages, redis_stats):
    conn = ("one SMTP connection per message" if a.connect_per_message
            else "one SMTP connection per session (smtp-source -d)")
    loads = [x["loadavg"] for xs in results.values() for x in xs]
    print()
    print(f"Postfix end to end: {a.messages} messages with {a.sessions} sessions, {single} with 1;"
          f" {a.rounds} rounds; {a.size}-byte body, 1 recipient; {conn}; floodgate {a.store}"
          f" store, limits ip + sender 1000000000/1d; {elapsed:.0f} s of runs, load average"
          f" {min(loads):.1f}..{max(loads):.1f}.")
    print("msgs/s = messages / (smtp-source start -> smtp-sink counted the last one); median of"
          " rounds (min..max). ratio = median / median of no milter.")
    print()
    redis = a.store == "redis"
    print("| configuration | sessions | delivered msgs/s (min..max) | ratio | >= 0.95 "
          "| accepted msgs/s | ms/msg/session | milter CPU us/msg |"
          + (" redis CPU us/msg |" if redis else ""))
    print("|---|---|---|---|---|---|---|---|" + ("---|" if redis else ""))
    stalls = []
    for n in (a.sessions, 1):
        base = statistics.median(x["delivered"] for x in results[("no milter", n)])
        for c in configs:
            xs = results[(c, n)]
            med = statistics.median(x["delivered"] for x in xs)
            lo, hi = min(x["delivered"] for x in xs), max(x["delivered"] for x in xs)
            acc = statistics.median(x["accepted"] for x in xs)
            ratio = med / base
            ok = {"no milter": "", "null-milter inet": "(ref)"}.get(
                c, "yes" if ratio >= TARGET else "NO")
            ms = 1000.0 * n / med
            msgs = sum(x["messages"] for x in xs)
            cpu = "" if c == "no milter" else \
                f"{1e6 * sum(x['cpu'].get(c, 0) for x in xs) / msgs:.0f}"
            row = (f"| {c} | {n} | {fmt_rate(med)} ({fmt_rate(lo)}..{fmt_rate(hi)}) | "
                   f"{ratio:.2f} | {ok} | {fmt_rate(acc)} | {ms:.2f} | {cpu} |")
            if redis:
                rcpu = 1e6 * sum(x['cpu'].get('redis', 0) for x in xs) / msgs
                row += f" {rcpu:.0f} |" if c.startswith("floodgate") else " |"
            print(row)
            if n == 1 and c != "no milter" and ms - 1000.0 / base >= STALL_MS:
                stalls.append(f"{c}: {ms:.1f} ms/msg vs {1000.0 / base:.1f} without milter")
    print()
    print("ms/msg/session = 1000 * sessions / msgs/s. CPU us/msg: the milter's (and"
          " redis-server's) user+system CPU over all rounds of that row / its messages.")
    if stalls:
        print(f"STALL: one session pays >= {STALL_MS:.0f} ms more per message with a milter "
              "(delayed ACK?): " + "; ".join(stalls))
    if not any(x.startswith("floodgate") for x in stalls):
        print(f"No single-session stall: floodgate adds < {STALL_MS:.0f} ms per message to one"
              " session (a delayed-ACK stall would add ~40 ms).")
    for name in ("inet", "unix"):
        d = {k: fg_after[name][k] - fg_before[name][k] for k in fg_after[name]}
        extra = ""
        if redis and d["checks"]:
            extra = (f", {d['checks']:.0f} store checks, mean {1e6 * d['check_s'] / d['checks']:.0f}"
                     f" us; store errors {d['errors']:.0f}, fallback decisions {d['fallback']:.0f}")
        print(f"floodgate {name}: {d['decisions']:.0f} decisions{extra}")
    if redis_stats is not None and fg_messages:
        calls = {}
        for line in redis_stats.splitlines():
            m = re.match(r"cmdstat_(\S+?):calls=(\d+)", line)
            if m:
                calls[m.group(1)] = int(m.group(2))
        print(f"Redis per message through floodgate ({fg_messages} incl. warm-ups and probes): "
              + ", ".join(f"{k} {v / fg_messages:.2f}" for k, v in sorted(calls.items())
                          if k != "info" and k != "config|resetstat"))
        print("(evalsha/eval are the network round trips; the rest run inside the Lua scripts.)")




if __name__ == "__main__":
    sys.exit(main())
