#!/usr/bin/python3
"""procmond's /metrics (issue 19, the contract in docs/metrics.md) checked by
what reads it in production: Debian's real Prometheus (2.42) scraping the
real daemon every second, queried through its HTTP API; promtool's linter on
a scrape; the daemon killed and started again while it is being scraped;
and the endpoint's HTTP behaviour read directly.

Usage: PROCMOND=build/dev/daemon/procmond python3 -m pytest -q tests/metrics/test_prometheus.py
(ctest `metrics_prometheus` runs it so). Needs root (the daemon reads every
process), /usr/bin/prometheus and /usr/bin/promtool (Debian's prometheus
package, scripts/install-deps.sh). Only urllib: no Python package beyond
pytest. Every process it starts (Prometheus, the daemons, the children) is
killed and reaped, also when a test fails; everything it writes is in one
temp dir.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
from test_daemon import PROCMOND, Client, Daemon, need_root, wait_for  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# Markers in the children's argv: the groups below match on them, and no
# other process on the machine carries them.
EXIT3 = "procmon-metrics-test-exit3"
HOLD = "procmon-metrics-test-hold"
VICTIM = "procmon-metrics-test-victim"
GROUPS = f'''
[[metrics.group]]
name = "exiters"
cmdline = ["*{EXIT3}*"]
[[metrics.group]]
name = "holders"
cmdline = ["*{HOLD}*"]
[[metrics.group]]
name = "victims"
cmdline = ["*{VICTIM}*"]
'''
# A refresh twice a second: a gauge follows what the test holds within ~1 s.
METRICS = '[metrics]\nlisten = "127.0.0.1:0"\nrefresh_interval_ms = 500\nread = ["fds", "io", "ctxsw"]\n' + GROUPS

pytestmark = [
    need_root,
    pytest.mark.skipif(not os.access(PROMETHEUS, os.X_OK), reason="no /usr/bin/prometheus: scripts/install-deps.sh"),
]


# ------------------------------------------------------------------ helpers

def free_port():
    """A port nothing listens on now (bound to 0, closed). Whoever uses it
    retries with another if it was taken in between."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, method="GET", headers=None, timeout=5.0, data=None):
    """(status, content type, body); HTTP errors are answers too."""
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def metrics_address(daemon, timeout=10.0):
    """ADDR:PORT from the daemon's log line `metrics at http://ADDR:PORT/metrics`
    (in what this start of it wrote: the log may hold an earlier start's)."""
    pattern = re.compile(r"info metrics at http://([0-9.]+:[0-9]+)/metrics")

    def logged():
        log = daemon.log_text()[daemon.log_start:]
        m = pattern.search(log)
        if not m and daemon.proc.poll() is not None:
            raise AssertionError(f"procmond exited {daemon.proc.returncode} without a metrics address:\n{log[-2000:]}")
        return m and m.group(1)
    try:
        return wait_for(logged, "procmond to log its metrics address", timeout)
    except AssertionError as e:
        raise AssertionError(f"{e}\nits log:\n{daemon.log_text()[daemon.log_start:][-2000:]}") from None


def samples(body):
    """The text format's samples: {(name, frozenset of label pairs): value}."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        assert m, f"not a sample line: {line!r}"
        out[(m.group(1), frozenset(label_re.findall(m.group(2) or "")))] = float(m.group(3))
    return out


def value(body, name, **labels):
    """One sample's value in a scrape, None when it is absent."""
    return samples(body).get((name, frozenset(labels.items())))


class MetricsDaemon(Daemon):
    """test_daemon's Daemon with extra command-line arguments (--metrics)."""

    def __init__(self, tmp, config, args=()):
        self.dir, self.journal = tmp, ""
        self.socket = os.path.join(tmp, "procmond.sock")
        self.config = os.path.join(tmp, "procmond.toml")
        self.log_path = os.path.join(tmp, "procmond.log")
        self.write_config(config)
        self.log = open(self.log_path, "ab")  # a restart appends: the whole story in one file
        self.log_start = len(self.log_text())
        self.proc = subprocess.Popen([PROCMOND, "--config", self.config, *args], stderr=self.log)
        self.pid = self.proc.pid
        try:
            wait_for(lambda: self.proc.poll() is not None or self.answers(), "procmond to listen")
        except BaseException:
            self.kill()
            raise

    def scrape(self, address=None, accept=None, timeout=5.0):
        status, ctype, body = http(f"http://{address or self.address}/metrics",
                                   headers={"Accept": accept} if accept else {}, timeout=timeout)
        assert status == 200, (status, body[:200])
        return ctype, body

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


