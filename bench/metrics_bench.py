#!/usr/bin/python3
"""procmond's /metrics measured (issue 19), side by side with Debian's
prometheus-process-exporter (0.7.10) configured with the same groups and
scraped by the same Prometheus in the same run. Prints figures; asserts no
timing.

For each count of idle processes (1,000 then 10,000; /bin/cat under 50
names, one group each, plus what the machine runs in "other"):
  - scrape latency p50/p99 and CPU per scrape, procmond and the exporter,
    scraped back to back by this script over one kept-alive connection;
  - CPU over a window of 1 s scrapes by one Prometheus (30 s: two of the
    default 15 s refreshes), of five processes seeing the same machine at
    the same time: procmond without metrics; two with metrics and no
    refresh after the first (refresh_interval_ms = 3600000), one not
    scraped and one scraped each second, whose difference is the endpoint's
    own cost (target: < 0.1% of a core at 1,000 processes); one with the
    defaults (15 s refresh) scraped each second, against the one without
    metrics: what metrics cost in all; and the exporter scraped each second.
At 1,000, also a storm of 1,000 `sleep 0.050` (each lives 50 ms; exec'd
directly: Debian's dash forks for `sh -c 'sleep 0.050'`, which would make
2,000 processes) in group "storm": what procmond's counters count, and what
the exporter shows of it (it has no exit counters: its num_procs, as
Prometheus sampled it each second and as this script read it back to back).

CPU: utime+stime from /proc/PID/stat (every thread, ended ones included;
10 ms ticks), and the run time of the live threads from
/proc/PID/task/*/schedstat (ns): the endpoint's cost at 1 scrape/s needs its
precision, and its thread lives throughout. Every procmond has fds, io and ctxsw reading on (the
exporter always reads them); the exporter runs with -gather-smaps=false
-threads=false (procmond reads no smaps by default and has no per-thread
series), the like-for-like pairing; its defaults cost more.

Usage: /usr/bin/python3 bench/metrics_bench.py [--procmond build/release/daemon/procmond]
       [--counts 1000,10000] [--scrapes 200] [--window 30]
Needs root. Ctrl-C (or SIGTERM) stops it and kills and reaps everything it
started. Some 3-4 minutes on 2 cores, most of it the 10,000 processes.
"""
import argparse
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "metrics"))
import test_prometheus as tp  # noqa: E402  (the tests' Prometheus, daemon and scrape helpers)

EXPORTER = "/usr/bin/prometheus-process-exporter"
GROUPS = 50
STORM_CMD = "sleep 0.050"


# ------------------------------------------------------------------ processes

class IdleUnderNames:
    """Idle /bin/cat processes reading a pipe we hold (as bench/idle_procs.py)
    but exec'd through symlinks mb-g00..mb-gNN, so their comm puts them in
    GROUPS groups; posix_spawn, ~1 ms each. close() ends and reaps them."""

    def __init__(self, linkdir):
        self.r, self.w = os.pipe()
        self.pids = []
        self.links = []
        for g in range(GROUPS):
            link = os.path.join(linkdir, f"mb-g{g:02}")
            os.symlink("/bin/cat", link)
            self.links.append(link)
        self.actions = [(os.POSIX_SPAWN_DUP2, self.r, 0),
                        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)]

    def grow(self, n):
        while len(self.pids) < n:
            link = self.links[len(self.pids) % GROUPS]
            self.pids.append(os.posix_spawn(link, [os.path.basename(link), "-"], os.environ,
                                            file_actions=self.actions))

    def close(self):
        if self.w is not None:
            os.close(self.r)
            os.close(self.w)
            self.r = self.w = None
        for pid in self.pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.pids = []


