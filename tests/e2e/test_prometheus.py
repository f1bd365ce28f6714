"""deploy/monitoring/ against a real Prometheus scraping a real floodgate.

The real binaries, no Postfix: Debian's prometheus (scrape and rule evaluation every
second, deploy/monitoring/floodgate.rules.yml loaded) scrapes floodgate's metrics
endpoint; floodgate (Redis store, on_error = "local") is driven by floodgate-bench
speaking the milter protocol as Postfix would for two authenticated accounts, which run
into their limit and are locked, and then have some of their mail held
(locked_action = "hold"). Then:
- every query of deploy/monitoring/grafana-dashboard.json (panels, the host variable, the
  alert annotation), with Grafana's variables filled in, returns data through
  /api/v1/query: at least one sample and a number in it, no error;
- every rule loaded with health ok, and each alert's expression returns data in the
  situation it is for, and the alert is then pending or firing: a lock and far more
  refusals than usual (the load), the store down and the fallback deciding (redis-server
  killed, more load), floodgate down (stopped).
Also promtool check rules and promtool test rules (the rules' unit tests) pass.

Needs prometheus and redis-server (deploy/install-deps.sh --test), $FLOODGATE_BIN and
$FLOODGATE_BUILD (for floodgate-bench).
"""
import json
import math
import os
import re
import shutil
import subprocess
import unittest

from harness import (E2ETestCase, Floodgate, Prometheus, RedisServer, floodgate_toml, free_port,
                     limit_toml, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
MONITORING = os.path.normpath(os.path.join(HERE, "..", "..", "deploy", "monitoring"))
RULES = os.path.join(MONITORING, "floodgate.rules.yml")
RULES_TEST = os.path.join(MONITORING, "floodgate.rules.test.yml")
DASHBOARD = os.path.join(MONITORING, "grafana-dashboard.json")

# What Grafana puts in place of its variables. The ranges span several 1 s scrapes.
GRAFANA_VARIABLES = {"__rate_interval": "1m", "__interval": "1m", "__range": "5m",
                     "instance": ".*", "datasource": "prometheus"}
LIMIT = 20          # messages per account and hour
LOCK_AFTER = 3      # locked at LOCK_AFTER * LIMIT refused messages
HOLD_MAX = 10       # then HOLD_MAX messages held per account, the rest refused
ACCOUNTS = 2
MESSAGES = 400      # per load phase, MESSAGES / ACCOUNTS each: enough to be locked
RATE = 100          # messages/s: the load spans several scrapes
WAIT_S = 30


def build_path(*parts):
    build = os.environ.get("FLOODGATE_BUILD")
    if not build:  # run by hand: next to the daemon's build dir
        build = os.path.dirname(os.path.dirname(os.environ.get("FLOODGATE_BIN", "")))
    return os.path.join(build, *parts)


def grafana_expand(expr):
    """expr with $name and ${name} replaced as Grafana would; fails on any other variable."""
    def sub(m):
        name = m.group(1) or m.group(2)
        if name not in GRAFANA_VARIABLES:
            raise AssertionError(f"unknown Grafana variable ${name} in {expr!r}")
        return GRAFANA_VARIABLES[name]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, expr)


def dashboard_queries(dashboard):
    """(where, expr) of every panel target (rows' nested panels too) and annotation."""
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                out.append((f"panel {p['title']!r} {t['refId']}", t["expr"]))
            walk(p.get("panels", []))
    walk(dashboard["panels"])
    for a in dashboard["annotations"]["list"]:
        if "expr" in a:
            out.append((f"annotation {a['name']!r}", a["expr"]))
    return out


def has_number(result):
    """True when an instant query result has a sample whose value is a number (not NaN)."""
    return any(not math.isnan(float(s["value"][1])) for s in result)


