"""The journal from Python: a Monitor's events recorded and read back, the
Events of a subscription appended, a second writer refused, a damaged record
skipped and shown as lost, a reader following a writer, and a waiting
reader ended by close() from another thread or by Ctrl-C."""

import os
import subprocess
import sys
import threading
import time

import pytest

import procmon
from conftest import stderr_after_ctrl_c, wait_until


def test_records_a_monitors_events_and_reads_them_back(tmp_path):
    d = tmp_path / "j"
    with procmon.Monitor() as m, procmon.Journal(d, m, descendants_of=os.getpid()) as j:
        p = subprocess.Popen(["/bin/sh", "-c", "exit 6"])
        p.wait()

        def has_exit():
            j.sync()
            return any(e.pid == p.pid and e.type == "exit" for e in procmon.JournalReader(d))

        wait_until(has_exit, what="the child's exit in the journal")
        st = j.stats()
        assert st["records"] >= 3 and st["lost"] == 0 and st["last_error"] is None
        assert st["durable_seq"] == st["next_seq"] - 1
    events = [e for e in procmon.JournalReader(d) if e.pid == p.pid]
    assert [e.type for e in events] == ["start", "exec", "exit"]
    assert events[-1].exit_code == 6
    seqs = [e.seq for e in procmon.JournalReader(d)]
    assert seqs == list(range(1, len(seqs) + 1))
    later = list(procmon.JournalReader(d, since_seq=events[1].seq))
    assert later[0].seq == events[1].seq


def test_append_from_a_subscription_and_since_time(tmp_path):
    d = tmp_path / "j"
    with procmon.subscribe(descendants_of=os.getpid()) as sub:
        subprocess.run(["/bin/true"])
        got = []
        wait_until(lambda: got.extend(sub.get_batch(timeout=0.2)) or any(e.type == "exit" for e in got),
                   what="the child's events")
    with procmon.Journal(d, fsync="never") as j:
        j.append(got)
        assert j.sync(timeout=10) == len(got)
    back = list(procmon.JournalReader(d))
    assert [(e.type, e.pid, e.cmdline) for e in back] == [(e.type, e.pid, e.cmdline) for e in got]
    assert list(procmon.JournalReader(d, since_time=time.time() + 3600)) == []


def test_second_writer_is_locked_and_damage_is_lost_not_data(tmp_path):
    d = tmp_path / "j"
    with procmon.subscribe(descendants_of=os.getpid()) as sub:
        for _ in range(3):
            subprocess.run(["/bin/true"])
        events = []
        wait_until(lambda: events.extend(sub.get_batch(timeout=0.2)) or len(events) >= 9, what="nine events")
    with procmon.Journal(d) as j:
        with pytest.raises(procmon.Locked, match="locked by another writer"):
            procmon.Journal(d)
        j.append(events[:9])
    seg = sorted(p for p in d.iterdir() if p.suffix == ".pmj")[0]
    data = bytearray(seg.read_bytes())
    data[64 + 20] ^= 0xFF  # inside the first record's payload
    seg.write_bytes(bytes(data))
    with procmon.JournalReader(d) as r:
        back = list(r)
        st = r.stats()
    assert back[0].type == "lost" and back[0].lost == 1 and back[0].synthesized
    assert [e.seq for e in back[1:]] == list(range(2, 10))
    assert st["corrupt_records"] == 1 and st["first_corrupt_offset"] == 64 and st["missing"] == 1
    assert st["skipped_files"] == 0
    os.mkfifo(d / "00000000000000000100.pmj")  # named like a segment, not a file: skipped, never opened
    with procmon.JournalReader(d) as r:
        assert [e.seq for e in r] == [e.seq for e in back] and r.stats()["skipped_files"] == 1
    os.unlink(d / "00000000000000000100.pmj")
    (d / "00000000000000000001.pmj").write_bytes(b"x" * 80)
    with pytest.raises(procmon.JournalFormatError):
        procmon.JournalReader(d)


def test_a_reader_follows_a_writer(tmp_path):
    d = tmp_path / "j"
    j = procmon.Journal(d, fsync="interval", fsync_interval=0.01)
    with procmon.subscribe(descendants_of=os.getpid()) as sub:
        subprocess.run(["/bin/true"])
        got = []
        wait_until(lambda: got.extend(sub.get_batch(timeout=0.2)) or len(got) >= 3, what="three events")
    reader = procmon.JournalReader(d)
    assert reader.get() is None

    def write_later():
        time.sleep(0.2)
        j.append(got[:3])

    t = threading.Thread(target=write_later)
    t.start()
    followed = [reader.get(timeout=5) for _ in range(3)]
    t.join()
    assert [e.seq for e in followed] == [1, 2, 3]
    t = threading.Thread(target=lambda: (time.sleep(0.1), j.append(got[:2])))
    t.start()
    assert [e.seq for e in reader.follow(timeout=2)] == [4, 5]  # ends 2 s after the last
    t.join()
    j.close()
    assert j.closed
    with pytest.raises(procmon.Closed):
        j.sync()
    with pytest.raises(procmon.InvalidArgument):
        procmon.Journal(d, fsync="sometimes")


def test_close_from_another_thread_ends_a_waiting_reader(tmp_path):
    procmon.Journal(tmp_path / "j").close()
    reader = procmon.JournalReader(tmp_path / "j")
    raised = []

    def wait():
        try:
            reader.get(None)
        except procmon.Closed as e:
            raised.append(e)

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.3)
    assert t.is_alive()  # waiting, without holding the GIL (we are running)
    start = time.monotonic()
    reader.close()
    t.join(5)
    assert not t.is_alive() and len(raised) == 1
    assert time.monotonic() - start < 1  # woken, not found at a next slice
    with pytest.raises(procmon.Closed):
        reader.get()
    reader.close()  # twice is fine


def test_ctrl_c_interrupts_a_following_reader(tmp_path):
    procmon.Journal(tmp_path / "j").close()
    code = (f"import procmon\nr = procmon.JournalReader({str(tmp_path / 'j')!r})\n"
            "print('waiting', flush=True)\nfor e in r.follow(): pass\n")
    err = stderr_after_ctrl_c(code)
    assert "KeyboardInterrupt" in err, err