class Prometheus:
    """Debian's prometheus as a plain process: temp config and TSDB, a free
    port on 127.0.0.1, every job scraped each second."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "prometheus")
        os.makedirs(self.dir)
        self.config = os.path.join(self.dir, "prometheus.yml")
        self.jobs = {}
        self.proc = None
        self.log = open(os.path.join(self.dir, "prometheus.log"), "ab")
        self.write_config()
        for _ in range(5):  # the free port may be taken before Prometheus binds it
            self.port = free_port()
            self.proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={self.config}", f"--storage.tsdb.path={self.dir}/data",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                stdout=self.log, stderr=self.log, cwd=self.dir)
            if wait_for(lambda: self.proc.poll() is not None or self.ready(), "prometheus to be ready", 20) is True \
                    and self.proc.poll() is None:
                return
            self.proc.wait()
        raise AssertionError("prometheus did not start:\n" + self.log_text()[-2000:])

    def log_text(self):
        with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
            return f.read()

    def ready(self):
        try:
            return http(f"http://127.0.0.1:{self.port}/-/ready", timeout=1)[0] == 200
        except OSError:
            return False

    def write_config(self):
        lines = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 900ms", "scrape_configs:"]
        for job, target in self.jobs.items():
            lines += [f"  - job_name: {job}", "    static_configs:", f"      - targets: ['{target}']"]
        if not self.jobs:
            lines[-1] = "scrape_configs: []"
        with open(self.config + ".new", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(self.config + ".new", self.config)

    def scrape_job(self, job, target):
        """Scrapes target as job from now on (config rewritten, SIGHUP)."""
        self.jobs[job] = target
        self.write_config()
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: any(t["labels"].get("job") == job and t["scrapeUrl"] == f"http://{target}/metrics"
                             for t in self.api("targets")["activeTargets"]),
                 f"prometheus to take target {target} for job {job}")

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params)
        status, _, body = http(url, timeout=5)
        reply = json.loads(body)
        assert status == 200 and reply["status"] == "success", (url, status, body[:500])
        return reply["data"]

    def query(self, promql):
        """An instant query's vector as {frozenset of labels (no __name__): value}."""
        data = self.api("query", query=promql)
        assert data["resultType"] == "vector", data
        return {frozenset((k, v) for k, v in r["metric"].items() if k != "__name__"): float(r["value"][1])
                for r in data["result"]}

    def query_one(self, promql):
        """The value of a query that has at most one series (None: none)."""
        result = self.query(promql)
        assert len(result) <= 1, (promql, result)
        return next(iter(result.values()), None)

    def wait_value(self, promql, ok, what, timeout=20.0):
        """Polls promql until ok(value) (value None: no series yet)."""
        last = []

        def check():
            v = self.query_one(promql)
            last[:] = [v]
            return ok(v)
        try:
            wait_for(check, what, timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}: {promql} was {last[0] if last else 'never read'}") from None
        return last[0]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Children:
    """Children that block reading a pipe we hold: `sh -c 'read x; exit
    CODE' MARKER` lives until release() closes the pipe, then exits CODE at
    once. They live long enough for the daemon to read their argv (which a
    process gone in a millisecond may not leave it), and they end together
    when we say. close() kills and reaps whatever is left."""

    def __init__(self, n, marker, code=0):
        self.r, self.w = os.pipe()
        self.kids = []
        try:
            for _ in range(n):
                self.kids.append(subprocess.Popen(["/bin/sh", "-c", f"read x; exit {code}", marker],
                                                  stdin=self.r, stdout=subprocess.DEVNULL))
        except BaseException:
            self.close()
            raise

    def release(self):
        """Ends them all (EOF on their stdin); returns their exit statuses."""
        if self.w is not None:
            os.close(self.w)
            self.w = None
        return [k.wait(timeout=30) for k in self.kids]

    def close(self):
        for k in self.kids:
            if k.poll() is None:
                k.kill()
        for fd in (self.r, self.w):
            if fd is not None:
                os.close(fd)
        self.r = self.w = None
        for k in self.kids:
            k.wait()


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def tmp():
    d = tempfile.mkdtemp(prefix="procmond-metrics-test-")
    yield d
    subprocess.run(["rm", "-rf", d])


