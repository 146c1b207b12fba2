"""Lifecycle events: exec and exit status, LOST, asyncio, selectors, closing."""

import asyncio
import os
import selectors
import subprocess
import sys
import threading
import time

import pytest

import procmon
from conftest import events_of as collect, stderr_after_ctrl_c, wait_until


def test_child_that_execs_and_exits_with_3():
    with procmon.Monitor() as m, m.subscribe(descendants_of=os.getpid()) as sub:
        started = time.monotonic()
        p = subprocess.Popen(["/bin/sh", "-c", "exit 3"])
        p.wait()
        lived_at_most = time.monotonic() - started
        events = collect(sub, p.pid, "exit")
        assert m.stats()["event_source"] in ("netlink", "polling")
    types = [e.type for e in events]
    assert types == ["start", "exec", "exit"], types
    start, exe, exit_ = events
    assert start.ppid == os.getpid()
    assert exe.exe == os.path.realpath("/bin/sh") or exe.partial
    assert exit_.exit_code == 3 and exit_.exit_signal == 0
    # the start time is kept in clock ticks, cut down to one: the lifetime may be a tick longer
    assert 0 < exit_.lifetime <= lived_at_most + 1 / os.sysconf("SC_CLK_TCK")
    assert start.seq < exe.seq < exit_.seq


def test_stats_time_each_returned_event_by_stage():
    with procmon.subscribe(descendants_of=os.getpid()) as sub:
        p = subprocess.Popen(["/bin/sh", "-c", "exit 0"])
        p.wait()
        collect(sub, p.pid, "exit")
        st = sub.stats()
    assert st["timed"] >= 3
    lat = st["latency"]
    assert set(lat) == {"receive", "enrich", "deliver", "total"}
    for stage in lat.values():
        assert stage["p50_ns"] <= stage["p99_ns"] <= stage["max_ns"] <= lat["total"]["max_ns"]
    assert lat["total"]["p50_ns"] > 0


def test_killed_child_reports_the_signal():
    with procmon.subscribe(descendants_of=os.getpid()) as sub:
        if procmon.default_monitor().stats()["event_source"] != "netlink":
            pytest.skip("exit status needs the netlink source (root)")
        p = subprocess.Popen(["/bin/sleep", "60"])
        time.sleep(0.05)
        p.kill()
        p.wait()
        exit_ = collect(sub, p.pid, "exit")[-1]
    assert exit_.exit_code is None and exit_.exit_signal == 9


def test_polling_source_sees_start_and_exit():
    with procmon.Monitor(event_source="polling", poll_interval=0.05) as m, \
            m.subscribe(descendants_of=os.getpid()) as sub:
        p = subprocess.Popen(["/bin/sleep", "0.4"])
        events = collect(sub, p.pid, "start")
        p.wait()  # a zombie is still a process: reap it before waiting for its exit
        events += collect(sub, p.pid, "exit")
        assert m.stats()["event_source"] == "polling"
        assert "forced" in m.stats()["source_reason"]
    assert events[0].type == "start" and events[-1].type == "exit"
    assert events[-1].exit_code is None  # polling cannot know it


def test_stalled_subscription_reports_lost_with_a_count():
    with procmon.Monitor() as m, m.subscribe(descendants_of=os.getpid(), queue=procmon.QUEUE_MIN) as sub:
        for _ in range(10):
            subprocess.run(["/bin/true"], check=True)
        wait_until(lambda: sub.stats()["dropped"] > 0, what="drops")
        time.sleep(0.2)
        events = sub.get_batch(100, timeout=1)
        while True:
            more = sub.get_batch(100, timeout=0.2)
            if not more:
                break
            events += more
        lost = [e for e in events if e.type == "lost"]
        assert lost, [e.type for e in events]
        assert all(e.lost is not None for e in lost)
        assert sum(e.lost for e in lost) == sub.stats()["dropped"] > 0
        assert sub.stats()["lost"] == sub.stats()["dropped"]


def test_asyncio_subscription():
    async def main():
        with procmon.subscribe(descendants_of=os.getpid()) as sub:
            child = await asyncio.create_subprocess_exec("/bin/sh", "-c", "exit 7")
            seen = []

            async def read():
                async for e in sub:
                    if e.pid == child.pid:
                        seen.append(e)
                        if e.type == "exit":
                            return

            await asyncio.wait_for(read(), 10)
            await child.wait()
            return seen

    seen = asyncio.run(main())
    assert [e.type for e in seen] == ["start", "exec", "exit"]
    if procmon.default_monitor().stats()["event_source"] == "netlink":
        assert seen[-1].exit_code == 7


