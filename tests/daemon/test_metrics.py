#!/usr/bin/python3
"""procmond's /metrics (daemon/metrics/, docs/metrics.md) end to end, with
no Prometheus: the exposition both formats (checked by promtool), the
groups and what the event stream counts in them, the refresh's gauges,
templates, the group cap, reloads, the daemon's own families, and that a
scrape never walks /proc. tests/metrics/ has the test with a real
Prometheus.

Usage: PROCMOND=build/dev/daemon/procmond python3 -m pytest -q tests/daemon/test_metrics.py
(ctest `daemon_metrics` runs it so). Needs root, as test_daemon.py.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from test_daemon import Client, need_root, start, tmp, wait_for  # noqa: F401 (fixtures)
from test_daemon import cpu_ticks as cpu_ticks_of

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
FAST = "[metrics]\nlisten = \"127.0.0.1:0\"\nrefresh_interval_ms = 200\n"

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metrics_port(d):
    d.wait_log("metrics at http://")
    return int(re.search(r"metrics at http://[^ ]*:(\d+)/metrics", d.log_text()).group(1))


def get(port, path="/metrics", accept=None, method="GET"):
    """(status, content type, body) of one request."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def parse(text):
    """{(name, frozenset of (label, value)): value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset((k, v.encode().decode("unicode_escape")) for k, v in LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def scrape(port):
    return parse(get(port)[2])


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def promtool_check(text):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode()


def children(count, command):
    """sh lines starting `count` background children running `command`,
    with no external program (dash's [ is a builtin)."""
    return f"i=0; while [ $i -lt {count} ]; do {command} & i=$((i+1)); done; "


def run_family(port, group, script, tag):
    """Runs `sh -c script tag` to its end, once the daemon has it in
    `group`. Its children are forks of it: in its group from their start,
    whether or not they live long enough for procmond to read them
    (docs/metrics.md: a program gone before it was read stays in its
    parent's group)."""
    parent = subprocess.Popen(["sh", "-c", "read go; " + script + "wait", tag], stdin=subprocess.PIPE)
    try:
        wait_for(lambda: value(scrape(port), "procmon_group_processes", group=group) >= 1, f"the parent in {group}")
        parent.stdin.write(b"go\n")
        parent.stdin.close()
        return parent.wait(timeout=60)
    finally:
        parent.kill()
        parent.wait()


@need_root
def test_both_formats_are_valid_and_only_metrics_and_healthy_are_served(start):
    d = start(FAST)
    port = metrics_port(d)
    wait_for(lambda: value(scrape(port), "procmond_metrics_refreshes_total") >= 1, "a first refresh")

    status, ctype, text = get(port)
    assert status == 200 and ctype == "text/plain; version=0.0.4; charset=utf-8"
    rc, said = promtool_check(text)
    assert rc == 0 and said == "", said  # no lint warning either
    assert "# TYPE procmon_group_exits_total counter" in text

    status, ctype, om = get(port, accept="application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
    assert status == 200 and ctype.startswith("application/openmetrics-text; version=1.0.0")
    assert om.endswith("# EOF\n")
    assert "# TYPE procmon_group_exits counter" in om  # OpenMetrics names the family without _total
    assert re.search(r'^procmon_group_exits_total\{group="other"\} \d+$', om, re.M)
    assert 'le="0.01"' in om and 'le="1.0"' in om and 'le="+Inf"' in om

    assert get(port, "/-/healthy")[0] == 200
    assert get(port, "/metrics", method="HEAD")[0] == 200
    assert get(port, "/nope")[0] == 404
    status, _, body = get(port, "/metrics", method="POST")
    assert status == 405 and "GET" in body


@need_root
def test_short_processes_are_counted_by_exit_code_signal_and_lifetime(start):
    d = start(FAST + '[[metrics.group]]\nname = "probes"\ncmdline = ["*metrics-probe*"]\n')
    port = metrics_port(d)
    wait_for(lambda: ("procmon_group_exits_total", frozenset({("group", "probes")})) in scrape(port),
             "the fixed group to exist at zero")
    # 50 that exit 3, 20 killed by SIGKILL, 3 that spin a while and exit 0.
    assert run_family(port, "probes", children(50, "(exit 3)") + children(20, "sh -c 'kill -9 $$' metrics-probe") +
                      children(3, "(j=0; while [ $j -lt 20000 ]; do j=$((j+1)); done)"), "metrics-probe") == 0

    def counted():
        s = scrape(port)
        return s if value(s, "procmon_group_exits_total", group="probes") >= 74 else None
    s = wait_for(counted, "74 exits in the group")
    assert value(s, "procmon_group_exits_total", group="probes") == 74  # and the parent's
    assert value(s, "procmon_group_exit_codes_total", group="probes", code="3") == 50
    assert value(s, "procmon_group_exit_codes_total", group="probes", code="0") == 4
    assert value(s, "procmon_group_exit_signals_total", group="probes", signal="SIGKILL") == 20
    assert value(s, "procmon_group_starts_total", group="probes") == 73  # the parent's own fork is python's
    assert value(s, "procmon_group_execs_total", group="probes") == 21
    assert value(s, "procmon_group_lifetime_seconds_count", group="probes") == 74
    assert value(s, "procmon_group_lifetime_seconds_bucket", group="probes", le="+Inf") == 74
    # The parent outlived all its children; the spinners took more than 10 ms.
    assert value(s, "procmon_group_lifetime_seconds_bucket", group="probes", le="0.01") <= 70
    assert value(s, "procmon_group_lifetime_seconds_sum", group="probes") >= 0.03


@need_root
def test_gauges_follow_the_processes_held_and_templates_make_groups(start, tmp):
    # Programs with names of their own: copies of sleep.
    names = ["mtpl-alpha", "mtpl-beta"]
    for n in names:
        shutil.copy("/bin/sleep", os.path.join(tmp, n))
    d = start(FAST + '[[metrics.group]]\nname = "t-{{.Comm}}"\ncomm = ["mtpl-*"]\n')
    port = metrics_port(d)
    held = [subprocess.Popen([os.path.join(tmp, "mtpl-alpha"), "100"]) for _ in range(3)]
    held.append(subprocess.Popen([os.path.join(tmp, "mtpl-beta"), "100"]))
    try:
        def both():
            s = scrape(port)
            ok = (value(s, "procmon_group_processes", group="t-mtpl-alpha") == 3 and
                  value(s, "procmon_group_processes", group="t-mtpl-beta") == 1)
            return s if ok else None
        s = wait_for(both, "the template's two groups with 3 and 1 processes")
        assert value(s, "procmon_group_states", group="t-mtpl-alpha", state="sleeping") == 3
        assert value(s, "procmon_group_threads", group="t-mtpl-alpha") == 3
        assert value(s, "procmon_group_memory_bytes", group="t-mtpl-alpha", kind="resident") > 0
        assert value(s, "procmon_group_open_fds", group="t-mtpl-alpha") >= 9  # stdin, stdout, stderr each
        assert 0 < value(s, "procmon_group_worst_fd_ratio", group="t-mtpl-alpha") < 1
        oldest = value(s, "procmon_group_oldest_start_time_seconds", group="t-mtpl-alpha")
        assert abs(oldest - time.time()) < 60
        assert value(s, "procmon_group_processes", group="other") > 0  # everything else, never dropped
    finally:
        for p in held:
            p.kill()
            p.wait()
    wait_for(lambda: value(scrape(port), "procmon_group_processes", group="t-mtpl-alpha") == 0,
             "the group's gauge back to 0")
    s = scrape(port)
    assert value(s, "procmon_group_exit_signals_total", group="t-mtpl-alpha", signal="SIGKILL") == 3
    assert value(s, "procmon_group_exit_signals_total", group="t-mtpl-beta", signal="SIGKILL") == 1


@need_root
def test_cpu_is_counted_for_a_busy_process(start):
    d = start(FAST + '[[metrics.group]]\nname = "busy"\ncmdline = ["*metrics-busy*"]\n')
    port = metrics_port(d)
    busy = subprocess.Popen(["sh", "-c", 'while :; do :; done', "metrics-busy"])
    try:
        wait_for(lambda: value(scrape(port), "procmon_group_cpu_seconds_total", group="busy", mode="user") >= 0.3,
                 "0.3 s of user CPU in the group")
    finally:
        busy.kill()
        busy.wait()


@need_root
def test_the_group_cap_puts_new_names_in_other_and_says_so(start, tmp):
    for i in range(6):
        shutil.copy("/bin/sleep", os.path.join(tmp, f"mcap-{i}"))
    d = start(FAST + 'max_groups = 3\n[[metrics.group]]\nname = "{{.Comm}}"\ncomm = ["mcap-*"]\n')
    port = metrics_port(d)
    held = [subprocess.Popen([os.path.join(tmp, f"mcap-{i}"), "100"]) for i in range(6)]
    try:
        def capped():
            s = scrape(port)
            return s if value(s, "procmond_metrics_group_overflow_processes") == 3 else None
        s = wait_for(capped, "the cap to be reached")
        assert value(s, "procmond_metrics_groups") == 4  # three and "other"
        made = [g for (n, labels), v in s.items() if n == "procmon_group_processes"
                for k, g in labels if g.startswith("mcap-")]
        assert len(made) == 3
    finally:
        for p in held:
            p.kill()
            p.wait()


@need_root
def test_a_reload_changes_the_groups_and_keeps_the_counters(start):
    group = '[[metrics.group]]\nname = "{name}"\ncmdline = ["*metrics-reload*"]\n'
    d = start(FAST + group.format(name="before"))
    port = metrics_port(d)
    wait_for(lambda: ("procmon_group_exits_total", frozenset({("group", "before")})) in scrape(port), "group before")
    run_family(port, "before", children(5, "(exit 4)"), "metrics-reload")
    wait_for(lambda: value(scrape(port), "procmon_group_exit_codes_total", group="before", code="4") == 5,
             "5 exits before the reload")
    d.write_config(FAST + group.format(name="after"))
    wait_for(lambda: value(scrape(port), "procmond_config_generation") == 2, "the reload")
    run_family(port, "after", children(7, "(exit 4)"), "metrics-reload")
    wait_for(lambda: value(scrape(port), "procmon_group_exit_codes_total", group="after", code="4") == 7,
             "7 exits after the reload")
    s = scrape(port)
    assert value(s, "procmon_group_exit_codes_total", group="before", code="4") == 5  # a counter never goes back
    assert value(s, "procmond_config_reloads_total", result="ok") == 1
    assert f"127.0.0.1:{port}" in d.log_text()  # the endpoint stayed where it was


@need_root
def test_the_daemons_own_families_count_what_it_does(start):
    d = start(FAST)
    port = metrics_port(d)
    subprocess.run(["true"], check=True)  # an event or two for the source to count
    wait_for(lambda: value(scrape(port), "procmond_journal_records_total") > 0, "a journaled event")
    # The start's readiness ping is counted once its pong is sent: maybe
    # after the test saw it.
    wait_for(lambda: value(scrape(port), "procmond_rpc_requests_total", method="ping") >= 1, "the first ping counted")
    before = scrape(port)
    c = Client(d.socket)
    for _ in range(5):
        c.ping()
    c.snapshot()
    c.close()
    # a request is counted once its answer is sent: maybe after the client has it
    def counted():
        s = scrape(port)
        pings = value(s, "procmond_rpc_requests_total", method="ping") - \
            value(before, "procmond_rpc_requests_total", method="ping")
        return s if pings >= 5 and value(s, "procmond_rpc_duration_seconds_count", method="enumerate") >= 1 else None

    s = wait_for(counted, "the five pings and the snapshot counted")
    assert value(s, "procmond_rpc_requests_total", method="ping") - \
        value(before, "procmond_rpc_requests_total", method="ping") == 5
    assert value(s, "procmond_connections_total") >= 1
    assert value(s, "procmond_config_generation") == 1
    assert value(s, "procmond_arena_cap_bytes") > value(s, "procmond_arena_used_bytes") > 0
    # process_*: what /proc says of the daemon, read beside the scrape
    fds = len(os.listdir(f"/proc/{d.pid}/fd"))
    assert abs(value(s, "process_open_fds") - fds) <= 4, (value(s, "process_open_fds"), fds)
    with open(f"/proc/{d.pid}/limits") as f:
        soft = next(line.split()[3] for line in f if line.startswith("Max open files"))
    assert value(s, "process_max_fds") == int(soft)
    assert value(s, "process_virtual_memory_bytes") > value(s, "process_resident_memory_bytes") > 1 << 20
    with open(f"/proc/{d.pid}/stat") as f:
        ticks = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])  # utime stime
    assert 0 < value(s, "process_cpu_seconds_total") <= ticks / os.sysconf("SC_CLK_TCK") + 0.5
    assert abs(value(s, "process_start_time_seconds") - time.time()) < 120
    assert value(s, "procmond_events_received_total", source="netlink") + \
        value(s, "procmond_events_received_total", source="polling") > 0
    build = [labels for (n, labels) in s if n == "procmond_build_info"]
    assert len(build) == 1 and dict(build[0])["version"]