@pytest.fixture(scope="module")
def daemon(tmp):
    """One procmond for the module, its endpoint from the config on port 0."""
    home = os.path.join(tmp, "daemon")
    os.makedirs(home)
    d = MetricsDaemon(home, METRICS)
    try:
        d.address = metrics_address(d)
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module")
def prometheus(tmp, daemon):
    """Prometheus scraping that procmond as job "procmond", up once the first
    scrape succeeded (its first value appears some 6 s after it starts)."""
    p = Prometheus(tmp)
    try:
        p.scrape_job("procmond", daemon.address)
        p.wait_value('up{job="procmond"}', lambda v: v == 1, "up == 1 for job procmond", timeout=20)
        yield p
    finally:
        p.stop()


@pytest.fixture
def children():
    made = []

    def spawn(n, marker, code=0):
        c = Children(n, marker, code)
        made.append(c)
        return c

    yield spawn
    for c in made:
        c.close()


# ------------------------------------------------------------------ through Prometheus

def test_prometheus_scrapes_procmond_up_and_without_error(prometheus, daemon):
    assert prometheus.query_one('up{job="procmond"}') == 1
    # Prometheus 2.42 asks for OpenMetrics first (its default Accept), so its
    # strict OpenMetrics parser has read these scrapes: no error on the target.
    target = next(t for t in prometheus.api("targets")["activeTargets"] if t["labels"]["job"] == "procmond")
    assert target["health"] == "up" and target["lastError"] == "", target
    assert prometheus.query_one('scrape_samples_scraped{job="procmond"}') > 10
    # procmond's own series, as the contract names them
    prometheus.wait_value('procmond_build_info{job="procmond"}', lambda v: v == 1, "procmond_build_info")
    assert prometheus.query_one('process_start_time_seconds{job="procmond"}') > 0
    assert prometheus.query_one('procmon_group_processes{job="procmond",group="other"}') > 0


def test_two_hundred_exits_with_code_3_counted_exactly(prometheus, daemon, children):
    series = 'procmon_group_exit_codes_total{job="procmond",group="exiters",code="3"}'
    # One first, until Prometheus has the series: increase() counts from a
    # series' first sample, so the 200 must come after one.
    first = children(1, EXIT3, code=3)
    wait_for(lambda: value(daemon.scrape()[1], "procmon_group_processes", group="exiters") == 1,
             "procmond to see the first exiter")
    assert first.release() == [3]
    before = prometheus.wait_value(series, lambda v: v is not None and v >= 1, "the exit-3 series in Prometheus")
    assert before == 1

    many = children(200, EXIT3, code=3)
    wait_for(lambda: value(daemon.scrape()[1], "procmon_group_processes", group="exiters") == 200,
             "procmond to see the 200 exiters", timeout=20)
    assert many.release() == [3] * 200
    # raw values: exactly 200 more, never more
    after = prometheus.wait_value(series, lambda v: v is not None and v >= before + 200, "200 more exits in Prometheus")
    assert after == before + 200
    assert prometheus.query_one(series) == before + 200
    # what a dashboard asks: increase over a minute (extrapolated: >= the raw delta)
    prometheus.wait_value(f"increase({series}[1m])", lambda v: v is not None and v >= 200,
                          "increase(...[1m]) >= 200")
    # and every one of them counted as an exit and in the lifetime histogram
    sums = samples(daemon.scrape()[1])
    assert sums[("procmon_group_exits_total", frozenset({("group", "exiters")}))] >= 201
    assert sums[("procmon_group_lifetime_seconds_count", frozenset({("group", "exiters")}))] >= 201


def test_a_groups_process_count_is_what_the_test_holds(prometheus, daemon, children):
    series = 'procmon_group_processes{job="procmond",group="holders"}'
    held = children(7, HOLD)
    prometheus.wait_value(series, lambda v: v == 7, "procmon_group_processes == 7 for the 7 held children")
    assert prometheus.query_one('procmon_group_threads{job="procmond",group="holders"}') == 7
    assert prometheus.query_one('procmon_group_states{job="procmond",group="holders",state="sleeping"}') == 7
    assert prometheus.query_one('procmon_group_open_fds{job="procmond",group="holders"}') >= 7 * 3
    assert held.release() == [0] * 7
    # gone at the next refresh: 0 (a configured group stays a series) or no series
    prometheus.wait_value(series, lambda v: v in (0, None), "procmon_group_processes back to 0")


