"""procmon.Process: psutil.Process's shape, read through a Monitor.

A Process is an identity (pid and start time): a pid reused by another
process is never taken for it. Its methods read the process now (one
enumeration of that pid, of the field groups the method needs), or from one
record inside ``oneshot()`` and in the body of a ``process_iter`` loop.
Signals go through procmon_signal, keyed on the identity; ``wait`` is fed by
the library's exit events, so it works for processes that are not our
children.
"""

import contextlib
import math
import os
import signal as _signal
import time

from . import _args, _procmon
from ._errors import AccessDenied, NoSuchProcess, TimeoutExpired, ZombieProcess
from ._events import mask_of
from ._snapshot import ATTR_FIELDS, ATTRS, take

_BASIC = _procmon.FIELDS["basic"]
_CPU = _procmon.FIELDS["cpu"]
_ONESHOT = _procmon.FIELDS_DEFAULT
_WAIT_CHECK = 0.1  # seconds between checks of the processes a wait has no event for yet
_REAP_CHECK = 0.01  # seconds between checks of an exited process its parent is yet to reap


def _cpu_seconds(rec):
    t = rec.cpu_times
    return t.user + t.system


def fields_of(attrs):
    """The field groups the attrs (psutil's names, procmon.ATTRS) need."""
    return _BASIC | mask_of(attrs, ATTR_FIELDS,
                            lambda a: f"invalid attr name {a!r} (procmon.ATTRS lists the valid ones)", "attrs",
                            single=False)


