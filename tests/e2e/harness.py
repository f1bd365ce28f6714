"""End-to-end harness: a real Postfix, a real redis-server and the real floodgate daemon.

Every piece is a context manager that owns a private temporary directory and unique
loopback ports, and tears everything it started down again even when a test fails.
Nothing here sleeps to synchronise: each wait polls a condition (a port answers, a log
line appears, the queue drains) until a deadline and then fails with a message that
says what was awaited. The facts the Postfix fixture relies on are in
/work/shared/POSTFIX-TESTING.md (private config_directory, unchrooted services unless a
test asks for chroot, maillog_file + postlog, alternate_config_directories for
`sendmail -C`, XCLIENT).

Needs root, Debian 12 packages postfix, sasl2-bin, redis-server, prometheus (for
Prometheus; deploy/install-deps.sh --test) and, for Floodgate, $FLOODGATE_BIN pointing at
the built daemon.
"""
import contextlib
import fcntl
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_TIMEOUT = 30.0
KEEP_ENV = "FLOODGATE_E2E_KEEP"  # set to 1 to keep instance dirs for debugging
_TMP_ROOT = os.environ.get("FLOODGATE_E2E_TMP", "/tmp")


class WaitTimeout(AssertionError):
    """A polled condition did not become true before its deadline."""


def wait_for(predicate, timeout=DEFAULT_TIMEOUT, what="condition", interval=0.02):
    """Polls predicate() until it returns a truthy value, which is returned.

    Raises WaitTimeout naming `what` (a string, or a callable giving extra detail at
    failure time) when `timeout` seconds pass first. The poll interval grows gently
    to 0.2 s so long waits do not burn a core the system under test needs.
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # a predicate may fail while a service comes up
            last_error = e
        if time.monotonic() >= deadline:
            detail = what() if callable(what) else what
            extra = f" (last error: {last_error!r})" if last_error else ""
            raise WaitTimeout(f"timed out after {timeout:.1f}s waiting for {detail}{extra}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)


_port_lock = threading.Lock()
_ports_given = set()


def build_path(*parts):
    """A file of the build tree: $FLOODGATE_BUILD, or the build dir around $FLOODGATE_BIN."""
    build = os.environ.get("FLOODGATE_BUILD")
    if not build:  # run by hand: next to the daemon's build dir
        build = os.path.dirname(os.path.dirname(os.environ.get("FLOODGATE_BIN", "")))
    return os.path.join(build, *parts)


def free_port():
    """A loopback TCP port nobody listens on, never handed out twice in this process."""
    with _port_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _ports_given:
                _ports_given.add(port)
                return port
    raise RuntimeError("no free loopback port")


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def smtp_banner(port, host="127.0.0.1"):
    """True once an SMTP server on port sends its 220 greeting."""
    with socket.create_connection((host, port), timeout=2) as s:
        s.settimeout(5)
        data = s.recv(512)
        with contextlib.suppress(OSError):
            s.sendall(b"QUIT\r\n")
        return data.startswith(b"220")


def make_tempdir(kind):
    d = tempfile.mkdtemp(prefix=f"fg-e2e-{kind}-", dir=_TMP_ROOT)
    os.chmod(d, 0o755)  # Postfix daemons and smtp-sink run as user postfix
    return d


def remove_tempdir(d):
    if os.environ.get(KEEP_ENV) == "1":
        print(f"[harness] kept {d}")
        return
    shutil.rmtree(d, ignore_errors=True)


def _terminate(proc, timeout=10.0):
    """SIGTERM a child we started, SIGKILL it if it does not exit in time."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(5)


class _Managed:
    """Context-manager plumbing: __enter__ calls start(), __exit__ calls close()."""

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---------------------------------------------------------------------------- redis