def test_async_iteration_ends_when_closed():
    async def main():
        sub = procmon.subscribe(descendants_of=os.getpid())
        asyncio.get_running_loop().call_later(0.2, sub.close)
        return [e async for e in sub]

    assert asyncio.run(asyncio.wait_for(main(), 5)) == []


def test_selector_on_fileno():
    with procmon.subscribe(descendants_of=os.getpid()) as sub:
        sel = selectors.DefaultSelector()
        sel.register(sub.fileno(), selectors.EVENT_READ)
        assert sel.select(timeout=0) == []
        subprocess.run(["/bin/true"])
        assert sel.select(timeout=5)
        assert sub.get(timeout=0) is not None
        sel.close()


def test_close_from_another_thread_wakes_the_reader():
    sub = procmon.subscribe(descendants_of=os.getpid())
    raised = []

    def reader():
        try:
            sub.get()
        except procmon.Closed as e:
            raised.append(e)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.2)
    assert t.is_alive()  # waiting, without holding the GIL (we are running)
    sub.close()
    t.join(5)
    assert not t.is_alive() and len(raised) == 1
    assert list(sub) == []  # iteration of a closed subscription ends
    with pytest.raises(procmon.Closed):
        sub.get(timeout=0)


def test_closing_the_monitor_closes_its_subscriptions():
    m = procmon.Monitor()
    sub = m.subscribe(name="no-such-process-name")
    assert sub.fileno() >= 0 and not sub.closed
    waiting = []
    t = threading.Thread(target=lambda: waiting.append(list(sub)))  # iterating: waits for events
    t.start()
    time.sleep(0.2)
    m.close()
    t.join(5)
    assert not t.is_alive() and waiting == [[]]  # the wait ended at once, and so did the iteration
    assert sub.closed
    with pytest.raises(ValueError):  # as a closed file's fileno()
        sub.fileno()
    with pytest.raises(procmon.Closed):
        sub.fileno()
    start = time.monotonic()
    for wait in (sub.get, sub.get_batch):
        with pytest.raises(procmon.Closed):
            wait(timeout=None)
    assert time.monotonic() - start < 1
    with pytest.raises(procmon.Closed):
        m.snapshot()
    sub.close()
    assert sub.closed


def test_dispatch_calls_back_and_propagates_exceptions():
    with procmon.subscribe(descendants_of=os.getpid()) as sub:
        for _ in range(3):
            subprocess.run(["/bin/true"])
        wait_until(lambda: sub.stats()["queue_depth"] >= 9, what="nine events")
        seen = []
        assert sub.dispatch(seen.append, max=2) == 2
        assert len(seen) == 2

        def boom(e):
            raise KeyError("from the callback")

        with pytest.raises(KeyError, match="from the callback"):
            sub.dispatch(boom)

        def reenter(e):
            sub.get(timeout=0)

        with pytest.raises(procmon.Busy):
            sub.dispatch(reenter)
        rest = sub.get_batch(100, timeout=0)
        assert len(rest) >= 5  # the events after the failing ones stay queued


def test_filters_and_bad_arguments():
    with pytest.raises(procmon.InvalidArgument):
        procmon.subscribe(events={"start", "nonsense"})
    with pytest.raises(procmon.InvalidArgument):
        procmon.subscribe(queue=1)
    with pytest.raises(procmon.InvalidArgument):
        procmon.subscribe(name="[unclosed")
    # Each child lives long enough to be read after its exec: one that is
    # gone first has no name to filter on, and passes (nothing vanishes unseen).
    with procmon.subscribe(events="exit", name="slee?", descendants_of=os.getpid()) as sub:
        subprocess.run([sys.executable, "-c", "import time; time.sleep(0.1)"])
        subprocess.run(["/bin/sleep", "0.1"])
        e = sub.get(timeout=5)
        assert e.type == "exit" and e.name == "sleep" and not e.partial
        assert sub.get(timeout=0.3) is None


def test_ctrl_c_interrupts_a_waiting_reader():
    code = "import procmon, sys\nprint('waiting', flush=True)\nfor e in procmon.subscribe(name='no-such-name'): pass\n"
    err = stderr_after_ctrl_c(code)
    assert "KeyboardInterrupt" in err, err


def test_stats_and_close_from_inside_dispatch():
    with procmon.subscribe(descendants_of=os.getpid()) as sub:
        subprocess.run(["/bin/true"])
        wait_until(lambda: sub.stats()["queue_depth"] >= 3, what="three events")
        depths = []

        def cb(e):
            depths.append(sub.stats()["queue_depth"])
            sub.close()  # allowed from the callback: no more calls after it

        assert sub.dispatch(cb) == 1
        assert len(depths) == 1 and sub.closed

