#!/usr/bin/env python3
"""Writes a /proc tree of N synthetic processes for the performance gate:
the same content on every machine, so counts over it are deterministic.
Uses the writers of tests/fixtures/make_fixtures.py.
Usage: make_fixture.py DIR [N]   (DIR is replaced)"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures"))
import make_fixtures as mf  # noqa: E402



def with_argument_area(stat, size):
    """stat with arg_start..arg_end (fields 48, 49) spanning `size` bytes and
    env_start (50) right after, as the kernel shows a process whose cmdline is
    `size` bytes: procmon stops reading cmdline there, so a fixture that lied
    about it (100 bytes for ~50) never ran that path and a planted off-by-one
    in it passed the gate."""
    f = stat.rstrip("\n").split(" ")
    assert len(f) == 52 and " " not in f[1], "stat_line's layout changed"
    f[48] = f[49] = str(int(f[47]) + size)
    return " ".join(f) + "\n"


target = os.path.abspath(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
shutil.rmtree(target, ignore_errors=True)
r = mf.root(os.path.basename(target), base=os.path.dirname(target))
for i in range(n):
    pid = 1000 + i
    name = f"worker-{i % 37}"
    argv = f"/usr/bin/{name}\0--id\0{i}\0--config\0/etc/app/{i % 7}.conf\0".encode()
    mf.proc(r, pid, {
        "stat": with_argument_area(mf.stat_line(pid, name, ppid=1 if i < 10 else 1000 + i // 10, utime=100 + i,
                                                stime=i % 50, start=100 + i, rss=1000 + i), len(argv)),
        "status": mf.status(name, uid=(1000 + i % 3,) * 4, gid=(1000,) * 4),
        "cmdline": argv,
        "io": mf.IO,
        "cgroup": f"0::/system.slice/app-{i % 5}.service\n",
    }, exe=f"/usr/bin/{name}", cwd="/srv", fds=0)
print(f"{n} processes in {target}")