@need_root
def test_a_scrape_never_walks_proc_and_an_idle_endpoint_sleeps(start):
    d = start('[metrics]\nlisten = "127.0.0.1:0"\nrefresh_interval_ms = 3600000\n')
    port = metrics_port(d)
    wait_for(lambda: value(scrape(port), "procmond_metrics_refreshes_total") == 1, "the first refresh")
    for _ in range(100):
        get(port)
    s = scrape(port)
    assert value(s, "procmond_metrics_refreshes_total") == 1  # 100 scrapes, no refresh
    assert value(s, "procmond_metrics_scrape_duration_seconds_count") >= 100
    before = cpu_ticks_of(d.pid)
    time.sleep(2.0)
    # Ticks of 10 ms: a spinning thread would take 200. The daemon still
    # follows every process event of the machine (a loaded CI machine has
    # many, and TSan slows each): a margin for that.
    assert cpu_ticks_of(d.pid) - before <= 40


@need_root
def test_label_values_are_escaped_and_valid_utf8(start, tmp):
    # A program name with a quote, a backslash and a byte that is not UTF-8.
    odd = os.path.join(tmp.encode(), b'm"q\\x\xff')
    shutil.copy("/bin/sleep", odd)
    d = start(FAST + '[[metrics.group]]\nname = "{{.Comm}}"\ncomm = ["m\\"q*"]\n')
    port = metrics_port(d)
    p = subprocess.Popen([odd, "100"])
    try:
        wait_for(lambda: 'group="m\\"q\\\\x\ufffd"' in get(port)[2], "the escaped group name")
        rc, said = promtool_check(get(port)[2])
        assert rc == 0 and said == "", said
    finally:
        p.kill()
        p.wait()