def test_sigkill_deaths_by_signal_name(prometheus, daemon, children):
    series = 'procmon_group_exit_signals_total{job="procmond",group="victims",signal="SIGKILL"}'
    victims = children(3, VICTIM)
    wait_for(lambda: value(daemon.scrape()[1], "procmon_group_processes", group="victims") == 3,
             "procmond to see the 3 victims")
    for k in victims.kids:
        k.kill()
    assert [k.wait() for k in victims.kids] == [-signal.SIGKILL] * 3
    prometheus.wait_value(series, lambda v: v == 3, "3 SIGKILL deaths in Prometheus")
    assert prometheus.query_one('sum(procmon_group_exit_codes_total{job="procmond",group="victims"})') in (0, None)


# ------------------------------------------------------------------ promtool, HTTP

# Every family of the contract (docs/metrics.md) and its type, as the text format declares them.
CONTRACT = {
    **{f"procmon_group_{n}": "gauge" for n in (
        "processes", "threads", "states", "memory_bytes", "open_fds", "worst_fd_ratio", "oldest_start_time_seconds")},
    **{f"procmon_group_{n}_total": "counter" for n in (
        "cpu_seconds", "io_bytes", "context_switches", "starts", "execs", "exits", "exit_codes", "exit_signals")},
    "procmon_group_lifetime_seconds": "histogram",
    "procmon_events_lost_total": "counter",
    **{f"procmond_{n}": "gauge" for n in (
        "build_info", "clients", "subscribers", "subscriber_queued_events", "subscriber_queued_events_max",
        "journal_bytes", "journal_segments", "config_generation", "arena_used_bytes", "arena_cap_bytes",
        "metrics_groups", "metrics_refresh_duration_seconds", "metrics_group_overflow_processes")},
    **{f"procmond_{n}_total": "counter" for n in (
        "events_received", "events_delivered", "events_dropped", "kernel_events_lost", "connections",
        "connections_refused", "rpc_requests", "journal_records", "journal_write_errors", "config_reloads",
        "metrics_group_overflow_events", "metrics_refreshes")},
    "procmond_rpc_duration_seconds": "histogram",
    "procmond_journal_fsync_duration_seconds": "histogram",
    "procmond_metrics_scrape_duration_seconds": "histogram",
    "process_cpu_seconds_total": "counter",
    **{f"process_{n}": "gauge" for n in (
        "resident_memory_bytes", "virtual_memory_bytes", "open_fds", "max_fds", "start_time_seconds")},
}


def test_every_family_of_the_contract_with_its_type_and_no_pid_or_argv_label(daemon):
    body = daemon.scrape()[1].decode()
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", body, re.M))
    assert {n: types.get(n) for n in CONTRACT} == CONTRACT
    labels = {k for (_, pairs) in samples(body.encode()) for k, _ in pairs}
    allowed = {"group", "state", "mode", "kind", "direction", "code", "signal", "le", "version", "source", "method",
               "result"}
    assert labels <= allowed, labels - allowed
    s = samples(body.encode())
    info = [(dict(p), v) for (n, p), v in s.items() if n == "procmond_build_info"]
    assert len(info) == 1 and info[0][0]["version"] and info[0][1] == 1, info
    groups = {v for (_, p) in s for k, v in p if k == "group"}
    assert {"exiters", "holders", "victims", "other"} <= groups, groups
    assert value(body.encode(), "procmond_metrics_groups") == len(groups)



def test_promtool_check_metrics_is_clean(daemon):
    ctype, body = daemon.scrape()
    assert ctype == TEXT_TYPE
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, timeout=30)
    assert r.returncode == 0 and r.stdout == b"" and r.stderr == b"", (r.returncode, r.stdout, r.stderr)
    # promtool's linter reads the text format only: an OpenMetrics counter's
    # family name has no _total, which it calls a missing help text. The
    # OpenMetrics form is checked by Prometheus's own parser (it negotiates
    # OpenMetrics, see the first test) and by its shape here.
    ctype, om = daemon.scrape(accept="application/openmetrics-text; version=1.0.0")
    assert ctype == OPENMETRICS_TYPE
    text = om.decode()
    assert text.endswith("# EOF\n") and text.count("# EOF") == 1
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    for name, kind in types.items():
        assert not (kind == "counter" and name.endswith("_total")), f"OpenMetrics family {name} keeps _total"


