"""The machine as a whole, memory percentages and smaps, and top's CPU %."""

import os
import sys

import psutil
import pytest

import procmon


def test_system_agrees_with_psutil():
    vm, theirs = procmon.virtual_memory(), psutil.virtual_memory()
    assert vm.total == theirs.total and vm._fields == ("total", "available", "percent", "used", "free")
    assert abs(vm.available - theirs.available) < theirs.total * 0.05
    assert vm.used == vm.total - vm.available and abs(vm.percent - theirs.percent) < 5
    sw = procmon.swap_memory()
    assert sw.total == psutil.swap_memory().total and sw.used + sw.free == sw.total
    assert abs(procmon.boot_time() - psutil.boot_time()) < 1.0
    assert procmon.cpu_count() == psutil.cpu_count() and procmon.cpu_count(logical=False) is None
    assert all(abs(a - b) < 2 for a, b in zip(procmon.getloadavg(), os.getloadavg()))
    s = procmon.system()
    assert s["processes"] > 1 and s["mem_total_bytes"] == vm.total
    with procmon.Monitor() as m:
        assert m.system()["cpus"] == s["cpus"]


def test_memory_percent_and_full_info():
    total = procmon.virtual_memory().total
    me = procmon.Process()
    rss = me.memory_info().rss
    assert abs(me.memory_percent() - rss * 100 / total) < 0.5
    with pytest.raises(ValueError):
        me.memory_percent("uss")
    full, theirs = me.memory_full_info(), psutil.Process().memory_full_info()
    assert full._fields == ("rss", "vms", "uss", "pss", "swap")
    assert 0 < full.uss <= full.pss <= full.rss * 1.1
    assert abs(full.uss - theirs.uss) < max(theirs.uss // 10, 1 << 20)
    rec = procmon.snapshot(["memory", "smaps"], pids=[os.getpid()])[0]
    assert rec.memory_full_info.uss > 0 and rec.memory_percent > 0
    assert procmon.snapshot(pids=[os.getpid()])[0].memory_full_info is None  # opt-in: not read by default
    assert "memory_full_info" in procmon.ATTRS and "memory_percent" in procmon.ATTRS


def test_snapshot_over_an_interval_gives_tops_cpu_percent(children):
    busy = children.spawn([sys.executable, "-c", "while True: pass"])
    burst = children.burst()  # busy for its first 0.3 s of CPU, then asleep: its lifetime average stays high
    with procmon.Monitor() as m:  # a fresh context: one snapshot gives lifetime averages
        lifetime = m.snapshot(pids=[burst.pid])[0].cpu_percent
    assert lifetime > 5  # 0.3 s of CPU in its few seconds of life
    theirs = psutil.Process(busy.pid)
    with procmon.Monitor() as m:
        theirs.cpu_percent()
        snap = m.snapshot(pids=[busy.pid, burst.pid], interval=0.4)
        expected = theirs.cpu_percent()  # over the same interval: the machine is shared
    ours = snap.find(busy.pid).cpu_percent
    assert ours > 5 and abs(ours - expected) < max(15, expected * 0.3), (ours, expected)
    assert snap.find(burst.pid).cpu_percent < min(5, lifetime / 2)  # asleep during the interval
    with pytest.raises(procmon.InvalidArgument):
        procmon.snapshot(interval=-1)
