"""Helpers for procmon's Python tests: children that are always reaped."""

import os
import signal
import subprocess
import sys
import time

import pytest


class Children:
    def __init__(self):
        self.procs = []

    def spawn(self, argv, **kw):
        # a process group (and session) of its own: close() kills what it started too (a shell's sleeps)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def sleeper(self, *extra, seconds=60):
        return self.spawn(["/bin/sleep", str(seconds), *extra]) if not extra else self.spawn(list(extra))

    def burst(self):
        """A python that spends its first 0.3 s of CPU, then sleeps: its
        lifetime average is high, its use from now on nil. Returns once it sleeps."""
        p = self.spawn([sys.executable, "-c", "import time\nwhile time.process_time() < 0.3: pass\ntime.sleep(60)"])
        wait_until(lambda: cpu_seconds(p.pid) > 0.25, what="the burst")
        wait_sleeping(p.pid)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:  # alive: its pid is still its group's
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.fixture
def children():
    c = Children()
    yield c
    c.close()


def wait_until(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def events_of(sub, pid, until, timeout=10.0):
    """Events of pid from sub, until one of type `until`."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        e = sub.get(timeout=0.2)
        if e is not None and e.pid == pid:
            got.append(e)
            if e.type == until:
                return got
    raise AssertionError(f"no {until} event for {pid}; got {got}")


def wait_exec(pid, exe_tail, timeout=10.0):
    """Until pid runs the program whose path ends in exe_tail (after fork, before exec, it is python),
    with its arguments in place (exec switches exe before it sets them up: argv reads empty meanwhile)."""
    def done():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return os.readlink(f"/proc/{pid}/exe").endswith(exe_tail) and f.read() != b""
        except OSError:
            return False
    wait_until(done, timeout, f"pid {pid} to exec {exe_tail}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    utime, stime = data[data.rindex(b")") + 2:].split()[11:13]
    return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def wait_sleeping(pid, timeout=10.0):
    """Until pid is asleep (state S): a fresh sleep(1) may still be running
    its start-up, and values read at two moments would differ."""
    def asleep():
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return data[data.rindex(b")") + 2:data.rindex(b")") + 3] == b"S"
    wait_until(asleep, timeout, f"pid {pid} to sleep")


def stderr_after_ctrl_c(code):
    """Runs Python code that prints "waiting" and then blocks; sends it
    SIGINT and returns what it wrote to stderr."""
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "waiting\n"
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        return p.communicate(timeout=10)[1]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
