"""Each error class, mapped from the library's status codes with its message."""

import os
import subprocess
import sys

import pytest


import procmon


def test_hierarchy():
    for cls in (procmon.AccessDenied, procmon.NoSuchProcess, procmon.OutOfMemory, procmon.Closed,
                procmon.InvalidArgument, procmon.Busy):
        assert issubclass(cls, procmon.Error)
    assert issubclass(procmon.InvalidArgument, ValueError)
    assert issubclass(procmon.AccessDenied, PermissionError)
    assert issubclass(procmon.OutOfMemory, MemoryError)


def test_invalid_argument_carries_code_and_message():
    with pytest.raises(procmon.InvalidArgument) as e:
        procmon.snapshot(name="[unclosed")
    assert e.value.code == -1 and "name_glob" in e.value.message and str(e.value) == e.value.message
    with pytest.raises(procmon.InvalidArgument):
        procmon.snapshot(fields=["cpu", "bogus"])
    with pytest.raises(procmon.InvalidArgument):
        procmon.Monitor(memory_cap=1000)
    with pytest.raises(procmon.InvalidArgument):
        procmon.snapshot(pids=[0])


def test_no_such_proc_root():
    with pytest.raises(procmon.NoSuchProcess) as e:
        procmon.Monitor(proc_root="/nonexistent/proc")
    assert e.value.code == -4 and "/nonexistent/proc" in e.value.message


def test_out_of_memory_then_usable(children):
    big = [b"x" * (120 * 1024)] * 10  # 1.2 MB of argv: more than the smallest cap
    k = children.spawn([b"/bin/sh", b"-c", b"sleep 60; :", b"sh"] + big)
    with procmon.Monitor(memory_cap=procmon.MIN_ARENA_CAP) as m:
        import time
        deadline = time.monotonic() + 10
        with pytest.raises(procmon.OutOfMemory) as e:
            while time.monotonic() < deadline:  # until the child's argv is in place
                m.snapshot(["argv"], pids=[k.pid])
        assert e.value.code == -2
        assert m.snapshot(pids=[os.getpid()]).find(os.getpid()) is not None


def test_closed():
    m = procmon.Monitor()
    m.close()
    m.close()  # twice is fine
    with pytest.raises(procmon.Closed):
        m.snapshot()
    with pytest.raises(procmon.Closed):
        m.subscribe()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges")
def test_access_denied_and_unprivileged_events_in_a_child():
    code = """
import os, procmon
try:
    procmon.Monitor(proc_root="/root")
    print("no error")
except procmon.AccessDenied as e:
    print("denied", e.code)
import subprocess
with procmon.subscribe(events="exit", descendants_of=os.getpid()) as sub:
    subprocess.run(["/bin/sleep", "0.1"])  # long enough to be read after its exec
    e = sub.get(timeout=5)
    print(procmon.default_monitor().stats()["source_reason"])
    print(e.type, e.name)
"""
    out = subprocess.run([sys.executable, "-c", code], user=65534, group=65534, capture_output=True, text=True,
                         cwd="/", env={"PYTHONPATH": os.environ.get("PYTHONPATH", ""), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "denied -3"
    # Kernels before 6.6 refuse the proc connector without CAP_NET_ADMIN:
    # then polling, saying why. Either way the events arrive.
    assert lines[1] == "netlink proc connector" or "CAP_NET_ADMIN" in lines[1], lines[1]
    assert lines[2] == "exit sleep", lines
