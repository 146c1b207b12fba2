"""Monitor (one procmon context), snapshots, and psutil-shaped process_iter."""

import threading
import time

from . import _args, _procmon
from ._errors import Closed, InvalidArgument
from ._events import Subscription, event_mask, mask_of
from ._process import Process, fields_of
from ._snapshot import ATTRS, take


def _field_mask(fields):
    """None -> default groups; "all"; or an iterable of group names."""
    if fields is None:
        return 0
    if isinstance(fields, str) and fields == "all":
        return _procmon.FIELDS_ALL
    return mask_of(fields, {**_procmon.FIELDS, "default": _procmon.FIELDS_DEFAULT},
                   lambda f: f"unknown field group {f!r}; the groups are {', '.join(_procmon.FIELDS)}, 'default' and 'all'",
                   "fields")


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
    poll_interval: seconds between polls of the polling source (more than
        0, whole milliseconds: rounded up).
    proc_root: where /proc is (tests use fixture trees): str, bytes or
        os.PathLike.

    endpoint: where the processes are read: None (the default) asks the
        procmond whose socket PROCMON_ENDPOINT names when that is set and
        not empty, else reads this machine; "" reads this machine whatever
        the environment says; a path (or "unix:PATH") asks the procmond
        listening there, whose configuration then decides what the other
        options would (they are ignored). A daemon that cannot be reached
        raises at once (NoSuchProcess's ENOENT: "is procmond running?",
        AccessDenied, Error, ProtocolError).

    A Monitor may be shared by any number of threads; any number of
    Monitors may be opened and closed, one after the other (at most
    procmon's PROCMON_MAX_CONTEXTS, 64, open at once; a Monitor that
    Process objects read through takes two).
    """

    def __init__(self, *, memory_cap=0, threads=0, argv_cap=0, cache=True, event_source="auto",
                 poll_interval=1.0, proc_root=None, endpoint=None):
        if not isinstance(event_source, str):
            raise TypeError(f"event_source must be a str, not {type(event_source).__name__}")
        if event_source not in ("auto", "polling"):
            raise InvalidArgument(f"event_source must be 'auto' or 'polling', not {event_source!r}")
        self._options = (_args.integer(memory_cap, "memory_cap"),
                         _args.integer(threads, "threads", 0, _args.UINT32_MAX),
                         _args.integer(argv_cap, "argv_cap", 0, _args.UINT32_MAX),
                         _args.flag(cache, "cache"), event_source == "polling",
                         _args.milliseconds(poll_interval, "poll_interval"),
                         None if proc_root is None else _args.path(proc_root, "proc_root"),
                         None if endpoint is None else _args.path(endpoint, "endpoint"))
        self._ctx = _procmon.Context(*self._options)
        self._reader = None
        self._reader_lock = threading.Lock()

    def _reads(self):
        """The context Process objects read and signal through: a second one
        with these options, made on first use. A snapshot's cpu_percent is
        measured since the context's previous enumeration, so a Process
        reading its one pid through this Monitor's own context would cut that
        interval short for every process of the next snapshot."""
        with self._reader_lock:
            if self._reader is None:
                if self._ctx.closed:
                    raise Closed("the Monitor is closed")
                self._reader = _procmon.Context(*self._options)
            return self._reader

    def snapshot(self, fields=None, *, name=None, cmdline=None, user=None, pids=None, refresh=False, interval=None):
        """Every process now (or those matching the filters), as a Snapshot.

        fields: field groups to read: None (the default groups), "all", or
            names from procmon.FIELDS ("cpu", "memory", "cwd", "io", "smaps",
            ...). Values of groups not read are None.
        name: fnmatch pattern on the name users see (Record.name: the
            kernel's 15-byte comm, or the program's whole name when the
            kernel cut it).
        cmdline: fnmatch pattern on the command line, its arguments joined by
            spaces ("*--port=80*" finds it anywhere, as pgrep -f).
        user: user name or uid (effective).
        pids: only these pids.
        refresh: re-read what the cache holds (argv, exe, ids).
        interval: seconds: take a first sample, wait, and return the second,
            so cpu_percent is the use over that interval (top's figure, as
            psutil's cpu_percent(interval)); another snapshot of this Monitor
            in between shortens it.
        """
        args = (*_args.filters(name, cmdline, user), _args.pids(pids), _args.flag(refresh, "refresh"))
        mask = _field_mask(fields)
        if interval is not None:
            interval = _args.interval(interval, "interval")
            self._ctx.enumerate(_procmon.FIELDS["cpu"], *args)
            time.sleep(interval)
        return take(self._ctx, mask, *args)

    def process_iter(self, attrs=None, ad_value=None):
        """Like psutil.process_iter: yields a procmon.Process per process,
        from one snapshot taken when iteration starts.

        With attrs (psutil's names, see procmon.ATTRS; an empty list means
        all), each has an ``info`` dict as psutil's, and only the field
        groups they need are read. A value that could not be read (e.g.
        another user's exe without privilege) is ad_value. In the loop body
        the Process's methods answer from the snapshot (as inside psutil's
        oneshot()); kept after the loop moved on, it reads the process anew
        at each call.
        """
        names = None if attrs is None else (_args.names(attrs, "attrs", single=False) or list(ATTRS))
        snap = take(self._ctx, 0 if names is None else fields_of(names))
        taken = time.monotonic()
        held = snap.fields | _procmon.FIELDS["basic"]
        dicts = None if names is None else snap.as_dicts(names)
        for i, rec in enumerate(snap):
            p = Process._of(rec, self, held, taken)
            if dicts is not None:
                info = dicts[i]
                if ad_value is not None:
                    for k, v in info.items():
                        if v is None:
                            info[k] = ad_value
                p.info = info
            try:
                yield p
            finally:
                p._release()

    def subscribe(self, events=None, *, name=None, cmdline=None, user=None, descendants_of=0, queue=0, threads=False,
                  undecidable=False, from_seq=0, history=False):
        """Start receiving lifecycle events: returns a Subscription.

        events: names from procmon.EVENTS ("start", "exec", "exit", "uid",
            "comm"), default start, exec and exit; "lost" is always delivered.
        name: fnmatch pattern on the name users see (as snapshot's).
        cmdline: fnmatch pattern on the command line (as snapshot's).
        user: user name or uid (effective).
        descendants_of: only descendants of this pid.
        queue: events the queue holds (default procmon.QUEUE_DEFAULT); when
            it is full, later events are counted and reported as one 'lost'
            event, never dropped silently.
        threads: also thread starts and exits (netlink only).
        undecidable: also pass events a filter cannot decide (the process was
            gone before what the filter needs could be read: ``partial``).
            By default they are dropped and counted in
            ``Subscription.stats()["undecidable"]``.
        from_seq: a Monitor with an endpoint only: first every event of
            procmond's journal from this sequence number (Event.seq), then
            live ones, with no gap and no duplicate: a client that
            reconnects passes its last seq + 1. 0: live events only.
        history: a Monitor with an endpoint only: deliver the journal from
            from_seq up to its end, then close (next raises Closed once all
            was taken).
        """
        handle = self._ctx.subscribe(event_mask(events), *_args.filters(name, cmdline, user),
                                     _args.integer(descendants_of, "descendants_of", 0, _args.INT32_MAX),
                                     _args.integer(queue, "queue", 0, _args.UINT32_MAX),
                                     _args.flag(threads, "threads"), _args.flag(undecidable, "undecidable"),
                                     _args.integer(from_seq, "from_seq", 0, _args.UINT64_MAX),
                                     _args.flag(history, "history"))
        return Subscription(handle)

    def daemon_status(self):
        """How procmond itself is doing, as a dict under the C names of
        procmon_daemon_status (daemon_version, daemon_pid, started_ns,
        clients, journal_next_seq, config_generation, source_name, ...).
        Raises Error (EUNSUPPORTED) on a Monitor that reads this machine."""
        return self._ctx.daemon_status()

    def daemon_clients(self):
        """procmond's connections this user may see, each a dict: kind
        ("requests" or "subscriber"), pid, uid, gid, connected_ns, requests,
        events_delivered, events_dropped, queue_depth, queue_capacity,
        next_seq."""
        return self._ctx.daemon_clients()

    def stats(self):
        """Counters: memory, cache, event source and its reason, events."""
        s = self._ctx.stats()
        s["event_source"] = s.pop("source_name") or "none"
        return s

    def system(self):
        """The machine as a whole, as a dict: cpus, mem_total_bytes,
        mem_available_bytes, mem_used_bytes (total - available),
        mem_free_bytes, swap_total_bytes, swap_free_bytes, load1, load5,
        load15, boot_time_ns, processes."""
        return self._ctx.system()

    def close(self):
        """Release the context. Its subscriptions then raise Closed."""
        self._ctx.close()
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()

    @property
    def closed(self):
        return self._ctx.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


PsProcess = Process  # what process_iter yielded before procmon.Process had psutil's shape


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


def snapshot(fields=None, *, name=None, cmdline=None, user=None, pids=None, refresh=False, interval=None):
    """Monitor.snapshot on the default Monitor."""
    return default_monitor().snapshot(fields, name=name, cmdline=cmdline, user=user, pids=pids, refresh=refresh,
                                      interval=interval)


def process_iter(attrs=None, ad_value=None):
    """Monitor.process_iter on the default Monitor (cpu_percent between calls works)."""
    return default_monitor().process_iter(attrs, ad_value)


def subscribe(events=None, *, name=None, cmdline=None, user=None, descendants_of=0, queue=0, threads=False,
              undecidable=False):
    """Monitor.subscribe on the default Monitor."""
    return default_monitor().subscribe(events, name=name, cmdline=cmdline, user=user, descendants_of=descendants_of,
                                       queue=queue, threads=threads, undecidable=undecidable)
