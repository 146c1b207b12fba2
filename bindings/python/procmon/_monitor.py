"""Monitor (one procmon context), snapshots, and psutil-shaped process_iter."""

import os
import pwd
import threading

from . import _procmon
from ._events import Subscription, event_mask

ATTRS = tuple(_procmon.ATTRS)


def _field_mask(fields):
    """None -> default groups; "all"; or an iterable of group names."""
    if fields is None:
        return 0
    if isinstance(fields, str):
        if fields == "all":
            return _procmon.FIELDS_ALL
        if fields == "default":
            return _procmon.FIELDS_DEFAULT
        fields = [fields]
    mask = 0
    for f in fields:
        if f == "default":
            mask |= _procmon.FIELDS_DEFAULT
        elif f in _procmon.FIELDS:
            mask |= _procmon.FIELDS[f]
        else:
            raise _procmon.InvalidArgument(
                f"unknown field group {f!r}; the groups are {', '.join(_procmon.FIELDS)}, 'default' and 'all'")
    return mask


def _uid_of(user):
    """None -> -1 (all); an int uid; or a user name."""
    if user is None:
        return -1
    if isinstance(user, int):
        return user
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        raise _procmon.InvalidArgument(f"no such user {user!r}") from None


class Monitor:
    """One procmon context: its identity cache, memory cap and event collector.

    Keep one Monitor for repeated snapshots: unchanged processes are then
    served from its cache, and ``cpu_percent`` is measured since the previous
    snapshot, as psutil does between calls. All methods may be called from
    any thread; calls on one Monitor are serialised.

    memory_cap: bytes for snapshots, caches and event queues (default 64 MiB,
        at least 1 MiB); past it a call raises OutOfMemory and the Monitor
        stays usable.
    threads: reader threads for a snapshot (0: automatic).
    argv_cap: bytes of each argv to keep (0: all).
    cache: keep argv, exe and ids per process identity between snapshots.
    event_source: "auto" (netlink proc connector when permitted, else
        polling) or "polling".
    poll_interval: seconds between polls of the polling source.
    proc_root: where /proc is (tests use fixture trees).
    """

    def __init__(self, *, memory_cap=0, threads=0, argv_cap=0, cache=True, event_source="auto",
                 poll_interval=1.0, proc_root=None):
        if event_source not in ("auto", "polling"):
            raise _procmon.InvalidArgument(f"event_source must be 'auto' or 'polling', not {event_source!r}")
        self._ctx = _procmon.Context(int(memory_cap), int(threads), int(argv_cap), bool(cache),
                                     event_source == "polling", int(round(poll_interval * 1000)),
                                     None if proc_root is None else os.fsdecode(proc_root))

    def snapshot(self, fields=None, *, name=None, user=None, pids=None, refresh=False):
        """Every process now (or those matching the filters), as a Snapshot.

        fields: field groups to read: None (the default groups), "all", or
            names from procmon.FIELDS ("cpu", "memory", "cwd", "io", ...).
            Values of groups not read are None.
        name: fnmatch pattern on the process name.
        user: user name or uid (effective).
        pids: only these pids.
        refresh: re-read what the cache holds (argv, exe, ids).
        """
        return self._ctx.enumerate(_field_mask(fields), name, _uid_of(user),
                                   None if pids is None else [int(p) for p in pids], bool(refresh))

    def process_iter(self, attrs=None, ad_value=None):
        """Like psutil.process_iter: yields a procmon.PsProcess per process.

        With attrs (psutil's names, see procmon.ATTRS; an empty list means
        all), each has an ``info`` dict as psutil's. A value that could not
        be read (e.g. another user's exe without privilege) is ad_value.
        Values are those of one snapshot taken when iteration starts.
        """
        if attrs is None:
            for rec in self.snapshot():
                yield PsProcess(rec, None)
            return
        attrs = list(attrs) if attrs else list(ATTRS)
        fields = 0  # only the field groups these attrs need (the extension's table says which)
        for a in attrs:
            if a not in _procmon.ATTR_FIELDS:
                raise _procmon.InvalidArgument(f"invalid attr name {a!r} (procmon.ATTRS lists the valid ones)")
            fields |= _procmon.ATTR_FIELDS[a]
        snap = self._ctx.enumerate(fields, None, -1, None, False)
        dicts = snap.as_dicts(attrs)
        for i, info in enumerate(dicts):
            if ad_value is not None:
                for k, v in info.items():
                    if v is None:
                        info[k] = ad_value
            yield PsProcess(snap[i], info)

    def subscribe(self, events=None, *, name=None, user=None, descendants_of=0, queue=0, threads=False):
        """Start receiving lifecycle events: returns a Subscription.

        events: names from procmon.EVENTS ("start", "exec", "exit", "uid",
            "comm"), default start, exec and exit; "lost" is always delivered.
        name: fnmatch pattern on the process name.
        user: user name or uid (effective).
        descendants_of: only descendants of this pid.
        queue: events the queue holds (default procmon.QUEUE_DEFAULT); when
            it is full, later events are counted and reported as one 'lost'
            event, never dropped silently.
        threads: also thread starts and exits (netlink only).
        """
        handle = self._ctx.subscribe(event_mask(events), name, _uid_of(user), int(descendants_of), int(queue),
                                     bool(threads))
        return Subscription(handle)

    def stats(self):
        """Counters: memory, cache, event source and its reason, events."""
        return self._ctx.stats()

    def close(self):
        """Release the context. Its subscriptions then raise Closed."""
        self._ctx.close()

    @property
    def closed(self):
        return self._ctx.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class PsProcess:
    """What process_iter yields: psutil.Process's shape over one record.

    ``pid`` and ``info`` are attributes; everything else is a method, as in
    psutil (``p.name()``, ``p.memory_info().rss``), returning the value of
    the snapshot it came from.
    """

    __slots__ = ("_rec", "pid", "info")

    def __init__(self, rec, info):
        self._rec = rec
        self.pid = rec.pid
        if info is not None:
            self.info = info

    def as_dict(self, attrs=None, ad_value=None):
        d = self._rec.as_dict(None if not attrs else list(attrs))
        if ad_value is not None:
            d = {k: (ad_value if v is None else v) for k, v in d.items()}
        return d

    def cpu_percent(self, interval=None):
        if interval:
            raise _procmon.InvalidArgument("cpu_percent(interval) is not supported: take a second snapshot instead")
        return self._rec.cpu_percent

    def __repr__(self):
        return f"procmon.PsProcess(pid={self.pid}, name={self._rec.name!r}, status={self._rec.status!r})"

    def __eq__(self, other):
        return isinstance(other, PsProcess) and (self.pid, self._rec.start_ticks) == (other.pid, other._rec.start_ticks)

    def __hash__(self):
        return hash((self.pid, self._rec.start_ticks))


def _method(attr):
    def get(self):
        return getattr(self._rec, attr)
    get.__name__ = attr
    get.__doc__ = f"psutil.Process.{attr}(): the snapshot's value (None if it was not read)."
    return get


for _a in ATTRS:
    if _a not in ("pid", "cpu_percent"):
        setattr(PsProcess, _a, _method(_a))
del _a


# ------------------------------------------------------------------ defaults

_default = None
_default_lock = threading.Lock()


def default_monitor():
    """The Monitor behind the module-level functions, made on first use."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = Monitor()
        return _default


def snapshot(fields=None, *, name=None, user=None, pids=None, refresh=False):
    """Monitor.snapshot on the default Monitor."""
    return default_monitor().snapshot(fields, name=name, user=user, pids=pids, refresh=refresh)


def process_iter(attrs=None, ad_value=None):
    """Monitor.process_iter on the default Monitor (cpu_percent between calls works)."""
    return default_monitor().process_iter(attrs, ad_value)


def subscribe(events=None, *, name=None, user=None, descendants_of=0, queue=0, threads=False):
    """Monitor.subscribe on the default Monitor."""
    return default_monitor().subscribe(events, name=name, user=user, descendants_of=descendants_of, queue=queue,
                                       threads=threads)
