#!/usr/bin/python3
"""procmond end to end: the real daemon started as a plain process (no
systemd here), a raw-protocol client built from the frame and message
layouts (docs/protocol.md, src/protocol/messages.cpp, docs/wire.md),
and clients that drop to uid 65534 (nobody) in a forked child.

Usage: PROCMOND=build/dev/daemon/procmond python3 -m pytest -q tests/daemon/test_daemon.py
(ctest `daemon` runs it so). Needs root: the daemon reads every process and
the tests change uid.
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest

PROCMOND = os.environ.get("PROCMOND", "build/dev/daemon/procmond")
NOBODY = 65534

# message types (src/protocol/frame.hpp)
HELLO, PING, ENUMERATE, SYSTEM, STATS, SIGNAL, SUBSCRIBE, STATUS, CLIENTS = range(1, 10)
WELCOME, PONG, SNAPSHOT, SYSTEM_INFO, STATS_INFO, DONE, SUBSCRIBED, EVENTS, STATUS_INFO, CLIENT_LIST, HISTORY_END = \
    range(0x81, 0x8C)
ERROR = 0xFF
# include/procmon.h
ENOMEM, EPERM, EAGAIN, EPROTO = -2, -3, -6, -18
FIELD_BASIC, FIELD_CPU, FIELD_EXE, FIELD_ARGV, FIELD_IDS, FIELDS_DEFAULT = 0x1, 0x2, 0x20, 0x40, 0x10, 0x7F
FIELD_SMAPS, FIELDS_ALL = 0x1000, 0x1FFF
EVENT_START, EVENT_EXEC, EVENT_EXIT, EVENT_LOST, EVENTS_ALL = 0x1, 0x2, 0x4, 0x20, 0x3F
FLAG_SYNTHESIZED = 0x1
PERM_SNAPSHOT, PERM_SUBSCRIBE, PERM_JOURNAL, PERM_SEE_OTHERS = 0x1, 0x2, 0x4, 0x8

need_root = pytest.mark.skipif(os.geteuid() != 0, reason="procmond's tests change uid: run them as root")


# ------------------------------------------------------------------ encoding

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):
    return (v << 1) ^ (v >> 63)


def text(s):
    b = s.encode()
    return varint(len(b)) + b + b"\0"


def frame(msg_type, payload=b""):
    return struct.pack("<I", len(payload) + 1) + bytes([msg_type]) + payload


class Reader:
    """Reads what the codec's put_* wrote."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def varint(self):
        v = shift = 0
        while True:
            b = self.data[self.at]
            self.at += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    def signed(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def byte(self):
        self.at += 1
        return self.data[self.at - 1]

    def f64(self):
        self.at += 8
        return struct.unpack_from("<d", self.data, self.at - 8)[0]

    def bytes(self):
        n = self.varint()
        b = self.data[self.at:self.at + n]
        self.at += n + 1  # and its NUL
        return b

    def text(self):
        return self.bytes().decode(errors="replace")

    def done(self):
        return self.at == len(self.data)


def decode_process(r):
    """One record of docs/wire.md: the fields these tests look at."""
    assert r.byte() == 1  # record version
    end = r.varint()
    end += r.at
    p = {"flags": r.varint(), "valid": r.varint()}
    p["pid"], p["ppid"], _, _, _ = (r.signed() for _ in range(5))
    r.byte()  # state
    p["uid"], p["euid"], _, _, _, _ = (r.varint() for _ in range(6))
    p["name"], p["exe"], p["argv"] = r.text(), r.text(), r.bytes()
    r.varint(), r.varint()  # argc, threads
    p["start_ticks"] = r.varint()
    p["start_time_ns"] = r.varint()
    r.varint(), r.varint()  # utime, stime
    p["cpu_percent"] = r.f64()
    r.varint(), r.varint(), r.signed(), r.signed()
    r.text()  # cwd
    for _ in range(9):  # fd count, io, context switches
        r.varint()
    r.text(), r.text()  # cgroup, container id
    p["full_name"] = r.text()
    r.f64()  # mem percent
    p["pss"], p["uss"], p["swap"] = r.varint(), r.varint(), r.varint()
    r.at = end  # the rest: numbers this test does not need
    return p


def decode_snapshot(payload):
    r = Reader(payload)
    return {p["pid"]: p for p in (decode_process(r) for _ in range(r.varint()))}


def decode_events(payload):
    r = Reader(payload)
    events = []
    for _ in range(r.varint()):
        seq, length = r.varint(), r.varint()
        e = Reader(payload[r.at:r.at + length])
        r.at += length
        ev = {"seq": seq, "type": e.byte(), "flags": e.byte(), "pid": e.signed(), "ppid": e.signed()}
        uid = e.varint()
        ev["uid"] = uid - 1 if uid else None
        e.varint(), e.varint(), e.varint()  # time, age, start ticks
        ev["exit_code"], ev["exit_signal"] = e.signed(), e.signed()
        e.varint()  # lifetime
        ev["lost"], ev["argc"] = e.varint(), e.varint()
        ev["name"], ev["exe"], ev["argv"] = e.text(), e.text(), e.bytes()
        events.append(ev)
    return events


def decode_error(payload):
    r = Reader(payload)
    return r.signed(), r.text()


def decode_status(payload):
    r = Reader(payload)
    s = {"protocol_version": r.varint(), "daemon_version": r.text(), "daemon_pid": r.signed(), "peer_uid": r.varint()}
    for k in ("started_ns", "clients", "subscriptions", "connections_total", "connections_refused", "requests_total",
              "events_delivered", "events_dropped", "journal_next_seq", "journal_durable_seq", "journal_bytes",
              "journal_segments", "journal_lost", "config_generation", "config_loaded_ns",
              "config_reload_failures"):
        s[k] = r.varint()
    s["config_path"], s["source_name"] = r.text(), r.text()
    return s


def decode_stats(payload):
    r = Reader(payload)
    s = {}
    for k in ("arena_cap", "arena_used", "arena_peak", "enumerations", "cache_entries", "cache_hits", "cache_misses",
              "event_source", "poll_interval_ms"):
        s[k] = r.varint()
    s["source_reason"] = r.text()
    return s


# ------------------------------------------------------------------ client

class ProtocolError(Exception):
    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


class Client:
    def __init__(self, path, hello=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.buf = b""
        self.welcome = self.hello() if hello else None

    def close(self):
        self.sock.close()

    def send(self, msg_type, payload=b""):
        self.sock.sendall(frame(msg_type, payload))

    def recv(self):
        """The next frame as (type, payload); None when the daemon closed."""
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack_from("<I", self.buf)[0]
                if len(self.buf) >= 4 + n:
                    f = (self.buf[4], self.buf[5:4 + n])
                    self.buf = self.buf[4 + n:]
                    return f
            try:
                chunk = self.sock.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk

    def expect(self, want):
        f = self.recv()
        assert f is not None, "procmond closed the connection"
        if f[0] == ERROR and want != ERROR:
            raise ProtocolError(*decode_error(f[1]))
        assert f[0] == want, f"frame type {f[0]:#x}, wanted {want:#x}"
        return f[1]

    def hello(self, version_min=1, version_max=1, client=None):
        client = f"test pid {os.getpid()}" if client is None else client
        self.send(HELLO, varint(version_min) + varint(version_max) + varint(7) + text(client))
        r = Reader(self.expect(WELCOME))
        return {"version": r.varint(), "capabilities": r.varint(), "permissions": r.varint(), "server": r.text(),
                "peer_pid": r.signed(), "peer_uid": r.varint()}

    def ping(self, token=42):
        self.send(PING, varint(token))
        return Reader(self.expect(PONG)).varint() == token

    def snapshot(self, fields=FIELDS_DEFAULT, name_glob=None, flags=0):
        glob = b"\0" if name_glob is None else b"\1" + text(name_glob)
        self.send(ENUMERATE, varint(fields) + varint(flags) + varint(zigzag(-1)) + glob + b"\0\0")
        return decode_snapshot(self.expect(SNAPSHOT))

    def signal(self, pid, start_ticks, sig):
        self.send(SIGNAL, varint(zigzag(pid)) + varint(start_ticks) + varint(zigzag(sig)))
        self.expect(DONE)

    def status(self):
        self.send(STATUS)
        return decode_status(self.expect(STATUS_INFO))

    def stats(self):
        self.send(STATS)
        return decode_stats(self.expect(STATS_INFO))

    def subscribe(self, events=EVENTS_ALL, queue_capacity=0, from_seq=0, flags=0):
        self.send(SUBSCRIBE, varint(events) + varint(flags) + varint(zigzag(-1)) + varint(0) +
                  varint(queue_capacity) + b"\0\0" + varint(from_seq))
        return Reader(self.expect(SUBSCRIBED)).varint()

    def events(self, timeout=10):
        self.sock.settimeout(timeout)
        try:
            return decode_events(self.expect(EVENTS))
        finally:
            self.sock.settimeout(10)


def as_nobody(work):
    """Runs work() in a forked child that dropped to uid/gid 65534; its
    JSON-able result, or the exception text it raised."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            out = {"ok": work()}
        except BaseException as e:  # the child must never return into pytest
            out = {"error": type(e).__name__, "text": str(e), "status": getattr(e, "status", None)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class BusyThenAsleep:
    """A child that, told to go, spins 0.3 s of its own CPU time, says so,
    and then sleeps until killed: its %CPU over a window depends on where the
    window starts, which the CPU-window tests need. CPU time, not a loop
    count or a clock: the same on a fast machine and on a loaded one."""

    SPIN = ("import sys, time\n"
            "sys.stdin.readline()\n"
            "t = time.process_time()\n"
            "while time.process_time() - t < 0.3: pass\n"
            "print('spun', flush=True)\n"
            "sys.stdin.readline()\n")

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", self.SPIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.pid = self.proc.pid

    def go_and_wait_asleep(self):
        """Starts the busy part and returns once it is over."""
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == b"spun\n"

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def wait_for(condition, what, timeout=15.0):
    """Polls condition() until it is true (returns its value) or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}" + (f" (last: {value!r})" if value is not None else ""))
        time.sleep(0.02)


# ------------------------------------------------------------------ the daemon

class Daemon:
    def __init__(self, tmp, config, journal=""):
        self.dir = tmp
        self.journal = journal  # more [journal] keys, kept by every rewrite
        self.socket = os.path.join(tmp, "procmond.sock")
        self.config = os.path.join(tmp, "procmond.toml")
        self.log_path = os.path.join(tmp, "procmond.log")
        self.write_config(config)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([PROCMOND, "--config", self.config], stderr=self.log)
        self.pid = self.proc.pid
        wait_for(self.answers, "procmond to listen")

    def write_config(self, body, mode="0666"):
        # Replaced whole, as an editor saves (write aside, then rename).
        tmp = self.config + ".new"
        with open(tmp, "w") as f:
            f.write(f'[socket]\npath = "{self.socket}"\nmode = "{mode}"\n'
                    f'[journal]\ndir = "{self.dir}/journal"\nfsync = "never"\n{self.journal}' + body)
        os.rename(tmp, self.config)

    def answers(self):
        try:
            c = Client(self.socket)
            ok = c.ping()
            c.close()
            return ok
        except OSError:
            return False

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, needle, timeout=10.0):
        return wait_for(lambda: needle in self.log_text(), f"the log to say {needle!r}", timeout)

    def status(self):
        c = Client(self.socket)
        try:
            return c.status()
        finally:
            c.close()

    def fd_count(self):
        """The daemon's open fds but the journal's segment files (the
        writer opens the next before it closes the last)."""
        fds = f"/proc/{self.pid}/fd"
        count = 0
        for fd in os.listdir(fds):
            try:
                target = os.readlink(f"{fds}/{fd}")
            except FileNotFoundError:  # closed as we looked
                continue
            count += not (target.startswith(f"{self.dir}/journal/") and target.endswith(".pmj"))
        return count

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
            assert rc == 0, f"procmond exited {rc} on SIGTERM"
        self.log.close()


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="procmond-test-")
    os.chmod(d, 0o755)  # nobody must reach the socket in it
    yield d
    subprocess.run(["rm", "-rf", d])