@need_root
def test_a_port_in_use_is_a_clear_startup_error(tmp):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    config = os.path.join(tmp, "c.toml")
    with open(config, "w") as f:
        f.write(f'[socket]\npath = "{tmp}/s.sock"\n[journal]\ndir = "{tmp}/j"\n')
    try:
        r = subprocess.run([os.environ.get("PROCMOND", "build/dev/daemon/procmond"), "--config", config,
                            "--metrics", f"127.0.0.1:{port}"], capture_output=True, timeout=30)
    finally:
        taken.close()
    assert r.returncode == 1
    assert f"cannot listen at 127.0.0.1:{port}" in r.stderr.decode()


@need_root
def test_a_process_older_than_the_daemon_counts_only_its_cpu_since(start):
    # It spins 0.5 s before procmond starts, then sleeps: its past is not
    # this daemon's to count, or every restart would look like a burst.
    old = subprocess.Popen(["sh", "-c", 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 100',
                            "metrics-old"])
    try:
        wait_for(lambda: "sleep" in open(f"/proc/{old.pid}/comm").read(), "the old process to spin, then sleep",
                 timeout=60)
        assert cpu_ticks_of(old.pid) >= 10  # 0.1 s of CPU at least, before procmond
        d = start(FAST + '[[metrics.group]]\nname = "old"\ncomm = ["sleep"]\ncmdline = ["*100"]\n')
        port = metrics_port(d)
        wait_for(lambda: value(scrape(port), "procmon_group_processes", group="old") >= 1, "the old process seen")
        wait_for(lambda: value(scrape(port), "procmond_metrics_refreshes_total") >= 3, "three refreshes")
        s = scrape(port)
        assert value(s, "procmon_group_cpu_seconds_total", group="old", mode="user") < 0.05
    finally:
        old.kill()
        old.wait()