class PrometheusTest(E2ETestCase, unittest.TestCase):

    def test_promtool_checks_the_rules_and_their_unit_tests_pass(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool is not installed (deploy/install-deps.sh --test)")
        for args in (["check", "rules", RULES], ["test", "rules", RULES_TEST]):
            r = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120,
                               cwd=MONITORING)
            self.assertEqual(r.returncode, 0, f"promtool {' '.join(args)}:\n{r.stdout}{r.stderr}")
            self.assertIn("SUCCESS", r.stdout + r.stderr)

    def send(self, fg, messages, accounts=ACCOUNTS, rate=None):
        """Messages from `accounts` accounts through the milter: the bench report."""
        argv = [self.bench_bin, "--socket", f"inet:{fg.port}@127.0.0.1", "--sessions", "4",
                "--messages", str(messages), "--accounts", str(accounts), "--json"]
        if rate:
            argv += ["--rate", str(rate)]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        report = json.loads(r.stdout)
        self.assertEqual(sum(report["errors"].values()), 0, r.stdout + r.stderr)
        return report

    def wait_query(self, prom, expr, what, check=bool):
        """Polls `expr` until check(result) holds; returns the result."""
        return wait_for(lambda: (lambda res: check(res) and res)(prom.query(expr)), WAIT_S,
                        lambda: f"{what}: {expr} (now {prom.query(expr)})")

    def wait_alert(self, prom, name, states):
        """Polls until the alert `name` is in one of `states` and its expression, run
        through the query API, returns data; fails at once when its rule is unhealthy.
        Returns the rule as /api/v1/rules describes it."""
        def state():
            rule = prom.rules()[name]
            self.assertEqual(rule["health"], "ok", rule)
            return rule["state"] in states and prom.query(rule["query"]) and rule
        return wait_for(state, WAIT_S, lambda: f"alert {name} {states} with data: "
                        f"{prom.rules()[name]}")

    def test_dashboard_queries_and_alert_rules_work_on_a_real_scrape(self):
        self.bench_bin = build_path("tools", "floodgate-bench")
        self.assertTrue(os.access(self.bench_bin, os.X_OK),
                        f"not an executable: {self.bench_bin!r} (set FLOODGATE_BUILD)")
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        queries = dashboard_queries(dashboard)
        with open(RULES) as f:
            alert_names = re.findall(r"^\s*- alert: (\w+)$", f.read(), re.M)
        self.assertGreaterEqual(len(alert_names), 5)

        redis = self.use(RedisServer())
        metrics_port = free_port()
        config = floodgate_toml(
            limit_toml("submission", "account", f"{LIMIT}/1h", lock_after=LOCK_AFTER,
                       locked_action="hold", hold_max=HOLD_MAX),
            limit_toml("per-ip", "ip", "100000/1h"), backend="redis", on_error="local")
        config += f'\n[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n'
        fg = self.use(Floodgate(config, redis=redis))
        prom = self.use(Prometheus([f"127.0.0.1:{metrics_port}"], [RULES]))
        target = f"127.0.0.1:{metrics_port}"

        # Every rule loaded, none failing to evaluate.
        rules = wait_for(lambda: (lambda r: set(alert_names) <= set(r) and r)(prom.rules()),
                         WAIT_S, lambda: f"rules {alert_names} loaded: {prom.rules()}")
        self.assertEqual(set(rules), set(alert_names))
        self.wait_query(prom, f'up{{job="floodgate",instance="{target}"}} == 1', "target up")

        # One message first, scraped, so every limit's counters exist before the load:
        # the load is then an increase Prometheus sees, not the counters' first value.
        self.send(fg, 1, accounts=1)
        self.wait_query(prom, 'count(floodgate_decisions_total{limit="submission"})',
                        "the limits' counters scraped")
        load = self.send(fg, MESSAGES, rate=RATE)
        # Accepted by floodgate, held ones included (they are held at end of message).
        self.assertEqual(load["delivered"], ACCOUNTS * (LIMIT + HOLD_MAX) - 1, load)
        self.assertEqual(load["refused"], MESSAGES - load["delivered"], load)
        self.wait_query(prom, "sum(floodgate_locks_total) >= 2", "both locks counted")
        self.wait_query(prom, "max(floodgate_locks_active) >= 2", "both locks active")
        self.wait_query(prom, f"floodgate_messages_held_total == {ACCOUNTS * HOLD_MAX}",
                        "the held messages counted")

        # Every dashboard query, with Grafana's variables filled in, has a number.
        seen = {}
        for where, expr in queries:
            expanded = grafana_expand(expr)
            seen[where] = self.wait_query(prom, expanded, f"dashboard {where}", has_number)
        instances = prom.api("label/instance/values", **{"match[]": "floodgate_sessions_open"})
        self.assertEqual(instances, [target], "the dashboard's host variable")
        refused = seen["panel 'Refusals by limit' A"]
        self.assertEqual({(s["metric"]["limit"], s["metric"]["action"]) for s in refused
                          if float(s["value"][1]) > 0},
                         {("submission", "tempfail"), ("submission", "locked")}, refused)
        held = seen["panel 'Messages held' A"]
        self.assertGreater(float(held[0]["value"][1]), 0, held)
        by_traffic = seen["panel 'Decisions by traffic class' A"]
        self.assertEqual({s["metric"].get("traffic") for s in by_traffic
                          if float(s["value"][1]) > 0}, {"submission"}, by_traffic)

        # The load: a lock, and far more refusals than usual (no history: the floor).
        fired = {}
        for name, states in (("FloodgateLockMade", {"firing"}),
                             ("FloodgateRefusalsUnusual", {"pending", "firing"})):
            fired[name] = self.wait_alert(prom, name, states)
        for name in ("FloodgateStoreDown", "FloodgateFallingBack", "FloodgateDown"):
            self.assertEqual(prom.rules()[name]["state"], "inactive", prom.rules()[name])

        # The store dies; floodgate decides with its fallback.
        redis.kill()
        outage = self.send(fg, MESSAGES // 4, accounts=1, rate=RATE)
        self.assertEqual(outage["delivered"] + outage["refused"], MESSAGES // 4, outage)
        self.wait_query(prom, "floodgate_fallback_decisions_total > 0", "fallback decisions")
        for name in ("FloodgateStoreDown", "FloodgateFallingBack"):
            fired[name] = self.wait_alert(prom, name, {"pending", "firing"})

        # floodgate stops.
        self.assertIn(fg.stop(), (0, None))
        fired["FloodgateDown"] = self.wait_alert(prom, "FloodgateDown", {"pending", "firing"})

        self.assertEqual(set(fired), set(alert_names))
        for rule in fired.values():
            self.assertTrue(rule["alerts"], rule)
        lock_alert = fired["FloodgateLockMade"]["alerts"][0]
        self.assertEqual(lock_alert["labels"]["limit"], "submission", lock_alert)
        self.assertIn("floodgatectl", lock_alert["annotations"]["description"], lock_alert)
        self.report(f"{len(queries)} dashboard queries and {len(fired)} alerts checked; load "
                    f"delivered {load['delivered']}, refused {load['refused']}; "
                    f"during the outage delivered {outage['delivered']}, "
                    f"refused {outage['refused']}")


if __name__ == "__main__":
    unittest.main()
