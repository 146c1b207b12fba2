"""Hostile arguments: every entry point of the public API, given a wrong type,
None, a huge or negative int, a float, NaN or bytes for str, raises TypeError
(wrong type) or ValueError (right type, outside its range), as Python's own
functions do; nothing reaches the C library truncated, wrapped around or
undefined, and nothing crashes the interpreter. Paths are taken as
os.fsencode takes them, timeouts mean the same everywhere."""

import math
import os
import pathlib
import subprocess
import sys
import threading
import time

import pytest

import procmon
from conftest import wait_exec

NAN, INF = float("nan"), float("inf")
HOSTILE = {"None": None, "huge": 2 ** 64, "negative": -1, "float": 1.5, "str": "x", "bytes": b"x", "nan": NAN,
           "object": object()}
T, V = TypeError, ValueError
# What each kind of parameter raises for each hostile value; a value it
# takes (None for an optional one, a float for seconds...) is left out.
KINDS = {
    "count": dict(None_=T, huge=V, negative=V, float=T, str=T, bytes=T, nan=T, object=T),
    "seconds": dict(None_=T, huge=V, negative=V, str=T, bytes=T, nan=V, object=T),
    "optional seconds": dict(huge=V, negative=V, str=T, bytes=T, nan=V, object=T),
    "timeout": dict(negative=V, str=T, bytes=T, nan=V, object=T),  # None, inf and huge: as long as it takes
    "path": dict(None_=T, huge=T, negative=T, float=T, nan=T, object=T),
    "optional path": dict(huge=T, negative=T, float=T, nan=T, object=T),
    "pattern": dict(huge=T, negative=T, float=T, nan=T, object=T),
    "names": dict(huge=T, negative=T, float=T, str=V, bytes=T, nan=T, object=T),  # "x": no such name
    "list of names": dict(huge=T, negative=T, float=T, str=T, bytes=T, nan=T, object=T),
    "user": dict(huge=V, negative=V, float=T, str=V, bytes=T, nan=T, object=T),  # "x": no such user
    "flag": dict(None_=T, str=T, bytes=T),
    "choice": dict(None_=T, huge=T, negative=T, float=T, str=V, bytes=T, nan=T, object=T),
    "monitor": dict(huge=T, negative=T, float=T, str=T, bytes=T, nan=T, object=T),  # None: the default
    "optional callback": dict(huge=T, negative=T, float=T, str=T, bytes=T, nan=T, object=T),
    "callback": dict(None_=T, huge=T, negative=T, float=T, str=T, bytes=T, nan=T, object=T),
    "since": dict(str=T, bytes=T, nan=V, object=T),  # before 1970: all; past 2554: none
    "pids": dict(huge=T, negative=T, float=T, str=T, bytes=T, nan=T, object=T),
    "events": dict(None_=T, huge=T, negative=T, float=T, str=T, bytes=T, nan=T, object=T),
    "pid": dict(None_=T, float=T, str=T, bytes=T, nan=T, object=T),  # huge, negative: no such process
    "optional pid": dict(float=T, str=T, bytes=T, nan=T, object=T),
    "index": dict(None_=T, huge=IndexError, float=T, str=T, bytes=T, nan=T, object=T),
}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """Objects of every public class, and one call per parameter of every
    public entry point: (name, kind, call taking the value)."""
    d = tmp_path_factory.mktemp("args")
    m = procmon.Monitor()
    sub = m.subscribe(name="no-such-process-name")
    journal = procmon.Journal(d / "j")
    reader = procmon.JournalReader(d / "j")
    snap = m.snapshot(pids=[os.getpid()])
    sleeper = subprocess.Popen(["/bin/sleep", "60"])  # what signals would go to, never this process
    wait_exec(sleeper.pid, "sleep")
    p = procmon.Process(sleeper.pid, monitor=m)
    j = d / "new"
    calls = [
        *[(f"Monitor({k}=)", kind, lambda v, k=k: procmon.Monitor(**{k: v}))
          for k, kind in [("memory_cap", "count"), ("threads", "count"), ("argv_cap", "count"),
                          ("poll_interval", "seconds"), ("proc_root", "optional path"), ("cache", "flag"),
                          ("event_source", "choice")]],
        *[(f"snapshot({k}=)", kind, lambda v, k=k: m.snapshot(**{k: v}))
          for k, kind in [("fields", "names"), ("name", "pattern"), ("cmdline", "pattern"), ("user", "user"),
                          ("pids", "pids"), ("refresh", "flag"), ("interval", "optional seconds")]],
        ("snapshot(pids=[v])", "count", lambda v: m.snapshot(pids=[v])),
        ("process_iter(attrs)", "list of names", lambda v: list(m.process_iter(v))),
        *[(f"subscribe({k}=)", kind, lambda v, k=k: m.subscribe(**{k: v}).close())
          for k, kind in [("events", "names"), ("name", "pattern"), ("cmdline", "pattern"), ("user", "user"),
                          ("descendants_of", "count"), ("queue", "count"), ("threads", "flag"),
                          ("undecidable", "flag")]],
        ("Subscription.get(timeout)", "timeout", lambda v: sub.get(v)),
        ("Subscription.get_batch(max)", "count", lambda v: sub.get_batch(v, timeout=0)),
        ("Subscription.get_batch(timeout=)", "timeout", lambda v: sub.get_batch(timeout=v)),
        ("Subscription.dispatch(callback)", "callback", lambda v: sub.dispatch(v)),
        ("Subscription.dispatch(max=)", "count", lambda v: sub.dispatch(print, v)),
        ("Journal(directory)", "path", lambda v: procmon.Journal(v).close()),
        ("Journal(monitor)", "monitor", lambda v: procmon.Journal(j, v).close()),
        *[(f"Journal({k}=)", kind, lambda v, k=k: procmon.Journal(j, m, **{k: v}).close())
          for k, kind in [("fsync", "choice"), ("fsync_interval", "seconds"), ("queue", "count"),
                          ("segment_size", "count"), ("max_size", "count"), ("max_age", "optional seconds"),
                          ("events", "names"), ("name", "pattern"), ("cmdline", "pattern"), ("user", "user"),
                          ("descendants_of", "count"), ("undecidable", "flag")]],
        ("Journal.append(events)", "events", lambda v: journal.append(v)),
        ("Journal.append([v])", "events", lambda v: journal.append([v])),
        ("Journal.sync(timeout)", "timeout", lambda v: journal.sync(v)),
        ("JournalReader(directory)", "path", lambda v: procmon.JournalReader(v)),
        ("JournalReader(since_seq=)", "count", lambda v: procmon.JournalReader(d / "j", since_seq=v)),
        ("JournalReader(since_time=)", "since", lambda v: procmon.JournalReader(d / "j", since_time=v)),
        ("JournalReader.get(timeout)", "timeout", lambda v: reader.get(v)),
        ("JournalReader.follow(timeout)", "timeout", lambda v: next(reader.follow(v), None)),
        ("Process(pid)", "optional pid", lambda v: procmon.Process(v)),
        ("Process(monitor=)", "monitor", lambda v: procmon.Process(monitor=v)),
        ("Process.send_signal(sig)", "count", lambda v: p.send_signal(v)),
        ("Process.cpu_percent(interval)", "optional seconds", lambda v: p.cpu_percent(v)),
        ("Process.wait(timeout)", "timeout", lambda v: p.wait(v)),
        ("Process.as_dict(attrs)", "list of names", lambda v: p.as_dict(v)),
        ("Process.children(recursive)", "flag", lambda v: p.children(v)),
        ("wait_procs(timeout=)", "timeout", lambda v: procmon.wait_procs([p], v)),
        ("wait_procs(callback=)", "optional callback", lambda v: procmon.wait_procs([p], 0, v)),
        ("pid_exists(pid)", "pid", lambda v: procmon.pid_exists(v)),
        *[(f"{f.__name__}(monitor=)", "monitor", lambda v, f=f: f(monitor=v))
          for f in (procmon.pids, procmon.system, procmon.virtual_memory, procmon.swap_memory, procmon.boot_time,
                    procmon.getloadavg, procmon.cpu_count)],
        ("pid_exists(monitor=)", "monitor", lambda v: procmon.pid_exists(1, v)),
        ("Snapshot.find(pid)", "pid", lambda v: snap.find(v)),
        ("Snapshot.children(pid)", "pid", lambda v: snap.children(v)),
        ("Snapshot[i]", "index", lambda v: snap[v]),
        ("Snapshot.as_dicts(attrs)", "list of names", lambda v: snap.as_dicts(v)),
        ("Record.as_dict(attrs)", "list of names", lambda v: snap[0].as_dict(v)),
    ]
    yield calls
    sleeper.kill()
    sleeper.wait()
    for h in (sub, journal, reader, m):
        h.close()