class Process:
    """A process, as psutil.Process: ``Process(pid)`` (default: this
    process) raises NoSuchProcess when there is none. ``pid`` is an
    attribute; everything else is a method (``p.name()``,
    ``p.memory_info().rss``), reading the process at the call.

    monitor: the Monitor to read through (default: procmon.default_monitor());
        its snapshots' cpu_percent is not disturbed by these reads.
    """

    __slots__ = ("pid", "info", "returncode", "_monitor", "_ticks", "_name", "_rec", "_rec_fields", "_rec_time",
                 "_cpu_last")
    # _rec: the record methods answer from while held (oneshot, a process_iter
    # loop), of the groups _rec_fields; _rec_time: when a snapshot took it
    # (0 for oneshot's); _cpu_last: (cpu seconds, monotonic) of cpu_percent's
    # previous call

    def __init__(self, pid=None, *, monitor=None):
        if pid is None:
            pid = os.getpid()
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise TypeError(f"pid must be an integer (got {pid!r})")
        if pid < 0:
            raise ValueError(f"pid must be a positive integer (got {pid})")
        self.pid = pid
        self._monitor = _args.monitor_or_default(monitor)
        self._rec, self._rec_fields, self._rec_time, self._cpu_last = None, 0, 0.0, None
        rec = self._lookup(self.pid, _BASIC) if 0 < pid <= _args.INT32_MAX else None  # no pid is larger
        if rec is None:
            raise NoSuchProcess(pid, msg="process PID not found")
        self._ticks, self._name = rec.start_ticks, rec.name

    @classmethod
    def _of(cls, rec, monitor, fields=0, taken=0.0):
        """The Process of a snapshot's record; with fields (the groups the
        snapshot read), it answers from rec until _release()."""
        self = cls.__new__(cls)
        self.pid, self._monitor, self._ticks, self._name = rec.pid, monitor, rec.start_ticks, rec.name
        self._rec, self._rec_fields, self._rec_time, self._cpu_last = (rec if fields else None), fields, taken, None
        return self

    def _release(self):
        self._rec = None

    # ------------------------------------------------------------ reading

    def _lookup(self, pid, fields):
        snap = take(self._monitor._reads(), fields, pids=[pid])
        return snap[0] if len(snap) else None

    def _record(self, fields, live=False):
        """A record of this process holding `fields`: the held one when it
        has them (oneshot, a process_iter loop), else read now."""
        if not live and self._rec is not None and fields & ~self._rec_fields == 0:
            return self._rec
        rec = self._lookup(self.pid, fields)
        if rec is None or rec.start_ticks != self._ticks:
            raise NoSuchProcess(self.pid, self._name)
        return rec

    def _value(self, attr):
        need = ATTR_FIELDS[attr]
        rec = self._record(need)
        if rec.valid & need != need:  # not read: denied, a zombie, or gone meanwhile
            now = self._record(_BASIC, live=True)
            if now.status == "zombie":
                raise ZombieProcess(self.pid, self._name, now.ppid)
            raise AccessDenied(self.pid, self._name)
        return getattr(rec, attr)

    @contextlib.contextmanager
    def _hold(self, fields):
        if self._rec is not None:
            yield  # already held: nested, or a process_iter loop's
            return
        self._rec, self._rec_fields, self._rec_time = self._record(fields, live=True), fields, 0.0
        try:
            yield
        finally:
            self._rec = None

    def oneshot(self):
        """As psutil's (a context manager): inside it, the methods answer
        from one read of the process's default field groups."""
        return self._hold(_ONESHOT | _BASIC)

    def as_dict(self, attrs=None, ad_value=None):
        """As psutil's: the attrs (procmon.ATTRS; default all) as a dict, read
        at once; a value that is denied, or gone with a zombie, is ad_value."""
        names = (_args.names(attrs, "attrs", single=False) if attrs is not None else None) or list(ATTRS)
        out = {}
        with self._hold(fields_of(names)):
            for a in names:
                try:
                    out[a] = self.pid if a == "pid" else getattr(self, a)()
                except (AccessDenied, ZombieProcess):
                    out[a] = ad_value
        return out

    def cpu_percent(self, interval=None):
        """CPU use, 100 = one core busy. interval > 0: measured over that
        many seconds, blocking. Else since this object's previous call; the
        first call gives, for a process_iter Process, the snapshot's figure
        (since the Monitor's previous snapshot), else the average since the
        process started (psutil's first call gives a meaningless 0.0).
        interval is a finite number of seconds >= 0 (else InvalidArgument, a ValueError)."""
        if interval is not None:
            interval = _args.interval(interval, "interval")
        if interval:
            first = (_cpu_seconds(self._record(_CPU, live=True)), time.monotonic())
            time.sleep(interval)
            self._cpu_last = first
        rec = self._rec
        if rec is not None and self._rec_time and self._rec_fields & _CPU and not interval:
            # a process_iter loop's: the snapshot's own figure; the next call measures from it
            self._cpu_last = (_cpu_seconds(rec), self._rec_time)
            return rec.cpu_percent
        rec = self._record(_CPU, live=True)
        now = (_cpu_seconds(rec), time.monotonic())
        last, self._cpu_last = self._cpu_last, now
        if last is None:
            lived = time.time() - rec.create_time
            return now[0] / lived * 100.0 if lived > 0 else 0.0
        elapsed = now[1] - last[1]
        return (now[0] - last[0]) / elapsed * 100.0 if elapsed > 0 else 0.0

    def memory_percent(self, memtype="rss"):
        """rss as a percentage of the machine's memory (psutil's memtype: 'rss' only)."""
        if memtype != "rss":
            raise ValueError(f"memtype {memtype!r} is not supported: only 'rss'")
        return self._value("memory_percent")

    # ------------------------------------------------------------ family

    def children(self, recursive=False):
        """Its children (all descendants if recursive), as Process objects,
        sorted by pid. A process that started before this one is not its
        child, whatever its ppid says (its parent's pid was reused)."""
        snap = take(self._monitor._reads(), _BASIC)
        me = snap.find(self.pid)
        if me is None or me.start_ticks != self._ticks:
            raise NoSuchProcess(self.pid, self._name)
        return [Process._of(r, self._monitor) for r in snap.children(self.pid, _args.flag(recursive, "recursive"))
                if r.start_ticks >= self._ticks]

    def parent(self):
        """The parent as a Process, or None (no parent, or its pid now
        belongs to a process that started after this one)."""
        ppid = self._record(_BASIC).ppid
        rec = self._lookup(ppid, _BASIC) if ppid > 0 else None
        if rec is None or rec.start_ticks > self._ticks:
            return None
        return Process._of(rec, self._monitor)

    def parents(self):
        """The parent, its parent, ... up to the first process."""
        out = []
        p = self.parent()
        while p is not None:
            out.append(p)
            p = p.parent()
        return out

    # ------------------------------------------------------------ signals

    def is_running(self):
        """Whether this process (this identity, not just this pid) is still
        there; a zombie is, as in psutil."""
        try:
            self._monitor._reads().signal(self.pid, self._ticks, 0)
        except NoSuchProcess:
            return False
        except AccessDenied:
            return True
        return True

    def send_signal(self, sig):
        """Send sig to this process: never to another that got its pid
        (then NoSuchProcess, as for one that exited)."""
        try:
            self._monitor._reads().signal(self.pid, self._ticks, _args.integer(sig, "sig", 0, _args.INT32_MAX))
        except (NoSuchProcess, AccessDenied) as e:
            e.pid, e.name = self.pid, self._name
            raise

    def terminate(self):
        """SIGTERM."""
        self.send_signal(_signal.SIGTERM)

    def kill(self):
        """SIGKILL."""
        self.send_signal(_signal.SIGKILL)

    def suspend(self):
        """SIGSTOP."""
        self.send_signal(_signal.SIGSTOP)

    def resume(self):
        """SIGCONT."""
        self.send_signal(_signal.SIGCONT)

    def wait(self, timeout=None):
        """Wait for it to end and return its exit code: -N when signal N
        killed it, None when unknown (it ended before the wait began and is
        not our child, or the event source is polling). Works for any
        process, not only our children (which it reaps, as psutil).
        Raises TimeoutExpired after timeout seconds (None or inf: no limit;
        negative or NaN: InvalidArgument)."""
        gone, _ = wait_procs([self], timeout)
        if not gone:
            raise TimeoutExpired(timeout, self.pid, self._name)
        return self.returncode

    # ------------------------------------------------------------ the rest

    def __eq__(self, other):
        return isinstance(other, Process) and (self.pid, self._ticks) == (other.pid, other._ticks)

    def __hash__(self):
        return hash((self.pid, self._ticks))

    def __repr__(self):
        try:
            status = self._record(_BASIC).status
        except NoSuchProcess:
            status = "terminated"
        return f"procmon.Process(pid={self.pid}, name={self._name!r}, status={status!r})"