def cpu_ticks_s(pid):
    """utime + stime of the whole process, seconds (10 ms resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_run_s(pid):
    """Run time of every live thread, seconds (ns resolution; a thread that
    ended takes its share with it: the windows' threads live throughout)."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass
    return total / 1e9


class Exporter:
    def __init__(self, home, storm_regex):
        self.config = os.path.join(home, "process-exporter.yml")
        with open(self.config, "w") as f:
            f.write("process_names:\n")
            for g in range(GROUPS):
                f.write(f"  - name: g{g:02}\n    comm: [mb-g{g:02}]\n")
            f.write(f"  - name: storm\n    cmdline: ['{storm_regex}']\n")
            f.write("  - name: other\n    cmdline: ['.*']\n")
        self.log = open(os.path.join(home, "process-exporter.log"), "wb")
        for _ in range(5):
            self.port = tp.free_port()
            self.address = f"127.0.0.1:{self.port}"
            self.proc = subprocess.Popen([EXPORTER, "-config.path", self.config, "-web.listen-address", self.address,
                                          "-gather-smaps=false", "-threads=false"],
                                         stdout=self.log, stderr=self.log)
            try:
                tp.wait_for(lambda: self.proc.poll() is not None or self.answers(), "the exporter to listen", 20)
            except AssertionError:
                self.stop()
                raise
            if self.proc.poll() is None:
                return
        raise RuntimeError("process-exporter did not start")

    def answers(self):
        try:
            return tp.http(f"http://{self.address}/metrics", timeout=5)[0] == 200
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


# ------------------------------------------------------------------ measuring

def scrape_burst(address, pid, n, budget=None):
    """n scrapes back to back on one kept-alive connection (as Prometheus
    keeps one), fewer (at least 5) if they take more than budget seconds:
    latencies (s), the body size, and the CPU the server used."""
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    lat = []
    size = 0
    c0, r0 = cpu_ticks_s(pid), cpu_run_s(pid)
    try:
        start = time.perf_counter()
        for i in range(n):
            if budget and i >= 5 and time.perf_counter() - start > budget:
                break
            t0 = time.perf_counter()
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            body = resp.read()
            lat.append(time.perf_counter() - t0)
            assert resp.status == 200, resp.status
            size = len(body)
    finally:
        conn.close()
    return lat, size, cpu_ticks_s(pid) - c0, cpu_run_s(pid) - r0


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def ms(s):
    return f"{s * 1000:.2f} ms"


def group_sum(body, name, prefix):
    return sum(v for (n, labels), v in tp.samples(body).items()
               if n == name and any(k == "group" and g.startswith(prefix) for k, g in labels))


NO_REFRESH = 3600000  # the longest refresh: only the one at start, so the endpoint is all that differs


def daemon_config(metrics, refresh_ms=None):
    groups = "".join(f'[[metrics.group]]\nname = "g{g:02}"\ncomm = ["mb-g{g:02}"]\n' for g in range(GROUPS))
    groups += f'[[metrics.group]]\nname = "storm"\ncmdline = ["{STORM_CMD}"]\n'
    if not metrics:
        return ""
    refresh = f"refresh_interval_ms = {refresh_ms}\n" if refresh_ms else ""
    return f'[metrics]\nlisten = "127.0.0.1:0"\nread = ["fds", "io", "ctxsw"]\n{refresh}{groups}'


def start_daemon(home, metrics, refresh_ms=None):
    os.makedirs(home)
    d = tp.MetricsDaemon(home, daemon_config(metrics, refresh_ms))
    if d.proc.poll() is not None:
        raise RuntimeError(f"procmond did not start:\n{d.log_text()[-2000:]}")
    d.address = tp.metrics_address(d) if metrics else None
    return d


def storm(n):
    """n `sleep 0.050` started one after another, each reaped as it ends;
    returns the wall time."""
    t0 = time.monotonic()
    live = set()
    for _ in range(n):
        live.add(os.posix_spawn("/bin/sleep", STORM_CMD.split(), os.environ))
        for pid in list(live):  # only ours: the daemons are children too
            if os.waitpid(pid, os.WNOHANG)[0]:
                live.discard(pid)
    for pid in live:
        os.waitpid(pid, 0)
    return time.monotonic() - t0


# ------------------------------------------------------------------ the run

def run(args, tmp, cleanup):
    idle = IdleUnderNames(tmp)
    cleanup.append(idle.close)
    print(f"procmond: {args.procmond}; {GROUPS} groups; exporter: {EXPORTER} -gather-smaps=false -threads=false")
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    for n in args.counts:
        t0 = time.monotonic()
        idle.grow(n)
        print(f"\n== {n} idle processes (+{len(os.listdir('/proc')) - n} other entries in /proc); "
              f"spawned in {time.monotonic() - t0:.1f} s")
        home = os.path.join(tmp, f"n{n}")
        off = start_daemon(os.path.join(home, "off"), metrics=False)
        cleanup.append(off.kill)
        quiet = start_daemon(os.path.join(home, "quiet"), metrics=True, refresh_ms=NO_REFRESH)
        cleanup.append(quiet.kill)
        on = start_daemon(os.path.join(home, "on"), metrics=True, refresh_ms=NO_REFRESH)
        cleanup.append(on.kill)
        full = start_daemon(os.path.join(home, "default"), metrics=True)  # the default 15 s refresh
        cleanup.append(full.kill)
        exp = Exporter(home, r"^sleep 0\.050$")
        cleanup.append(exp.stop)
        # the first refresh: every idle process counted in its group
        tp.wait_for(lambda: group_sum(on.scrape()[1], "procmon_group_processes", "g") >= n,
                    f"procmond's first refresh to count {n}", 60)

        # scrapes back to back: latency, CPU per scrape
        k = args.scrapes
        for name, address, pid in (("procmond", on.address, on.pid), ("process-exporter", exp.address, exp.proc.pid)):
            scrape_burst(address, pid, 3)  # warm
            q0 = cpu_run_s(quiet.pid)
            t0 = time.monotonic()
            lat, size, ticks, run_s = scrape_burst(address, pid, k, budget=args.budget)
            count = len(lat)
            wall = time.monotonic() - t0
            twin = cpu_run_s(quiet.pid) - q0 if name == "procmond" else 0.0  # the refresh and events, not the scrapes
            print(f"{name:17} {count} scrapes: p50 {ms(statistics.median(lat))}, p99 {ms(pct(lat, 99))}, "
                  f"max {ms(max(lat))}; {size / 1024:.0f} KiB; CPU/scrape {ms((run_s - twin) / count)} "
                  f"(schedstat, less the unscraped twin's {ms(twin)}), {ms(ticks / count)} (stat ticks); "
                  f"{wall:.1f} s")
            if name == "procmond":
                per_scrape_procmond = (run_s - twin) / count
            else:
                per_scrape_exporter = run_s / count
        print(f"  CPU per scrape, process-exporter / procmond: {per_scrape_exporter / per_scrape_procmond:.1f}x")

        # one Prometheus scraping the scraped procmond and the exporter each second
        prom = tp.Prometheus(os.path.join(home))
        cleanup.append(prom.stop)
        prom.scrape_job("procmond", on.address)
        prom.scrape_job("procmond_default", full.address)
        prom.scrape_job("process_exporter", exp.address)
        prom.wait_value('up{job="procmond"}', lambda v: v == 1, "up for procmond", 30)
        # the exporter may not make Prometheus's timeout (a finding, not a failure): its first scrape done
        prom.wait_value('scrape_duration_seconds{job="process_exporter"}', lambda v: v is not None,
                        "a first scrape of the exporter", 30)
        prom.wait_value('up{job="procmond_default"}', lambda v: v == 1, "up for procmond_default", 30)
        procs = {"procmond, metrics off": off.pid, "procmond, metrics on, no refresh, not scraped": quiet.pid,
                 "procmond, metrics on, no refresh, scraped 1/s": on.pid,
                 "procmond, metrics on, 15 s refresh, scraped 1/s": full.pid,
                 "process-exporter, scraped 1/s": exp.proc.pid}
        before = {k: (cpu_run_s(p), cpu_ticks_s(p)) for k, p in procs.items()}
        t0 = time.monotonic()
        time.sleep(args.window)
        wall = time.monotonic() - t0
        share = {}
        print(f"CPU over {wall:.1f} s of 1 s scrapes, % of one core: stat ticks (every thread, 10 ms each: "
              f"{100 * 0.01 / wall:.3f}% resolution); schedstat (ns, live threads only: misses the refresh's "
              f"short-lived reader threads)")
        run_share = {}
        for k, p in procs.items():
            run_s, ticks = cpu_run_s(p) - before[k][0], cpu_ticks_s(p) - before[k][1]
            share[k], run_share[k] = 100 * ticks / wall, 100 * run_s / wall
            print(f"  {k:48} {share[k]:.3f}%  {run_share[k]:.4f}%")
        for job in ("procmond", "procmond_default", "process_exporter"):
            sel = f'{{job="{job}"}}[{int(wall)}s]'
            up = prom.query_one(f"avg_over_time(up{sel})")
            took = prom.query_one(f"avg_over_time(scrape_duration_seconds{sel})")
            print(f"  Prometheus, job {job}: up {up:.2f} of the time, scrape_duration_seconds avg {ms(took)} "
                  f"(its timeout: 900 ms)")
        # no refresh in either: the threads that live throughout are the whole difference (schedstat's precision)
        endpoint = (run_share["procmond, metrics on, no refresh, scraped 1/s"]
                    - run_share["procmond, metrics on, no refresh, not scraped"])
        feature = share["procmond, metrics on, 15 s refresh, scraped 1/s"] - share["procmond, metrics off"]
        print(f"  the endpoint at 1 scrape/s: {endpoint:+.4f}% of a core (scraped - not scraped, schedstat), "
              f"{100 * per_scrape_procmond:.4f}% by CPU per scrape x 1/s (target < 0.1% at 1,000); "
              f"metrics in all at the defaults (15 s refresh + endpoint, stat ticks): {feature:+.3f}%; "
              f"process-exporter / procmond's endpoint: "
              f"{share['process-exporter, scraped 1/s'] / max(endpoint, 1e-6):.0f}x, "
              f"/ procmond's metrics in all: {share['process-exporter, scraped 1/s'] / max(feature, 1e-6):.1f}x")

        if n == args.counts[0]:
            def storm_counts():
                body = on.scrape()[1]
                c = {k: tp.value(body, f"procmon_group_{k}_total", group="storm") or 0
                     for k in ("starts", "execs", "exits")}
                c["lost"] = tp.value(body, "procmon_events_lost_total") or 0
                c["kernel_lost"] = tp.value(body, "procmond_kernel_events_lost_total") or 0
                c["other_exits"] = tp.value(body, "procmon_group_exits_total", group="other") or 0
                return c
            c0 = storm_counts()
            t_start = time.time()
            direct = []  # the exporter's num_procs, read back to back during the storm
            storming = threading.Event()

            def sample():
                while storming.is_set():
                    body = tp.http(f"http://{exp.address}/metrics", timeout=30)[2]
                    v = tp.value(body, "namedprocess_namegroup_num_procs", groupname="storm")
                    direct.append("absent" if v is None else int(v))
            storming.set()
            sampler = threading.Thread(target=sample)
            sampler.start()
            try:
                took = storm(1000)
            finally:
                storming.clear()
                sampler.join()
            try:
                tp.wait_for(lambda: storm_counts()["exits"] - c0["exits"] >= 1000, "procmond to count 1,000 exits", 15)
            except AssertionError as e:  # a figure to report, not a reason to stop
                print(f"  ({e} in 15 s)")
            time.sleep(2)  # two more scrapes of the exporter after the last one ended
            c1 = storm_counts()
            body = on.scrape()[1]
            fast = tp.value(body, "procmon_group_lifetime_seconds_bucket", group="storm", le="0.1")
            print(f"storm: 1,000 processes living 50 ms, started in {took:.1f} s")
            print(f"  procmond: starts +{c1['starts'] - c0['starts']:.0f}, execs +{c1['execs'] - c0['execs']:.0f}, "
                  f"exits +{c1['exits'] - c0['exits']:.0f} (exit code 0: "
                  f"{tp.value(body, 'procmon_group_exit_codes_total', group='storm', code='0')}); "
                  f"lifetime <= 0.1 s: {fast}; meanwhile events lost +{c1['lost'] - c0['lost']:.0f}, "
                  f"kernel drops +{c1['kernel_lost'] - c0['kernel_lost']:.0f}, "
                  f"exits in other +{c1['other_exits'] - c0['other_exits']:.0f}")
            span = f"{int(time.time() - t_start) + 1}s"
            samples = prom.api("query", query=f'namedprocess_namegroup_num_procs{{job="process_exporter",'
                                              f'groupname="storm"}}[{span}]')["result"]
            values = [int(float(v)) for r in samples for _, v in r["values"]]
            cpu = prom.query_one(f'sum(increase(namedprocess_namegroup_cpu_seconds_total{{job="process_exporter",'
                                 f'groupname="storm"}}[{span}]))')
            print(f"  process-exporter: num_procs{{groupname=\"storm\"}} at its {len(values)} scrapes by Prometheus "
                  f"over the storm: {values or 'no series'}; no start or exit counters; "
                  f"cpu_seconds increase {cpu}; read back to back {len(direct)} times during the storm: {direct}")
            pm_cpu = prom.query_one(f'sum(increase(procmon_group_cpu_seconds_total{{job="procmond",'
                                    f'group="storm"}}[{span}]))')
            print(f"  (procmond's storm cpu_seconds increase, from refreshes: {pm_cpu})")
        prom.stop()
        for f in (exp.stop, full.kill, on.kill, quiet.kill, off.kill):
            f()
    idle.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--procmond", default=os.path.join(ROOT, "build/release/daemon/procmond"))
    ap.add_argument("--counts", default="1000,10000", type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--scrapes", default=200, type=int)
    ap.add_argument("--window", default=30.0, type=float,
                    help="seconds of 1 s scrapes measured (a multiple of the 15 s refresh: as many refreshes in each)")
    ap.add_argument("--budget", default=15.0, type=float, help="seconds at most for each burst of scrapes")
    args = ap.parse_args()
    tp.PROCMOND = args.procmond
    sys.modules["test_daemon"].PROCMOND = args.procmond
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    tmp = tempfile.mkdtemp(prefix="procmond-metrics-bench-")
    cleanup = []
    started = time.monotonic()
    try:
        run(args, tmp, cleanup)
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave orphans
        for f in reversed(cleanup):
            try:
                f()
            except Exception as e:  # one failure must not leave the rest running
                print(f"cleanup: {e!r}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"\n(total {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