class RedisServer(_Managed):
    """A private redis-server on a free loopback port, no persistence.

    `port` reuses a given port instead (a restart on the port of a killed server).
    """

    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = None
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.dir = make_tempdir("redis")
        self._log = open(os.path.join(self.dir, "redis.log"), "wb")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=self._log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.proc.poll() is not None or self.command("PING") == "PONG",
                 10, f"redis-server on port {self.port}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.proc.returncode}: "
                               + open(os.path.join(self.dir, "redis.log")).read())

    def command(self, *args):
        """Sends one command over RESP and returns the decoded reply (minimal client)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            out = f"*{len(args)}\r\n".encode()
            for a in args:
                b = str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(b), b)
            s.sendall(out)
            f = s.makefile("rb")
            return _read_resp(f)

    def kill(self):
        """SIGKILL (a crash: no shutdown, sockets reset by the kernel) and reap it."""
        self.proc.kill()
        self.proc.wait(10)

    def close(self):
        if self.proc:
            _terminate(self.proc)
        if getattr(self, "_log", None):
            self._log.close()
        if self.dir:
            remove_tempdir(self.dir)


def _read_resp(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_resp(f) for _ in range(n)]
    raise RuntimeError(f"bad RESP line {line!r}")


# ---------------------------------------------------------------------------- smtp-sink


class SmtpSink(_Managed):
    """Postfix's smtp-sink as the relay host: accepts every message, counts them.

    `-c` prints running counters on stdout; `delivered()` reads the latest message
    count from there. Leave the sink out of a Postfix instance to keep mail queued.
    """

    def __init__(self):
        self.port = free_port()
        self.dir = None
        self.proc = None

    def start(self):
        self.dir = make_tempdir("sink")
        self._out_path = os.path.join(self.dir, "sink.out")
        self._out = open(self._out_path, "wb")
        self.proc = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", "-c", f"127.0.0.1:{self.port}", "1000"],
            stdout=self._out, stderr=subprocess.STDOUT)
        wait_for(lambda: self.proc.poll() is not None or port_open(self.port), 10,
                 f"smtp-sink on port {self.port}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"smtp-sink exited: {open(self._out_path).read()}")

    def delivered(self):
        """Messages received so far (the sink's last printed message counter)."""
        with open(self._out_path, "rb") as f:
            text = f.read().decode(errors="replace")
        # Counter updates look like "sess=2 quit=2 mesg=2", separated by \r.
        counts = re.findall(r"mesg=(\d+)", text)
        return int(counts[-1]) if counts else 0

    def close(self):
        if self.proc:
            _terminate(self.proc)
        if getattr(self, "_out", None):
            self._out.close()
        if self.dir:
            remove_tempdir(self.dir)


# ---------------------------------------------------------------------------- floodgate


class Floodgate(_Managed):
    """The floodgate daemon under test, with `config_text` (TOML) as its config.

    The text may use {port}, {redis_url}, {prefix}, {admin_socket} and {state_dir}
    placeholders (str.format); {port} is the milter port chosen here, {admin_socket} a
    private path for the memory store's admin socket (floodgatectl), {state_dir} a private
    store.state_dir that stays across restart() and goes with close(). Runs
    `$FLOODGATE_BIN -f -e -c FILE` with stderr captured to a file (appended to by every
    start) so tests can read the alert lines without syslog.
    """

    _instances = 0

    def __init__(self, config_text, redis=None, prefix=None, ready=None):
        """`ready`: a predicate for "the milter socket is up" (default: {port} accepts)."""
        self.ready = ready
        self.port = free_port()
        Floodgate._instances += 1
        self.prefix = prefix or f"fge2e{os.getpid()}x{Floodgate._instances}:"
        # Its directory is created by floodgate (and removed by close()).
        self.admin_dir = os.path.join(_TMP_ROOT or tempfile.gettempdir(),
                                      f"fg-e2e-admin-{os.getpid()}-{Floodgate._instances}")
        self.admin_socket = os.path.join(self.admin_dir, "admin.sock")
        self.state_dir = os.path.join(_TMP_ROOT or tempfile.gettempdir(),
                                      f"fg-e2e-state-{os.getpid()}-{Floodgate._instances}")
        self.config_text = config_text.format(
            port=self.port, redis_url=redis.url if redis else "", prefix=self.prefix,
            admin_socket=self.admin_socket, state_dir=self.state_dir)
        self.bin = os.environ.get("FLOODGATE_BIN")
        self.dir = None
        self.proc = None

    def start(self):
        if not self.bin or not os.access(self.bin, os.X_OK):
            raise RuntimeError(f"FLOODGATE_BIN is not an executable: {self.bin!r}")
        if self.dir is None:
            self.dir = make_tempdir("floodgate")
        self.config_path = os.path.join(self.dir, "floodgate.toml")
        with open(self.config_path, "w") as f:
            f.write(self.config_text)
        self.log_path = os.path.join(self.dir, "floodgate.stderr")
        if getattr(self, "_err", None):
            self._err.close()
        self._err = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.bin, "-f", "-e", "-c", self.config_path],
                                     stdout=self._err, stderr=subprocess.STDOUT)
        ready = self.ready or (lambda: port_open(self.port))
        wait_for(lambda: self.proc.poll() is not None or ready(), 15,
                 lambda: f"floodgate milter port {self.port}; log:\n{self.log_text()}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"floodgate exited with {self.proc.returncode}:\n"
                               f"{self.log_text()}\nconfig:\n{self.config_text}")

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_lines(self, pattern=None):
        """The daemon's log lines so far, optionally only those matching regex `pattern`."""
        lines = self.log_text().splitlines()
        if pattern is None:
            return lines
        rx = re.compile(pattern)
        return [l for l in lines if rx.search(l)]

    def wait_log(self, pattern, timeout=DEFAULT_TIMEOUT, count=1):
        return wait_for(lambda: len(self.log_lines(pattern)) >= count and self.log_lines(pattern),
                        timeout, lambda: f"{count} floodgate log line(s) /{pattern}/; log:\n"
                        + self.log_text()[-3000:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return None
        return _terminate(self.proc, 15)

    def kill(self):
        """SIGKILL (a crash: nothing runs on the way out) and wait; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.kill()
        return self.proc.wait(10)

    def restart(self, kill=False):
        """Stops the daemon (SIGTERM, or SIGKILL with kill=True) and starts it again with
        the same config, port and state_dir; returns the exit code of the stop."""
        rc = self.kill() if kill else self.stop()
        self.start()
        return rc

    def close(self):
        """Stops the daemon; fails when it did not exit cleanly on SIGTERM or when a
        sanitizer (ASan/UBSan build as FLOODGATE_BIN) reported anything."""
        rc = self.stop()
        if getattr(self, "_err", None):
            self._err.close()
        problems = []
        # 0 is a graceful stop; -SIGTERM (died of the signal) is checked by
        # test_lifecycle alone so it does not mask every scenario; anything else
        # (a crash, an abort, an error exit) fails whichever test saw it.
        if rc not in (None, 0, -signal.SIGTERM):
            problems.append(f"exit status {rc} after SIGTERM")
        if self.log_lines(r"ERROR: (Address|Leak)Sanitizer|runtime error: |WARNING: ThreadSanitizer"):
            problems.append("sanitizer report")
        log_tail = self.log_text()[-4000:]
        if self.dir:
            remove_tempdir(self.dir)
        shutil.rmtree(self.admin_dir, ignore_errors=True)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        if problems:
            raise AssertionError(f"floodgate on port {self.port}: {', '.join(problems)}; log:\n"
                                 + log_tail)


# ---------------------------------------------------------------------------- prometheus


class Prometheus(_Managed):
    """A private prometheus scraping `targets` (host:port) as job "floodgate" every
    second and evaluating `rule_files` every second, its TSDB in its own directory."""

    def __init__(self, targets, rule_files):
        self.targets, self.rule_files = targets, rule_files
        self.port = free_port()
        self.dir = None
        self.proc = None

    def start(self):
        binary = shutil.which("prometheus")
        if not binary:
            raise RuntimeError("prometheus is not installed (deploy/install-deps.sh --test)")
        self.dir = make_tempdir("prometheus")
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s",
                             "scrape_timeout": "1s"},
                  "rule_files": self.rule_files,
                  "scrape_configs": [{"job_name": "floodgate",
                                      "static_configs": [{"targets": self.targets}]}]}
        config_path = os.path.join(self.dir, "prometheus.yml")
        with open(config_path, "w") as f:
            json.dump(config, f)  # JSON is YAML
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={config_path}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir)
        wait_for(lambda: self.proc.poll() is not None or self.ready(), 30,
                 lambda: f"prometheus ready on port {self.port}; log:\n{self.log_text()}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n"
                               f"{self.log_text()}")

    def ready(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
            return r.status == 200

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def api(self, path, **params):
        """GET /api/v1/PATH: the `data` of a successful answer (else AssertionError)."""
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:  # 400 for a bad query, with the error in JSON
            body = json.load(e)
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr):
        """The instant vector (or scalar) `expr` gives now; raises on a query error."""
        data = self.api("query", query=expr)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def rules(self):
        """{rule name: rule} of every loaded rule, as /api/v1/rules describes it."""
        return {r["name"]: r for g in self.api("rules")["groups"] for r in g["rules"]}

    def close(self):
        if self.proc:
            _terminate(self.proc)
        if getattr(self, "_log", None):
            self._log.close()
        if self.dir:
            remove_tempdir(self.dir)


# ---------------------------------------------------------------------------- postfix

_DEFAULT_MAIN_CF = "/etc/postfix/main.cf"
_ALT_LOCK = "/etc/postfix/.floodgate-e2e.lock"


@contextlib.contextmanager
def _locked(path):
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _edit_alternate_dirs(add=None, remove=None):
    """Adds/removes a directory in alternate_config_directories of the default main.cf.

    `sendmail -C DIR` and the set-gid postqueue only honour DIR when it is listed
    there. The file is created when the package was installed with "No
    configuration"; other lines are left untouched.
    """
    with _locked(_ALT_LOCK):
        lines = []
        if os.path.exists(_DEFAULT_MAIN_CF):
            with open(_DEFAULT_MAIN_CF) as f:
                lines = f.read().splitlines()
        elif add is None:
            return
        else:
            lines = ["# created by floodgate's e2e tests (tests/e2e/harness.py)",
                     "compatibility_level = 3.6"]
        rx = re.compile(r"^\s*alternate_config_directories\s*=(.*)$")
        dirs, kept = [], []
        for l in lines:
            m = rx.match(l)
            if m:
                dirs += m.group(1).replace(",", " ").split()
            else:
                kept.append(l)
        if add and add not in dirs:
            dirs.append(add)
        if remove:
            dirs = [d for d in dirs if d != remove]
        # Forget directories of earlier runs that no longer exist.
        dirs = [d for d in dirs if os.path.isdir(d) or d == add]
        if dirs:
            kept.append("alternate_config_directories = " + " ".join(dirs))
        tmp = _DEFAULT_MAIN_CF + ".fg-e2e.tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(kept) + "\n")
        os.replace(tmp, _DEFAULT_MAIN_CF)


def _instance_pids(config_dir):
    """Pids of processes whose environment says MAIL_CONFIG=config_dir (our instance)."""
    needle = b"MAIL_CONFIG=" + config_dir.encode() + b"\0"
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read() + b"\0"
        except OSError:
            continue
        if needle in env:
            pids.append(int(name))
    return pids


class Postfix(_Managed):
    """A private Postfix instance listening on 127.0.0.1:PORT.

    milter_port: floodgate's port (smtpd_milters and non_smtpd_milters), or None.
    relay_port: an SmtpSink's port as relayhost, or None (mail then stays queued;
                the relayhost points at a closed port).
    sasl_users: {"user@domain": "password"} creates those Cyrus sasldb users in
                /etc/sasldb2 (the unchrooted Debian smtpd reads that file) for
                real SMTP AUTH; they are deleted again at close(). SASL is always
                enabled: Postfix counts XCLIENT LOGIN as authenticated only then.
    extra_main: additional main.cf lines.
    smtpd_process_limit: the smtpd service's maxproc in master.cf (concurrent sessions).
    milter: a Postfix milter address for smtpd_milters and non_smtpd_milters instead of
            inet:127.0.0.1:milter_port, e.g. "unix:floodgate/floodgate.sock";
            "{queue_dir}" in it is replaced by the instance's queue directory.
    chroot: master.cf commands (e.g. "smtpd", "cleanup") to run chrooted in the queue
            directory, as Debian's master.cf does; start() then copies into the chroot
            what those daemons read there (see _prepare_chroot). Every other service
            stays unchrooted.
    relay_domains: the site's own mail domains (e.g. "example.org"): `port` then acts as
            an MX and accepts mail for them from any client (permit_auth_destination);
            it is relayed to relay_port like all other mail.
    submission: also listen on `submission_port` as deploy/postfix/master.cf.snippet's
            submission service does (without TLS): SASL AUTH required to send anything,
            milter_macro_daemon_name=ORIGINATING.
    mynetworks: Postfix's trusted clients (may relay without AUTH on `port`).
    """

    def __init__(self, milter_port=None, relay_port=None, sasl_users=None, extra_main="",
                 smtpd_process_limit=200, milter=None, chroot=(), relay_domains="",
                 submission=False, mynetworks="127.0.0.0/8"):
        self.port = free_port()
        self.submission_port = free_port() if submission else None
        self.relay_domains = relay_domains
        self.mynetworks = mynetworks
        self.milter_port = milter_port
        self.milter = milter
        self.chroot = frozenset(chroot)
        self.relay_port = relay_port if relay_port is not None else free_port()
        self.sasl_users = dict(sasl_users or {})
        self.extra_main = extra_main
        self.smtpd_process_limit = smtpd_process_limit
        self.dir = None
        self._started = False

    # --- layout
    @property
    def config_dir(self):
        return os.path.join(self.dir, "etc")

    @property
    def queue_dir(self):
        return os.path.join(self.dir, "queue")

    @property
    def maillog_path(self):
        return os.path.join(self.dir, "maillog")

    @property
    def env(self):
        e = dict(os.environ)
        e["MAIL_CONFIG"] = self.config_dir
        return e

    def _main_cf(self):
        d = self.dir
        milters = f"inet:127.0.0.1:{self.milter_port}" if self.milter_port else ""
        if self.milter:
            milters = self.milter.replace("{queue_dir}", self.queue_dir)
        lines = [
            "compatibility_level = 3.6",
            f"queue_directory = {self.queue_dir}",
            f"data_directory = {d}/data",
            f"maillog_file = {self.maillog_path}",
            f"maillog_file_prefixes = {d}",
            f"syslog_name = postfix-fge2e-{os.path.basename(d)}",
            "myhostname = mx.floodgate-e2e.test",
            "mydomain = floodgate-e2e.test",
            "myorigin = $myhostname",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mydestination =",
            "local_recipient_maps =",
            f"mynetworks = {self.mynetworks}",
            f"relay_domains = {self.relay_domains}",
            f"relayhost = [127.0.0.1]:{self.relay_port}",
            "smtpd_authorized_xclient_hosts = 127.0.0.0/8",
            "smtpd_relay_restrictions = permit_sasl_authenticated, permit_mynetworks, "
            + ("permit_auth_destination, " if self.relay_domains else "") + "reject",
            "smtpd_recipient_restrictions =",
            # Burst tests measure floodgate, not Postfix's own brakes.
            "smtpd_client_connection_count_limit = 0",
            "smtpd_client_connection_rate_limit = 0",
            "smtpd_client_message_rate_limit = 0",
            "smtpd_client_recipient_rate_limit = 0",
            "smtpd_client_new_tls_session_rate_limit = 0",
            "smtpd_client_auth_rate_limit = 0",
            "smtpd_soft_error_limit = 10000",
            "smtpd_hard_error_limit = 20000",
            "smtpd_junk_command_limit = 100000",
            "smtpd_recipient_limit = 1000",
            "smtpd_error_sleep_time = 0",
            "smtpd_peername_lookup = no",
            # Keep deferred mail on the queue quietly and retry soon when a sink appears.
            "queue_run_delay = 1s",
            "minimal_backoff_time = 1s",
            "maximal_backoff_time = 2s",
            "smtp_connect_timeout = 2s",
            "default_destination_concurrency_limit = 8",
            "biff = no",
            "append_dot_mydomain = no",
            "readme_directory = no",
            f"smtpd_milters = {milters}",
            f"non_smtpd_milters = {milters}",
            "milter_default_action = tempfail",
            "milter_protocol = 6",
        ]
        # permit_sasl_authenticated honours XCLIENT LOGIN only with SASL enabled, so
        # it is always on (Cyrus, sasldb); real logins need users in /etc/sasldb2.
        lines += [
            "smtpd_sasl_auth_enable = yes",
            "smtpd_sasl_type = cyrus",
            "smtpd_sasl_path = smtpd",
            f"cyrus_sasl_config_path = {d}/sasl",
            "smtpd_sasl_security_options = noanonymous",
            "smtpd_tls_auth_only = no",
        ]
        return "\n".join(lines) + "\n" + self.extra_main + "\n"

    def _master_cf(self):
        """Debian's master.cf, unchrooted (but for `chroot`), smtpd on our port, cleanup
        marks sendmail mail."""
        out = []
        with open("/etc/postfix/master.cf") as f:
            for line in f.read().splitlines():
                fields = line.split()
                if not line or line[0] in "# \t" or len(fields) < 8:
                    out.append(line)
                    continue
                if fields[0] == "smtp" and fields[1] == "inet":
                    chroot = "y" if "smtpd" in self.chroot else "n"
                    out.append(f"127.0.0.1:{self.port} inet n - {chroot} - "
                               f"{self.smtpd_process_limit} smtpd")
                    if self.submission_port:
                        out += [f"127.0.0.1:{self.submission_port} inet n - {chroot} - "
                                f"{self.smtpd_process_limit} smtpd",
                                "  -o smtpd_sasl_auth_enable=yes",
                                "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject",
                                "  -o milter_macro_daemon_name=ORIGINATING"]
                    continue
                # No chroot unless asked: our queue dir has no etc/ copies otherwise.
                fields[4] = "y" if fields[7] in self.chroot else "n"
                out.append("  ".join(fields))
                if fields[0] == "cleanup" and fields[1] == "unix":
                    out.append("  -o milter_macro_daemon_name=LOCAL")
        text = "\n".join(out) + "\n"
        if not re.search(r"^postlog\s+unix-dgram", text, re.M):
            text += "postlog   unix-dgram n  -       n       -       1       postlogd\n"
        return text

    def start(self):
        self.dir = make_tempdir("postfix")
        os.makedirs(self.config_dir)
        os.makedirs(self.queue_dir)
        os.makedirs(os.path.join(self.dir, "data"))
        pw = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.dir, "data"), pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            f.write(self._main_cf())
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write(self._master_cf())
        self._setup_sasl()
        if self.chroot:
            self._prepare_chroot()
        _edit_alternate_dirs(add=self.config_dir)
        self._started = True
        r = subprocess.run(["postfix", "-c", self.config_dir, "start"], env=self.env,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"postfix start failed ({r.returncode}): {r.stdout}{r.stderr}\n"
                               f"maillog:\n{self.maillog()}")
        for port in filter(None, (self.port, self.submission_port)):
            wait_for(lambda: smtp_banner(port), 20,
                     lambda: f"postfix smtpd on port {port}; maillog:\n{self.maillog()[-3000:]}")

    def _prepare_chroot(self):
        """The files chrooted smtpd and cleanup read inside the queue directory here.

        Debian's /usr/lib/postfix/configure-instance.sh copies etc/localtime, services,
        resolv.conf, hosts, host.conf, nsswitch.conf and the nss/resolv libraries into
        the chroot: those serve DNS and name lookups, which this instance never makes
        (loopback only, smtpd_peername_lookup = no, relayhost an address). Traced with
        strace, the only file the chrooted smtpd and cleanup miss here is /etc/localtime
        (the time zone of Received: and Date: stamps), so only that is copied.
        """
        etc = os.path.join(self.queue_dir, "etc")
        os.makedirs(etc, exist_ok=True)
        if os.path.exists("/etc/localtime"):
            shutil.copyfile("/etc/localtime", os.path.join(etc, "localtime"))  # follows the link
            os.chmod(os.path.join(etc, "localtime"), 0o644)

    def processes(self, command=None):
        """[(pid, command, root directory)] of this instance's processes (optionally only
        those named `command`, e.g. "smtpd"); the root is the chroot, "/" when none."""
        out = []
        for pid in _instance_pids(self.config_dir):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
                root = os.readlink(f"/proc/{pid}/root")
            except OSError:  # exited meanwhile
                continue
            if command is None or comm == command:
                out.append((pid, comm, root))
        return out

    def _setup_sasl(self):
        os.makedirs(os.path.join(self.dir, "sasl"))
        with open(os.path.join(self.dir, "sasl", "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n")
        for login, password in self.sasl_users.items():
            user, domain = login.split("@", 1)
            subprocess.run(["saslpasswd2", "-p", "-c", "-f", "/etc/sasldb2", "-u", domain, user],
                           input=password, text=True, check=True, timeout=30)
        if self.sasl_users:
            os.chown("/etc/sasldb2", pwd.getpwnam("postfix").pw_uid, -1)

    def maillog(self):
        try:
            with open(self.maillog_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def maillog_lines(self, pattern):
        rx = re.compile(pattern)
        return [l for l in self.maillog().splitlines() if rx.search(l)]

    def queue(self):
        """Entries of `postqueue -j` (every queue, maildrop included)."""
        r = subprocess.run(["postqueue", "-j"], env=self.env, capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"postqueue -j failed: {r.stderr}")
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]

    def queue_ids(self):
        return [e["queue_id"] for e in self.queue()]

    def maildrop_files(self):
        d = os.path.join(self.queue_dir, "maildrop")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def flush(self):
        subprocess.run(["postqueue", "-f"], env=self.env, capture_output=True, timeout=30)

    def wait_queue_empty(self, timeout=60):
        wait_for(lambda: not self.queue() and not self.maildrop_files(), timeout,
                 lambda: f"empty queue of {self.config_dir}: {self.queue()}")

    def sent_count(self):
        """Deliveries the maillog reports as status=sent."""
        return len(self.maillog_lines(r" status=sent "))

    def sendmail(self, sender, rcpts, body="Subject: e2e\n\nhello\n", timeout=30):
        """Submits through /usr/sbin/sendmail -C DIR (postdrop -> pickup -> cleanup)."""
        r = subprocess.run(["sendmail", "-C", self.config_dir, "-f", sender, *rcpts],
                           input=body, text=True, capture_output=True, env=self.env,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"sendmail failed ({r.returncode}): {r.stderr}")

    def close(self):
        if self._started:
            subprocess.run(["postfix", "-c", self.config_dir, "stop"], env=self.env,
                           capture_output=True, timeout=60)
            # postfix stop returns once master is gone; children follow. Make sure
            # nothing of this instance survives (by pid, only our own processes).
            try:
                wait_for(lambda: not _instance_pids(self.config_dir), 10,
                         f"postfix processes of {self.config_dir} to exit")
            except WaitTimeout:
                for pid in _instance_pids(self.config_dir):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            for login in self.sasl_users:
                user, domain = login.split("@", 1)
                subprocess.run(["saslpasswd2", "-d", "-f", "/etc/sasldb2", "-u", domain, user],
                               capture_output=True, timeout=30)
        if self.dir:
            _edit_alternate_dirs(remove=self.config_dir)
            remove_tempdir(self.dir)


# ---------------------------------------------------------------------------- config


def build_path(*parts):
    """A file of the build tree: $FLOODGATE_BUILD, or (run by hand) the build dir of
    $FLOODGATE_BIN, e.g. build_path("tools", "ctl", "floodgatectl")."""
    build = os.environ.get("FLOODGATE_BUILD")
    if not build:
        build = os.path.dirname(os.path.dirname(os.environ.get("FLOODGATE_BIN", "")))
    return os.path.join(build, *parts)


def build_tool(*parts):
    """build_path(*parts), which must be an executable (else the test fails)."""
    path = build_path(*parts)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"not an executable: {path!r} (set FLOODGATE_BUILD)")
    return path


def limit_toml(name, subject, rate, count="messages", action="tempfail", **extra):
    """One [[limit]] table; `rate` is a string or a list of strings."""
    rates = [rate] if isinstance(rate, str) else list(rate)
    lines = ["[[limit]]", f'name = "{name}"', f'subject = "{subject}"', f'count = "{count}"',
             "rate = [" + ", ".join(f'"{r}"' for r in rates) + "]", f'action = "{action}"']
    for k, v in extra.items():
        if isinstance(v, str):
            v = f'"{v}"'
        elif isinstance(v, (list, tuple)):
            v = "[" + ", ".join(f'"{e}"' for e in v) + "]"
        lines.append(f"{k} = {v}")
    return "\n".join(lines) + "\n"


def floodgate_toml(*limits, backend="memory", timeout_ms=500, on_error=None):
    """A config for Floodgate(): milter on {port}; redis store on {redis_url} under {prefix}.

    timeout_ms and on_error (None: the daemon's default) go to [store] for redis.

    Placeholders are filled by Floodgate, so literal braces are doubled here.
    """
    store = ['[store]', f'backend = "{backend}"']
    if backend == "memory":
        store += ['admin_socket = "{admin_socket}"', 'state_dir = "{state_dir}"']
    if backend == "redis":
        store += ['url = "{redis_url}"', 'key_prefix = "{prefix}"', f"timeout_ms = {timeout_ms}"]
        if on_error is not None:
            store.append(f'on_error = "{on_error}"')
    text = "[milter]\n" 'socket = "inet:{port}@127.0.0.1"\n\n' + "\n".join(store) + "\n\n"
    return text + "\n".join(l.replace("{", "{{").replace("}", "}}") for l in limits)


def refill_bound(limit, period_s, elapsed_s):
    """Most units a GCRA limit `limit`/`period_s` may pass from idle in `elapsed_s`:
    the burst plus one unit per emission interval elapsed, plus one for clock rounding."""
    return limit + int(elapsed_s // (period_s / limit)) + 1


class E2ETestCase:
    """Mixin for unittest.TestCase: `self.use(cm)` enters a fixture for this test only."""

    def setUp(self):
        self._stack = contextlib.ExitStack()
        self.addCleanup(self._stack.close)
        self._started = time.monotonic()

    def use(self, cm):
        return self._stack.enter_context(cm)

    def report(self, text):
        """A line for the test's output (ctest -V / --output-on-failure)."""
        print(f"[e2e] {self.id()}: {text} (test time {time.monotonic() - self._started:.1f}s)",
              flush=True)