def _method(attr):
    def get(self):
        return self._value(attr)
    get.__name__ = get.__qualname__ = attr
    get.__doc__ = f"psutil.Process.{attr}(): read now (or from the held record); AccessDenied when it cannot be."
    return get


for _a in ATTRS:
    if not hasattr(Process, _a):
        setattr(Process, _a, _method(_a))
del _a


# ------------------------------------------------------------------ waiting

def _exit_status(proc, event):
    """The exit code as psutil gives it: reaped when it is our child, else
    from the exit event (-signal when killed, None when unknown)."""
    try:
        pid, status = os.waitpid(proc.pid, 0)
        if pid == proc.pid:
            return os.waitstatus_to_exitcode(status)
    except ChildProcessError:
        pass
    if event is None or event.exit_signal is None:
        return None
    return -event.exit_signal if event.exit_signal else event.exit_code


def _has_ended(proc):
    """(True, code) when proc ended: gone, or our child and reaped now."""
    if not proc.is_running():
        return True, None
    try:
        pid, status = os.waitpid(proc.pid, os.WNOHANG)
    except ChildProcessError:
        return False, None
    return (True, os.waitstatus_to_exitcode(status)) if pid == proc.pid else (False, None)


def wait_procs(procs, timeout=None, callback=None):
    """As psutil's: wait until the Process objects end or timeout seconds
    pass; returns (gone, alive). Each gone Process gets ``returncode`` (as
    Process.wait returns it) and is passed to callback, as it ends.
    timeout as Process.wait's."""
    procs = list(procs)
    timeout = _args.timeout(timeout)
    _args.callback(callback, "callback", optional=True)
    for p in procs:
        if not isinstance(p, Process):
            raise TypeError(f"{p!r} is not a procmon.Process")
    deadline = None if timeout is None else time.monotonic() + timeout
    gone, alive = [], list(procs)
    if not procs:
        return gone, alive

    def finish(p, code):
        p.returncode = code
        alive.remove(p)
        gone.append(p)
        if callback is not None:
            callback(p)

    # Not our children whose exit event came: they end for this wait once
    # their parent reaps them (a zombie still is_running(), as psutil's wait
    # for a non-child returns only once the pid is gone). Their exit codes.
    exited = {}

    def check_all():
        for p in list(alive):
            ended, code = _has_ended(p)
            if ended:
                finish(p, exited.pop(p, code))

    with procs[0]._monitor.subscribe("exit") as sub:  # before the first check: no exit falls in between
        check_all()
        while alive:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            check = _REAP_CHECK if exited else _WAIT_CHECK
            event = sub.get(timeout=check if left is None else min(left, check))
            if event is None or event.type == "lost" or exited:
                check_all()
            if event is None or event.type == "lost":
                continue
            for p in alive:
                if (p.pid, p._ticks) == (event.pid, event.start_ticks):
                    exited[p] = _exit_status(p, event)
                    if not p.is_running():  # reaped: ours by now, or its parent's already
                        finish(p, exited.pop(p))
                    break
    return gone, alive


# ------------------------------------------------------------------ pids

def pids(monitor=None):
    """Every pid now, sorted (psutil.pids())."""
    m = _args.monitor_or_default(monitor)
    return [r.pid for r in take(m._reads(), _BASIC)]


def pid_exists(pid, monitor=None):
    """Whether a process with this pid exists (psutil.pid_exists: True for 0)."""
    pid = _args.integer(pid, "pid", -math.inf, math.inf)  # an int, of any size
    m = _args.monitor_or_default(monitor)
    if pid < 0 or pid > _args.INT32_MAX:
        return False
    if pid == 0:
        return True
    return len(take(m._reads(), _BASIC, pids=[pid])) > 0