def test_http_endpoints_and_content_negotiation(daemon):
    base = f"http://{daemon.address}"
    assert http(base + "/-/healthy")[0::2] == (200, b"procmond is healthy.\n")
    assert http(base + "/nope")[0] == 404
    assert http(base + "/metrics/extra")[0] == 404
    assert http(base + "/metrics", method="POST", data=b"x")[0] == 405
    assert http(base + "/metrics", method="PUT", data=b"x")[0] == 405
    status, ctype, body = http(base + "/metrics", method="HEAD")
    assert (status, ctype, body) == (200, TEXT_TYPE, b"")
    status, ctype, body = http(base + "/metrics", headers={"Accept": "text/plain"})
    assert (status, ctype) == (200, TEXT_TYPE) and b"# EOF" not in body
    # Prometheus 2.42's own Accept header: OpenMetrics preferred
    prom_accept = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                   "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
    status, ctype, body = http(base + "/metrics", headers={"Accept": prom_accept})
    assert (status, ctype) == (200, OPENMETRICS_TYPE) and body.endswith(b"# EOF\n")


# ------------------------------------------------------------------ kill and restart

def test_killed_mid_scrape_restarted_on_its_port_counters_reset_no_scrape_hangs(tmp, prometheus):
    """SIGKILL while a thread scrapes in a loop; the daemon started again on
    the same port (given by --metrics, over the config's): no scrape outlives
    its timeout, Prometheus sees it down then up, and sees the counter that
    went back to near zero as a reset."""
    home = os.path.join(tmp, "restart")
    os.makedirs(home)
    config = '[metrics]\nlisten = "127.0.0.1:1"\nrefresh_interval_ms = 500\n'  # --metrics wins over this

    def start_on(port):
        d = MetricsDaemon(home, config, args=["--metrics", f"127.0.0.1:{port}"])
        if d.proc.poll() is None:
            d.address = metrics_address(d)
        return d

    for _ in range(5):  # the free port may be taken before procmond binds it
        port = free_port()
        d = start_on(port)
        if d.proc.poll() is None:
            break
        d.kill()
    assert d.proc.poll() is None, d.log_text()[-2000:]
    assert d.address == f"127.0.0.1:{port}"
    daemons = [d]
    scraping = threading.Event()
    stop = threading.Event()
    results = []  # (seconds it took, status or error)

    def scraper():
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                outcome = http(f"http://127.0.0.1:{port}/metrics", timeout=2.0)[0]
            except OSError as e:  # refused while down, reset when killed mid-reply, or timed out
                outcome = type(e).__name__
            results.append((time.monotonic() - t0, outcome))
            scraping.set()
            if outcome != 200:
                time.sleep(0.01)

    thread = threading.Thread(target=scraper, daemon=True)
    try:
        series = 'procmond_rpc_requests_total{job="procmond_restart",method="ping"}'
        c = Client(d.socket)  # a counter only this test moves: pings on the daemon's socket
        for _ in range(300):
            assert c.ping()
        c.close()
        prometheus.scrape_job("procmond_restart", d.address)
        prometheus.wait_value(series, lambda v: v is not None and v >= 300, "the ping counter at 300 in Prometheus")
        thread.start()
        scraping.wait(10)
        n = len(results)
        wait_for(lambda: len(results) >= n + 20, "20 scrapes under way")
        d.kill()
        killed_at = len(results)
        wait_for(lambda: any(o != 200 for _, o in results[killed_at:]), "a scrape to fail while it is down")
        prometheus.wait_value('up{job="procmond_restart"}', lambda v: v == 0, "up == 0 while it is down")

        # same port again at once: SO_REUSEADDR, the killed connections' TIME_WAIT must not block it
        d = start_on(port)
        daemons.append(d)
        assert d.proc.poll() is None, "procmond could not bind its port again:\n" + d.log_text()[-2000:]
        restarted_at = len(results)
        wait_for(lambda: any(o == 200 for _, o in results[restarted_at:]), "scrapes to succeed again")
        prometheus.wait_value('up{job="procmond_restart"}', lambda v: v == 1, "up == 1 after the restart")
        # the fresh daemon's ping count starts low (a few pings of the test's
        # own start-up probe): a drop from >= 300, which is what resets() counts
        prometheus.wait_value(f"resets({series}[1m])", lambda v: v is not None and v >= 1,
                              "Prometheus to see the counter's reset")
        assert prometheus.query_one(series) < 300
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "a scrape hangs"
        slow = [(round(t, 2), o) for t, o in results if t > 4.0]
        assert not slow, f"scrapes that outlived their 2 s timeout: {slow}"
        assert sum(o == 200 for _, o in results) > 20
    finally:
        stop.set()
        thread.join(10) if thread.is_alive() else None
        for x in daemons:
            x.kill()