@need_root
def test_idle_template_groups_go_and_fixed_ones_stay_whatever_the_cap(start, tmp):
    for i in range(3):
        shutil.copy("/bin/sleep", os.path.join(tmp, f"mexp-{i}"))
    config = FAST + 'max_groups = 3\n[[metrics.group]]\nname = "{fixed}"\ncmdline = ["*metrics-fixed*"]\n' \
        '[[metrics.group]]\nname = "{{{{.Comm}}}}"\ncomm = ["mexp-*"]\n'
    d = start(config.format(fixed="kept"))
    port = metrics_port(d)
    held = [subprocess.Popen([os.path.join(tmp, f"mexp-{i}"), "100"]) for i in range(3)]
    try:
        wait_for(lambda: value(scrape(port), "procmon_group_processes", group="mexp-2") == 1, "three template groups")
        # The cap is full of templates: a renamed fixed group is made all the same.
        d.write_config(config.format(fixed="renamed"))
        wait_for(lambda: ("procmon_group_exits_total", frozenset({("group", "renamed")})) in scrape(port),
                 "the renamed fixed group")
    finally:
        for p in held:
            p.kill()
            p.wait()
    # 20 idle refreshes of 200 ms later, the templates' groups are gone, and
    # so is the group the config no longer names; the fixed ones stay.
    wait_for(lambda: ("procmon_group_processes", frozenset({("group", "mexp-0")})) not in scrape(port),
             "the idle template groups to go", timeout=30)
    s = scrape(port)
    assert ("procmon_group_processes", frozenset({("group", "kept")})) not in s
    assert ("procmon_group_processes", frozenset({("group", "renamed")})) in s
    assert ("procmon_group_processes", frozenset({("group", "other")})) in s