def test_every_entry_point_raises_type_or_value_error(api, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # Journal(None) once made ./None
    wrong = []
    for name, kind, call in api:
        for label, expected in KINDS[kind].items():
            value = HOSTILE[label.rstrip("_")]
            try:
                call(value)
                got = None
            except Exception as e:  # noqa: BLE001 -- what it raised is the point
                got = e
            if not isinstance(got, expected):
                wrong.append(f"{name} with {value!r}: {type(got).__name__}: {got} (expected {expected.__name__})")
    assert not wrong, "\n".join(wrong)


def test_values_no_process_can_have_are_not_errors():
    snap = procmon.snapshot(pids=[os.getpid()])
    for pid in (2 ** 64, 2 ** 31, -1):
        assert snap.find(pid) is None and snap.children(pid) == []
        assert procmon.pid_exists(pid) is False
        if pid > 0:
            with pytest.raises(procmon.NoSuchProcess):
                procmon.Process(pid)  # as psutil's
    assert snap[-1].pid == os.getpid()


def test_the_extension_never_crashes_on_hostile_values(tmp_path, children):
    """Every callable of procmon._procmon, each argument in turn hostile: it
    may raise anything, but the interpreter lives (a child runs them: a
    crash would take pytest with it). Journal.append([None]) was a SIGSEGV."""
    code = r'''
import itertools, os, sys
from procmon import _procmon as x
child = int(sys.argv[1])  # what a signal would go to (with start_ticks 0: never sent)
hostile = [None, 2 ** 64, -1, 1.5, "x", b"x", float("nan"), object(), [None], "a\0b", b"a\0b", -2 ** 63]
ctx = x.Context(0, 0, 0, True, False, 1000, None, b"")
def sub(): return ctx.subscribe(0, b"no-such-name", None, -1, 0, 0, False, False, 0, False)
j = x.Journal(b"j", None, 0, 1000, 0, 0, 0, 0, 0, None, None, -1, 0, False)
r = x.JournalReader(b"j", 0, 0)
snap = ctx.enumerate(0, None, None, -1, [os.getpid()], False)
calls = {  # callable: valid arguments (a timeout of 0: hostile values are tried one place at a time)
    x.Context: (0, 0, 0, True, True, 1000, b"/proc", b""),
    ctx.enumerate: (0, None, None, -1, None, False),
    ctx.subscribe: (0, None, None, -1, 0, 0, False, False, 0, False),
    ctx.signal: (child, 0, 0),
    x.Journal: (b"k", None, 0, 1000, 0, 0, 0, 0, 0, None, None, -1, 0, False),
    j.append: ([],), j.sync: (0,),
    x.JournalReader: (b"j", 0, 0), r.next: (1, 0),
    snap.find: (1,), snap.at: (0,), x.strerror: (0,), x.user_name: (0,),
    sub().next: (1, 0), sub().dispatch: (print, 1),
}
n = 0
for f, args in calls.items():
    for i, v in itertools.product(range(len(args)), hostile):
        if f.__name__ == "next" and i == 1 and v in (None, 2 ** 64, 1.5):
            continue  # a timeout that waits: as long as it takes, or a second and a half
        a = list(args)
        a[i] = v
        try:
            f(*a)
        except BaseException:
            pass
        n += 1
print("survived", n)
'''
    child = children.sleeper()
    out = subprocess.run([sys.executable, "-c", code, str(child.pid)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "survived" in out.stdout, (out.returncode, out.stdout, out.stderr[-2000:])


# ------------------------------------------------------------------ paths

def test_paths_are_taken_as_os_fsencode_takes_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    odd = os.fsdecode(b"\xffodd")  # a name that is not UTF-8, as os.listdir gives it
    for directory, on_disk in [(b"from-bytes", b"from-bytes"), ("from-str", b"from-str"),
                               (pathlib.Path("from-path"), b"from-path"), (odd, b"\xffodd")]:
        with procmon.Journal(directory) as j:
            assert j.sync() == 0
        assert on_disk in os.listdir(b".")
        with procmon.JournalReader(directory) as r:
            assert r.get() is None
    for wrong in (None, 123, 1.5, ["x"]):
        with pytest.raises(TypeError, match="str, bytes or os.PathLike"):
            procmon.Journal(wrong)
        with pytest.raises(TypeError, match="str, bytes or os.PathLike"):
            procmon.JournalReader(wrong)
        with pytest.raises(TypeError, match="str, bytes or os.PathLike"):
            procmon.Monitor(proc_root=wrong if wrong is not None else 0)
    assert sorted(os.listdir(b".")) == [b"from-bytes", b"from-path", b"from-str", b"\xffodd"]  # no "None", "123"
    with procmon.Monitor(proc_root=b"/proc") as m, procmon.Monitor(proc_root=pathlib.Path("/proc")) as m2:
        assert m.snapshot(pids=[os.getpid()]).find(os.getpid()) is not None
        assert m2.snapshot(pids=[os.getpid()]).find(os.getpid()) is not None


def test_an_embedded_nul_is_refused_as_open_refuses_it(tmp_path):
    with pytest.raises(ValueError, match="embedded null byte"):
        open(tmp_path / "a\0b")  # what Python itself does
    for path in ("/proc\0junk", b"/proc\0junk"):
        with pytest.raises(ValueError, match="embedded null byte"):
            procmon.Monitor(proc_root=path)
    for make in (procmon.Journal, procmon.JournalReader):
        with pytest.raises(ValueError, match="embedded null byte"):
            make(str(tmp_path / "j") + "\0junk")
    assert os.listdir(tmp_path) == []  # not cut at the NUL and made
    with procmon.Monitor() as m:
        for kw in ("name", "cmdline"):
            # "python3\0anything" would have matched as "python3"
            for pattern in ("*\0nothing", b"*\0nothing"):
                with pytest.raises(ValueError, match="embedded null byte"):
                    m.snapshot(**{kw: pattern})
                with pytest.raises(ValueError, match="embedded null byte"):
                    m.subscribe(**{kw: pattern})
                with pytest.raises(ValueError, match="embedded null byte"):
                    procmon.Journal(tmp_path / "j2", m, **{kw: pattern})


def test_patterns_as_bytes_and_surrogate_escapes(children, tmp_path):
    link = os.path.join(os.fsencode(tmp_path), b"\xff-odd")
    os.symlink(b"/bin/sleep", link)
    k = children.spawn([link, "60"])
    wait_exec(k.pid, "sleep")
    for pattern in (b"\xff-od?", os.fsdecode(b"\xff-od?")):
        assert [p.pid for p in procmon.snapshot(name=pattern)] == [k.pid], pattern
        assert [p.pid for p in procmon.snapshot(cmdline=b"*\xff-odd 60")] == [k.pid]


# ------------------------------------------------------------------ timeouts

def _waits(call, seconds):
    """Whether call() is still waiting after seconds; then the callers close
    what it waits on, which must end it."""
    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(seconds)
    return t


def test_infinite_timeouts_wait_until_closed(tmp_path):
    writer = procmon.Journal(tmp_path / "j")
    reader = procmon.JournalReader(tmp_path / "j")
    ended = []
    t = _waits(lambda: ended.append(reader.get(INF)), 0.6)
    assert t.is_alive() and not ended  # was back after 0.2 s with None
    with procmon.subscribe(descendants_of=os.getpid()) as sub:
        subprocess.run(["/bin/true"])
        first = sub.get(timeout=INF)  # an event comes: it returns with it
    writer.append([first])
    t.join(5)
    assert not t.is_alive() and ended[0].pid == first.pid
    writer.close()
    with procmon.Monitor() as m:
        sub = m.subscribe(name="no-such-process-name")
        raised = []

        def wait():
            try:
                sub.get(INF)
            except procmon.Closed as e:
                raised.append(e)

        t = _waits(wait, 0.3)
        assert t.is_alive()
        sub.close()
        t.join(5)
        assert not t.is_alive() and len(raised) == 1
    reader.close()


def test_nan_and_negative_timeouts_are_refused_everywhere(tmp_path, children):
    j = procmon.Journal(tmp_path / "j")
    r = procmon.JournalReader(tmp_path / "j")
    k = children.spawn(["/bin/sleep", "60"])
    p = procmon.Process(k.pid)
    with procmon.subscribe(name="no-such-process-name") as sub:
        waits = [sub.get, lambda t: sub.get_batch(timeout=t), j.sync, r.get, lambda t: next(r.follow(t), None),
                 p.wait, lambda t: procmon.wait_procs([p], t)]
        for wait in waits:
            for bad in (NAN, -1, -INF):
                start = time.monotonic()
                with pytest.raises(procmon.InvalidArgument):
                    wait(bad)
                assert time.monotonic() - start < 0.1
    for interval in (NAN, -1, INF):  # measured over: must be finite
        with pytest.raises(procmon.InvalidArgument):
            p.cpu_percent(interval)
        with pytest.raises(procmon.InvalidArgument):
            procmon.snapshot(interval=interval)
    r.close()
    j.close()