@pytest.fixture
def start(tmp):
    daemons = []

    def starter(config="", journal=""):
        d = Daemon(tmp, config, journal)
        daemons.append(d)
        return d

    yield starter
    for d in daemons:
        d.stop()  # always reaped, also when the test failed


# ------------------------------------------------------------------ tests

def test_check_config(tmp):
    good = os.path.join(tmp, "good.toml")
    with open(good, "w") as f:
        f.write('[socket]\nmode = "0660"\n[limits]\nmax_clients = 8\n[[allow]]\nusers = [0, "nobody"]\nsnapshot = false\n')
    r = subprocess.run([PROCMOND, "--check-config", good], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, f"{good}: ok\n"), r.stderr

    bad = os.path.join(tmp, "bad.toml")
    with open(bad, "w") as f:
        f.write('[socket]\nmode = "0999"\n[limits]\nmax_clent = 8\n[context]\nevent_source = "ebpf"\n')
    r = subprocess.run([PROCMOND, "--check-config", bad], capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout == ""
    assert f'{bad}:2:8: socket.mode: "0999" is not an octal mode' in r.stderr
    assert f"{bad}:4:1: unknown key limits.max_clent" in r.stderr  # a typo is refused, not ignored
    assert f'{bad}:6:16: context.event_source: "ebpf"' in r.stderr

    # the example shipped beside the daemon
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "daemon", "procmond.toml")
    r = subprocess.run([PROCMOND, "--check-config", example], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.endswith(": ok\n"), r.stderr

    broken = os.path.join(tmp, "broken.toml")
    with open(broken, "w") as f:
        f.write("[socket]\npath = /run/x.sock\n")
    r = subprocess.run([PROCMOND, "--check-config", broken], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.startswith(f"{broken}:2:"), r.stderr


@need_root
def test_unprivileged_client_sees_own_processes_and_only_public_fields_of_roots(start):
    d = start()

    def look():
        c = Client(d.socket)
        snap = c.snapshot()
        me, daemon = snap[os.getpid()], snap[d.pid]
        return {"welcome": c.welcome, "me": [me["valid"], me["exe"]],
                "daemon": [daemon["valid"], daemon["exe"], daemon["argv"].decode(errors="replace")]}

    seen = as_nobody(look)["ok"]
    assert seen["welcome"]["peer_uid"] == NOBODY
    # default: snapshot, subscribe, journal; not other users' guarded fields
    assert seen["welcome"]["permissions"] == PERM_SNAPSHOT | PERM_SUBSCRIBE | PERM_JOURNAL
    assert seen["me"][0] & FIELD_EXE and seen["me"][1] == os.path.realpath("/usr/bin/python3")
    assert not seen["daemon"][0] & FIELD_EXE and seen["daemon"][1] == ""  # as /proc/PID/exe refuses nobody
    assert seen["daemon"][0] & FIELD_ARGV and PROCMOND in seen["daemon"][2]  # /proc/PID/cmdline is anyone's

    # root sees the daemon's exe
    c = Client(d.socket)
    assert c.snapshot()[d.pid]["exe"] == os.path.realpath(PROCMOND)
    c.close()

    # a config whose see_others lacks argv: root's argv is gone for nobody
    d.write_config('[default]\nsee_others = ["basic", "cpu", "memory"]\n')
    os.kill(d.pid, signal.SIGHUP)
    wait_for(lambda: d.status()["config_generation"] == 2, "the reload")
    seen = as_nobody(look)["ok"]
    assert not seen["daemon"][0] & FIELD_ARGV and seen["daemon"][2] == ""
    assert seen["me"][0] & FIELD_ARGV  # its own, in full


@need_root
def test_events_of_others_show_only_what_see_others_shows(start):
    d = start('[context]\nevent_source = "netlink"\n[default]\nsee_others = ["basic", "cpu"]\n')
    first = d.status()["journal_next_seq"]
    child = subprocess.Popen(["/bin/sh", "-c", "read line; exit 4", "procmon-events-secret"], stdin=subprocess.PIPE)

    def events_until(c, seen, event_type, what):
        wait_for(lambda: any(e["pid"] == child.pid and e["type"] == event_type for e in seen) or
                 seen.extend(c.events()), what)

    def of_child(seen):
        return [[e["type"], e["uid"], e["exe"], e["argv"].decode(errors="replace")] for e in seen
                if e["pid"] == child.pid]

    def events_of_child():
        """From the journal (from_seq), until the child's EXIT: as a peer sees them."""
        c = Client(d.socket)
        c.subscribe(from_seq=first)
        seen = []
        events_until(c, seen, EVENT_EXIT, "the child's EXIT")
        return of_child(seen)

    root_seen = None
    try:
        # root's own view: everything (also proves the events are there). The
        # child is held until its EXEC is journaled: the daemon reads exe and
        # argv when the EXEC arrives, and a child already gone by then has none
        # (other processes' events alone could end a wait on journal_next_seq).
        c = Client(d.socket)
        c.subscribe(from_seq=first)
        seen = []
        events_until(c, seen, EVENT_EXEC, "the child's EXEC in the journal")
        child.communicate(b"go\n")
        events_until(c, seen, EVENT_EXIT, "the child's EXIT")
        root_seen = of_child(seen)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert [e[0] for e in root_seen][-1] == EVENT_EXIT and all(e[1] == 0 for e in root_seen)
    assert any(e[2] and "procmon-events-secret" in e[3] for e in root_seen)
    # nobody: the same events, with uid, exe and argv hidden (ids, exe and
    # argv are not in see_others)
    seen = as_nobody(events_of_child)["ok"]
    assert [e[0] for e in seen] == [e[0] for e in root_seen]
    assert all(e[1] is None and e[2] == "" and e[3] == "" for e in seen), seen


@need_root
def test_denied_uid_and_socket_mode_refuse_nobody(start):
    d = start('[[allow]]\nusers = ["nobody"]\nconnect = false\n')
    refused = as_nobody(lambda: Client(d.socket).welcome)
    assert refused["status"] == EPERM, refused
    assert refused["text"].endswith(f": uid {NOBODY} may not connect (config {d.config})")
    d.wait_log(f"uid {NOBODY}: uid {NOBODY} may not connect")
    assert d.status()["connections_refused"] == 1

    d.write_config("")
    os.kill(d.pid, signal.SIGHUP)
    wait_for(lambda: d.status()["config_generation"] == 2, "the reload")
    assert as_nobody(lambda: Client(d.socket).ping())["ok"] is True

    # mode 0600 (root's only), in force live: connect(2) itself fails for nobody
    d.write_config("", mode="0600")
    os.kill(d.pid, signal.SIGHUP)
    wait_for(lambda: d.status()["config_generation"] == 3, "the reload")
    assert os.stat(d.socket).st_mode & 0o777 == 0o600
    denied = as_nobody(lambda: Client(d.socket).ping())
    assert denied["error"] == "PermissionError", denied  # EACCES


def hostile(d, payload, pace=None, welcomed=False):
    """Sends raw bytes on a new connection (after a hello when `welcomed`);
    returns the error frame the daemon answered, as (status, message), once
    it closed."""
    if welcomed:
        s = Client(d.socket).sock
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.socket)
    s.settimeout(15)
    if pace:
        for b in payload:  # one byte a `pace` seconds, until the daemon hangs up
            try:
                s.send(bytes([b]))
            except OSError:
                break
            time.sleep(pace)
    else:
        s.sendall(payload)
    data = b""
    try:
        while chunk := s.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    s.close()
    if not data:
        return (None, "")
    # skip a welcome, if a hello went first
    while data and data[4] != ERROR:
        data = data[4 + struct.unpack_from("<I", data)[0]:]
    return decode_error(data[5:]) if data else (None, "")


HELLO_FRAME = frame(HELLO, varint(1) + varint(1) + varint(7) + text("hostile"))


def test_hostile_frames_close_only_their_connection(start):
    d = start("[limits]\nframe_timeout_ms = 1000\nmax_request_bytes = 4096\n")
    healthy = Client(d.socket)
    cases = {
        "malformed": (HELLO_FRAME + frame(ENUMERATE, b"\xff\xff\xff"), "an ill-formed enumerate frame: an enumerate cut short"),
        "oversized": (HELLO_FRAME + struct.pack("<I", 1 << 30) + b"\x03", "a frame longer than max_request_bytes"),
        "unknown type": (HELLO_FRAME + frame(0x55), "a frame of type unknown (0x55) is not a request"),
        "no hello": (frame(PING, varint(1)), "the first frame must be a hello, not ping"),
        "old version": (frame(HELLO, varint(7) + varint(9) + varint(0) + text("x")), "no protocol version in common: the client speaks 7 to 9"),
    }
    for name, (payload, reason) in cases.items():
        status, message = hostile(d, payload)
        assert status == EPROTO and reason in message, (name, status, message)
        d.wait_log(reason)
        assert healthy.ping(), name

    truncated = Client(d.socket)  # welcomed, then sends a frame cut short and goes
    truncated.sock.sendall(struct.pack("<I", 100) + b"\x02" + b"x" * 10)
    truncated.close()
    d.wait_log("the peer closed in the middle of a frame (15 bytes of it came)")

    # slow: a ping one byte a second; and one that never says hello; both at once
    results = {}
    slow = threading.Thread(target=lambda: results.update(slow=hostile(d, frame(PING, varint(7)), pace=1.0, welcomed=True)))
    silent = threading.Thread(target=lambda: results.update(silent=hostile(d, b"")))
    slow.start(), silent.start()
    slow.join(), silent.join()
    assert results["slow"][0] == EPROTO and "not whole within frame_timeout_ms (1000 ms)" in results["slow"][1]
    assert results["silent"][0] == EPROTO and "no hello within" in results["silent"][1]
    assert healthy.ping()
    log = d.log_text()
    assert f"uid 0: a frame not whole within" in log and "no hello within frame_timeout_ms" in log


def test_thousand_connections_leak_nothing(start):
    d = start()

    def connection_threads():
        tasks = f"/proc/{d.pid}/task"
        names = []
        for t in os.listdir(tasks):
            try:
                with open(f"{tasks}/{t}/comm") as f:
                    names.append(f.read().strip())
            except FileNotFoundError:  # it ended as we looked
                pass
        return names.count("procmond-client")

    def idle():
        """The daemon's fds and RSS with no connection open: measured once
        every connection thread (named procmond-client) has ended."""
        c = Client(d.socket)
        assert c.status()["clients"] >= 1
        c.close()
        wait_for(lambda: connection_threads() == 0, "every connection thread to end")
        return d.fd_count(), d.rss_kib()

    idle()  # the first connections' one-time allocations
    fds, rss = idle()
    for i in range(1000):
        c = Client(d.socket, hello=(i % 2 == 0))  # half say hello, half hang up at once
        c.close()
    fds_after, rss_after = idle()
    assert fds_after == fds
    # Slack: glibc keeps per-thread malloc arenas and freed stacks for reuse;
    # a leak of a thread's stack or a buffer per connection would be 8 MiB
    # or more, a leaked fd shows above.
    # Under a sanitizer RSS says nothing (ASan keeps freed memory in
    # quarantine): its leak check at the daemon's exit, which stop() asserts
    # is clean (exit status 0), stands in for this one.
    if not os.environ.get("PROCMON_SANITIZE"):
        assert rss_after - rss < 3 * 1024, (rss, rss_after)
    assert d.status()["connections_total"] >= 1000


@need_root
def test_reload_invalid_keeps_old_valid_applies_live(start):
    d = start('[context]\nevent_source = "polling"\npoll_interval_ms = 1000\n')
    sub = Client(d.socket)
    first = sub.subscribe(events=EVENTS_ALL)
    admin = Client(d.socket)
    assert admin.stats()["poll_interval_ms"] == 1000

    # invalid, by SIGHUP: a syntax error on the line appended
    with open(d.config) as f:
        bad_line = len(f.readlines()) + 1
    with open(d.config, "a") as f:
        f.write("[limits\n")
    os.kill(d.pid, signal.SIGHUP)
    d.wait_log(f"reload (SIGHUP): {d.config}:{bad_line}:")
    assert admin.ping() and admin.status()["config_generation"] == 1
    # invalid, by rewriting the file: an unknown key
    d.write_config('[context]\nevent_source = "polling"\npoll_intreval_ms = 200\n')
    d.wait_log(f"reload (file changed): {d.config}:9:1: unknown key context.poll_intreval_ms")
    st = admin.status()
    assert st["config_generation"] == 1 and st["config_reload_failures"] == 2
    assert admin.stats()["poll_interval_ms"] == 1000

    # valid, by rewriting: the interval and the authorization, live
    d.write_config('[context]\nevent_source = "polling"\npoll_interval_ms = 200\n'
                   '[[allow]]\nusers = [65534]\nconnect = false\n')
    wait_for(lambda: admin.status()["config_generation"] == 2, "the valid reload")
    assert admin.stats()["poll_interval_ms"] == 200
    assert as_nobody(lambda: Client(d.socket).ping())["status"] == EPERM

    # the subscriber kept its stream: a process started after the reload reaches it
    marker = subprocess.Popen(["sleep", "1"])
    seen = []
    wait_for(lambda: any(e["pid"] == marker.pid and e["type"] == EVENT_START for e in seen)
             or seen.extend(sub.events()), "the marker's START after the reload", timeout=20)
    marker.wait()
    seqs = [e["seq"] for e in seen]
    assert seqs == list(range(first, first + len(seqs))), "no gap, no duplicate across the reload"


@need_root
def test_retention_reload_trims_the_journal_live(start):
    d = start('[context]\nevent_source = "netlink"\n', journal="segment_bytes = 65536\n")
    burst(40, 16384, lives=True)  # ~640 KiB of EXEC events: ten segments
    before = wait_for(lambda: (s := d.status())["journal_segments"] >= 4 and s, "segments to pile up")
    d.journal = "segment_bytes = 65536\nmax_bytes = 131072\n"
    d.write_config('[context]\nevent_source = "netlink"\n')
    # (a status taken during the retention pass may show it half done: wait for its end)
    trimmed = lambda s: s["config_generation"] == 2 and (s["journal_bytes"] <= 131072 or s["journal_segments"] == 1)
    after = wait_for(lambda: trimmed(s := d.status()) and s, "retention to trim the journal")
    assert after["journal_segments"] < before["journal_segments"], (before, after)
    assert after["journal_next_seq"] >= before["journal_next_seq"]


def burst(n, arg_bytes, lives=False):
    """n processes, each exec'ing /bin/true with an argument of arg_bytes:
    large EXEC events, so they outrun any socket buffer. With lives, each
    is a shell living 20 ms, so that the daemon reads its argv even on a
    loaded machine (a /bin/true is often gone first: an EXEC without argv)."""
    run = '/bin/sh -c "sleep 0.02; :" x "$a"' if lives else '/bin/true "$a"'
    subprocess.run(["sh", "-c", f'a=$(head -c {arg_bytes} /dev/zero | tr "\\0" x); '
                                f'i=0; while [ $i -lt {n} ]; do {run}; i=$((i+1)); done'], check=True)


@need_root
def test_subscriber_sees_a_child_with_journal_seq(start):
    d = start('[context]\nevent_source = "netlink"\n')
    c = Client(d.socket)
    first = c.subscribe()
    assert first == d.status()["journal_next_seq"] or first >= 1
    # the child lives until its EXEC was seen, so its exe can be read
    child = subprocess.Popen(["/bin/sh", "-c", "read line; exit 3"], stdin=subprocess.PIPE)
    seen = []
    wait_for(lambda: any(e["type"] == EVENT_EXEC and e["pid"] == child.pid for e in seen) or seen.extend(c.events()),
             "the child's EXEC")
    child.communicate(b"go\n")
    wait_for(lambda: any(e["type"] == EVENT_EXIT and e["pid"] == child.pid for e in seen) or seen.extend(c.events()),
             "the child's EXIT")
    mine = [e for e in seen if e["pid"] == child.pid]
    assert [e["type"] for e in mine] == [EVENT_START, EVENT_EXEC, EVENT_EXIT]
    assert mine[1]["exe"] == os.path.realpath("/bin/sh") and mine[2]["exit_code"] == 3
    assert all(e["seq"] >= first for e in seen)
    assert [e["seq"] for e in seen] == sorted(e["seq"] for e in seen)


@need_root
def test_stuck_subscriber_gets_exact_lost_healthy_gets_all(start):
    d = start('[context]\nevent_source = "netlink"\n')
    stuck = Client(d.socket)
    stuck_first = stuck.subscribe(queue_capacity=64)
    healthy = Client(d.socket)
    first = healthy.subscribe()
    got, done = [], threading.Event()

    def drain():
        while not done.is_set():
            try:
                got.extend(healthy.events(timeout=0.2))
            except (socket.timeout, TimeoutError):
                pass

    # The healthy client is read until the end: the machine's other
    # processes (a parallel test's, say) keep making events, and a client
    # left unread would drop some and move the daemon's count.
    reader = threading.Thread(target=drain)
    reader.start()
    try:
        burst(200, 16384)  # ~3 MiB of EXEC events: beyond a socket buffer and a pending frame
        end = subprocess.Popen(["/bin/true", "end-marker"])
        end.wait()
        wait_for(lambda: any(e["pid"] == end.pid and e["type"] == EVENT_EXIT for e in got), "the healthy client")
        check_stuck_against(d, stuck, list(got), first)
    finally:
        done.set()
        reader.join()


def check_stuck_against(d, stuck, got, first):
    """What the stuck client reads, against what the healthy one got."""
    last = max(e["seq"] for e in got)
    seqs = [e["seq"] for e in got]
    assert seqs == list(range(first, last + 1)), "the healthy client got every event, in order"
    assert not any(e["type"] == EVENT_LOST for e in got)
    # every exec of the burst (its /bin/true often exits before /proc shows
    # its argv: the library's netlink enrichment, not the daemon's doing)
    assert sum(1 for e in got if e["type"] == EVENT_EXEC) >= 200

    # now the stuck one reads: what it got, plus what its LOSTs count, is
    # exactly what its filter passes (what the healthy one, same filter, got)
    seen = []
    wait_for(lambda: (seen and seen[-1]["seq"] >= last) or seen.extend(stuck.events()), "the stuck client", 30)
    lost = [e for e in seen if e["type"] == EVENT_LOST]
    assert lost, "the stuck client lost events"
    assert all(e["flags"] & FLAG_SYNTHESIZED for e in lost)
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(seqs), "in order"
    kept = [e["seq"] for e in seen if e["type"] != EVENT_LOST and e["seq"] <= last]
    assert len(set(kept)) == len(kept), "no duplicate"
    passing = {e["seq"] for e in got}
    before_healthy = [q for q in kept if q < first]
    assert set(kept) - set(before_healthy) <= passing, "nothing the filter rejects"
    assert len(kept) - len(before_healthy) + sum(e["lost"] for e in lost) == len(passing), \
        "what it got and what its LOSTs count make every event it asked for, exactly"
    # The daemon counts as dropped exactly what its LOSTs told. Events after
    # `last` (other processes') may still drop into the stuck queue until
    # the client has caught up, so the count is compared once it has.
    def caught_up():
        try:
            seen.extend(stuck.events(timeout=0.2))
        except (socket.timeout, TimeoutError):
            pass
        told = sum(e["lost"] for e in seen if e["type"] == EVENT_LOST)
        return d.status()["events_dropped"] == told or None

    wait_for(caught_up, "the daemon's dropped count to match the LOSTs the stuck client read", 30)


@need_root
def test_each_client_measures_cpu_percent_over_its_own_window(start):
    # As the library promises of a context: since this client's previous
    # snapshot of the process, or since the process started for one it has
    # not seen; another client's snapshots in between do not move it.
    d = start("")
    child = BusyThenAsleep()
    try:
        a = Client(d.socket)
        a.snapshot()  # a's window starts
        ticks0, t0 = cpu_ticks(child.pid), time.monotonic()
        child.go_and_wait_asleep()
        b = Client(d.socket)
        for _ in range(5):  # b's snapshots while the child sleeps: without CPU
            # fields, which move b's window all the same (as a context's)
            assert not b.snapshot(fields=FIELD_BASIC)[child.pid]["valid"] & FIELD_CPU
            time.sleep(0.1)
        ticks1, window = cpu_ticks(child.pid), time.monotonic() - t0
        got_a = a.snapshot()[child.pid]["cpu_percent"]
        got_b = b.snapshot()[child.pid]["cpu_percent"]
        first = Client(d.socket).snapshot()[child.pid]
        hz = os.sysconf("SC_CLK_TCK")
        assert ticks1 - ticks0 >= 0.25 * hz  # the spin, in the window
        expected = 100 * (ticks1 - ticks0) / hz / window
        assert 0.5 * expected < got_a < 1.5 * expected + 2, (got_a, expected, window)
        assert got_b < 2, got_b  # asleep since b's last look
        age = time.time() - first["start_time_ns"] / 1e9
        lifetime = 100 * ticks1 / hz / age
        assert 0.5 * lifetime < first["cpu_percent"] < 1.5 * lifetime + 2, (first["cpu_percent"], lifetime, age)
    finally:
        child.kill()


# ------------------------------------------------------------------ hardening

def uids_of(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(tuple(int(v) for v in l.split()[1:4]) for l in f if l.startswith("Uid:"))


@need_root
def test_one_uid_cannot_take_every_slot_and_root_always_gets_in(start):
    d = start("[limits]\nmax_clients = 3\nmax_clients_per_uid = 3\n")
    held_r, held_w = os.pipe()  # the child says: my connections are open
    go_r, go_w = os.pipe()  # the parent says: done, let them go
    result = {}

    def hold():
        clients = [Client(d.socket) for _ in range(3)]
        # refused at once, before its hello: read the error frame, send nothing
        refused = list(decode_error(Client(d.socket, hello=False).expect(ERROR)))
        os.write(held_w, b"x")
        os.read(go_r, 1)
        assert all(c.ping() for c in clients)
        return refused

    t = threading.Thread(target=lambda: result.update(as_nobody(hold)))
    t.start()
    try:
        os.read(held_r, 1)
        admin = Client(d.socket)  # all of max_clients are nobody's: root still gets in
        assert admin.ping()
        admin.close()
    finally:
        os.write(go_w, b"x")
        t.join()
    assert result.get("ok") == [EAGAIN, f"too many clients of uid {NOBODY} (limits.max_clients_per_uid = 3)"], result
    d.wait_log(f"uid {NOBODY} refused: too many clients of uid {NOBODY}")

    # live: 0 lifts the per-uid limit (max_clients still counts)
    d.write_config("[limits]\nmax_clients = 8\nmax_clients_per_uid = 0\n")
    wait_for(lambda: d.status()["config_generation"] == 2, "the reload")
    assert as_nobody(lambda: [Client(d.socket).ping() for _ in range(5)])["ok"] == [True] * 5


@need_root
def test_a_slow_reader_cannot_pin_a_reply(start):
    d = start("[limits]\nframe_timeout_ms = 1000\n")
    # big argvs, so the reply is far beyond what the socket buffers hold
    # (each in a session of its own: the kill at the end takes its sleep too)
    sleepers = [subprocess.Popen(["sh", "-c", "sleep 60; true", "sh", "x" * 8192], start_new_session=True)
                for _ in range(60)]
    try:
        slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        slow.connect(d.socket)
        slow.sendall(HELLO_FRAME + frame(ENUMERATE, varint(FIELDS_ALL) + varint(0) + varint(zigzag(-1)) + b"\0\0\0"))
        slow.settimeout(30)
        slow.recv(1)  # the welcome's first byte: the daemon is sending
        began = time.monotonic()
        healthy = Client(d.socket)
        for _ in range(20):  # one byte a second, until the daemon gives up on it
            if "not taken within" in d.log_text():
                break
            assert healthy.ping()
            time.sleep(1)
            assert slow.recv(1)
        line = next(l for l in d.log_text().splitlines() if "not taken within" in l)
        took = time.monotonic() - began
        reply_bytes = int(line.split("a reply of ")[1].split()[0])
        allowed_ms = int(line.split("not taken within ")[1].split()[0])
        assert reply_bytes > 400_000 and allowed_ms == 1000 + reply_bytes * 1000 // (1 << 20), line
        assert took < allowed_ms / 1000 + 5, (took, line)  # slack for a loaded machine
        assert "uid 0: a reply of" in line
        assert healthy.ping()
        slow.close()
    finally:
        for p in sleepers:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@need_root
def test_own_means_all_three_uids_and_signals_follow_kill(start):
    d = start()
    # root's process that set only its effective uid to nobody's: not nobody's
    half = subprocess.Popen(["python3", "-c", "import os, time; os.setresuid(0, 65534, 0); time.sleep(60)"])
    # root's process, seen by root (its ids cached), that then becomes nobody's whole
    turned = subprocess.Popen(["python3", "-c", "import os, sys, time; sys.stdin.read(1); os.setresuid(65534, 65534, 65534); "
                               "time.sleep(60)"], stdin=subprocess.PIPE)
    root_sleep = subprocess.Popen(["sleep", "60"])
    try:
        wait_for(lambda: uids_of(half.pid) == (0, 65534, 0), "the half-dropped process")
        admin = Client(d.socket)
        snap = admin.snapshot()
        targets = {name: [p.pid, snap[p.pid]["start_ticks"]] for name, p in
                   (("half", half), ("turned", turned), ("root_sleep", root_sleep))}
        turned.stdin.write(b"x")
        turned.stdin.flush()
        wait_for(lambda: uids_of(turned.pid) == (NOBODY, NOBODY, NOBODY), "the process turned nobody's")

        def look_and_signal():
            c = Client(d.socket)
            half_seen = c.snapshot()[half.pid]
            out = {"half_exe": [half_seen["valid"] & FIELD_EXE, half_seen["exe"]]}
            child = subprocess.Popen(["sleep", "60"])
            wait_for(lambda: child.pid in c.snapshot(), "its child in a snapshot")
            targets["own_child"] = [child.pid, c.snapshot()[child.pid]["start_ticks"]]
            for name, (pid, ticks) in targets.items():
                try:
                    c.signal(pid, ticks, signal.SIGTERM)
                    out[name] = "done"
                except ProtocolError as e:
                    out[name] = e.status
            out["own_child_exit"] = child.wait(timeout=10)
            return out

        seen = as_nobody(look_and_signal)["ok"]
        assert seen["half_exe"] == [0, ""], seen  # /proc/PID/exe refuses nobody: so does the daemon
        assert seen["half"] == EPERM and seen["root_sleep"] == EPERM, seen
        assert seen["turned"] == "done", seen  # on fresh ids, not the cached root's
        assert seen["own_child"] == "done" and seen["own_child_exit"] == -signal.SIGTERM, seen
        assert turned.wait(timeout=10) == -signal.SIGTERM
        assert root_sleep.poll() is None and half.poll() is None
    finally:
        for p in (half, turned, root_sleep):
            p.kill()
            p.wait()


@need_root
def test_name_glob_matches_the_name_the_peer_sees(start, tmp):
    d = start()
    link = os.path.join(tmp, "a_very_long_program_name_x")  # comm: "a_very_long_pro"
    os.symlink("/bin/sleep", link)
    cut = subprocess.Popen([link, "60"])
    try:
        admin = Client(d.socket)
        wait_for(lambda: cut.pid in admin.snapshot(name_glob="*program_name_x"), "root to find it by its full name")

        def globs():
            c = Client(d.socket)
            return {"tail": cut.pid in c.snapshot(name_glob="*program_name_x"),
                    "tail_basic": cut.pid in c.snapshot(fields=FIELD_BASIC, name_glob="*program_name_x"),
                    "comm": cut.pid in c.snapshot(name_glob="a_very_long_pro*"),
                    "full_name": c.snapshot(name_glob="a_very_long_pro*")[cut.pid]["full_name"]}

        seen = as_nobody(globs)["ok"]
        assert seen == {"tail": False, "tail_basic": False, "comm": True, "full_name": "a_very_long_pro"}, seen
    finally:
        cut.kill()
        cut.wait()


@need_root
def test_smaps_only_of_the_peer_s_own_processes(start):
    d = start()

    def smaps():
        snap = Client(d.socket).snapshot(fields=FIELD_BASIC | FIELD_SMAPS)
        me = snap[os.getpid()]
        others = [p["pid"] for p in snap.values() if p["valid"] & FIELD_SMAPS and p["pid"] != os.getpid()]
        return {"me": [bool(me["valid"] & FIELD_SMAPS), me["pss"] > 0, bool(me["valid"] & FIELD_IDS)],
                "daemon": [snap[d.pid]["valid"] & FIELD_SMAPS, snap[d.pid]["pss"]], "others": others}

    seen = as_nobody(smaps)["ok"]
    assert seen["me"] == [True, True, False], seen  # its own, and no ids it did not ask for
    assert seen["daemon"] == [0, 0] and seen["others"] == [], seen
    root = Client(d.socket).snapshot(fields=FIELD_BASIC | FIELD_SMAPS)
    assert root[d.pid]["valid"] & FIELD_SMAPS and root[d.pid]["pss"] > 0


def test_a_peer_s_text_cannot_forge_or_flood_log_lines(start):
    d = start()
    Client(d.socket, hello=False).hello(client="evil\nprocmond: fake error\x1b[31m")
    Client(d.socket, hello=False).hello(client="y" * 60000)
    d.wait_log("evil\\x0aprocmond: fake error\\x1b[31m")
    with open(d.log_path, "rb") as f:
        lines = f.read().split(b"\n")
    assert not any(l.startswith(b"procmond: fake error") for l in lines)
    long_line = next(l for l in lines if b"yyyy" in l)
    assert len(long_line) <= 1024 and long_line.endswith("\u2026".encode()), len(long_line)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@need_root
def test_accept_out_of_fds_backs_off_instead_of_spinning(start):
    import resource
    d = start('[context]\nevent_source = "netlink"\n')
    limits = resource.prlimit(d.pid, resource.RLIMIT_NOFILE)

    def lowest_free_fd():
        used = {int(fd) for fd in os.listdir(f"/proc/{d.pid}/fd")}
        return next(n for n in range(len(used) + 1) if n not in used)
    # A new fd takes the lowest free number, and must be below the limit:
    # the limit at the lowest free number leaves none for accept. Taken at
    # its least over half a second, as a file the daemon reads for a moment
    # (its start-up scan of /proc, slow under ASan) holds that number now
    # and then; counted in, its close would let the accept through.
    floor = min(lowest_free_fd() for _ in range(10) if time.sleep(0.05) is None)
    resource.prlimit(d.pid, resource.RLIMIT_NOFILE, (floor, limits[1]))
    waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        waiting.connect(d.socket)  # in the backlog: the listener stays readable
        d.wait_log("accept: ")
        cpu = cpu_seconds(d.pid)
        time.sleep(2)
        assert cpu_seconds(d.pid) - cpu < 0.5, "the main loop spins on a listener it cannot accept from"
        lines = [l for l in d.log_text().splitlines() if " accept: " in l]
        assert 1 <= len(lines) <= 4 and "Too many open files" in lines[0], lines  # once a second at most
    finally:
        resource.prlimit(d.pid, resource.RLIMIT_NOFILE, limits)
    # The waiting peer is served once an fd is free, or, when a file the
    # daemon read for a moment was counted above and its fd came free
    # while starved, accepted then and dropped for want of another: either
    # way it is not left hanging. A new client is served now.
    waiting.settimeout(10)
    try:
        waiting.sendall(HELLO_FRAME)
        reply = waiting.recv(5)
        assert reply == b"" or struct.unpack_from("<I", reply)[0] > 0, reply
    except (BrokenPipeError, ConnectionResetError):
        pass
    waiting.close()
    assert Client(d.socket).ping()