@need_root
def test_config_errors_of_the_metrics_section(tmp):
    config = os.path.join(tmp, "bad.toml")
    with open(config, "w") as f:
        f.write('[metrics]\nlisten = "localhost:9464"\nrefresh_interval_ms = 50\n'
                '[[metrics.group]]\nname = "a"\ncomm = []\n'
                '[[metrics.group]]\nname = "{{.Nope}}"\n')
    r = subprocess.run([os.environ.get("PROCMOND", "build/dev/daemon/procmond"), "--check-config", config],
                       capture_output=True, timeout=30)
    err = r.stderr.decode()
    assert r.returncode == 1
    assert f"{config}:2:10: metrics.listen:" in err and "not an IPv4 address" in err
    assert f"{config}:3:23: metrics.refresh_interval_ms: 50 is out of range" in err
    assert f"{config}:6:8: metrics.group.comm: must be a non-empty array" in err
    assert "{{.Nope}} is not a placeholder" in err


@need_root
def test_openmetrics_refused_by_q_0_gives_the_text_format(start):
    d = start(FAST)
    port = metrics_port(d)
    _, ctype, text = get(port, accept="application/openmetrics-text;q=0,text/plain;q=1")
    assert ctype.startswith("text/plain; version=0.0.4") and not text.endswith("# EOF\n")
    assert 'le="0.0005"' in text and 'le="5e-05"' in text  # %g's spelling, as Go's client
