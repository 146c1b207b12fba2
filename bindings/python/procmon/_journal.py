"""Journal and JournalReader: lifecycle events recorded to a directory and
read back, later or while they are written (docs/journal.md)."""

import collections
import datetime
import math

from . import _args, _procmon
from ._errors import InvalidArgument
from ._event import Event
from ._events import event_mask

_BATCH = 256


class Journal:
    """A journal writer for one directory (created if missing): it records
    the Monitor's events that pass the filters, and what append() gives.

    fsync: "always" (each group commit is on disk before it counts),
        "interval" (every fsync_interval seconds) or "never".
    segment_size, max_size: bytes (0: 64 MiB segments, no size limit;
        max_size at least two segments); max_age: seconds after which
        closed segments are removed (None or inf: never).
    directory: str, bytes or os.PathLike (as open() takes it).
    events, name, cmdline, user, descendants_of, undecidable: which of the
        Monitor's events, as Monitor.subscribe's filters.

    One writer per directory: another, in any process, raises
    procmon.Locked; a directory holding what is not a procmon journal raises
    procmon.JournalFormatError. Use it as a context manager, or close() it: close
    writes and syncs what is queued. Any thread may call append, sync and
    stats.
    """

    def __init__(self, directory, monitor=None, *, fsync="always", fsync_interval=1.0, queue=0, segment_size=0,
                 max_size=0, max_age=None, events=None, name=None, cmdline=None, user=None, descendants_of=0,
                 undecidable=False):
        if not isinstance(fsync, str):
            raise TypeError(f"fsync must be a str, not {type(fsync).__name__}")
        if fsync not in _procmon.FSYNC:
            raise InvalidArgument(f"fsync must be one of {', '.join(_procmon.FSYNC)} (got {fsync!r})")
        ctx = _args.monitor(monitor)._ctx if monitor is not None else None
        max_age_ms = 0 if max_age is None or max_age == math.inf else _args.milliseconds(max_age, "max_age",
                                                                                           _args.UINT64_MAX)
        self._h = _procmon.Journal(_args.path(directory, "directory"), ctx, _procmon.FSYNC[fsync],
                                   _args.milliseconds(fsync_interval, "fsync_interval"),
                                   _args.integer(queue, "queue", 0, _args.UINT32_MAX),
                                   _args.integer(segment_size, "segment_size"), _args.integer(max_size, "max_size"),
                                   max_age_ms, event_mask(events), *_args.filters(name, cmdline, user),
                                   _args.integer(descendants_of, "descendants_of", 0, _args.INT32_MAX),
                                   _args.flag(undecidable, "undecidable"))

    def append(self, events):
        """Queue Events (from a Subscription or a JournalReader) for the
        journal; it numbers them itself. Waits while its queue is full.
        Anything but an Event raises TypeError, and then none is queued."""
        if isinstance(events, Event):
            raise TypeError("append takes an iterable of Events: append([event]) for one")
        events = list(events)
        for e in events:
            if not isinstance(e, Event):
                raise TypeError(f"append takes procmon.Event objects, not {type(e).__name__}")
        self._h.append([e._e for e in events])

    def sync(self, timeout=None):
        """Wait until everything queued so far is on disk (timeout in
        seconds, None or inf: as long as it takes); returns the last durable
        sequence number. Raises the write error (e.g. no space) if that is
        why it is not."""
        return self._h.sync(_args.timeout(timeout))

    def stats(self):
        """Counters: next_seq, durable_seq, records, lost, bytes_written,
        commits, fsyncs, write_errors, last_error (text or None), segments,
        disk_bytes, segments_removed, recovered_truncated_bytes,
        recovered_corrupt_records, skipped_files (files named like segments
        that are not regular files: never opened)."""
        s = self._h.stats()
        s["last_error"] = _procmon.strerror(s["last_error"]) if s["last_error"] else None
        return s

    def close(self):
        """Write and sync what is queued, and release the directory."""
        self._h.close()

    @property
    def closed(self):
        return self._h.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class JournalReader:
    """The records of a journal directory in sequence order, as Events whose
    seq is the journal's sequence number.

    directory: str, bytes or os.PathLike. since_seq: the first sequence
    number wanted; since_time: a datetime (naive means local time) or
    seconds since the epoch (before 1970: all; NaN: InvalidArgument). Iterating ends at
    the end of what is written now; follow() also waits for a writer. A gap
    (a damaged record, or records removed by retention) comes as an Event of
    type 'lost' with the number of records missing; stats() says how much
    was skipped and where.
    """

    def __init__(self, directory, *, since_seq=0, since_time=None):
        if isinstance(since_time, datetime.datetime):
            since_time = since_time.timestamp()
        time_ns = 0 if since_time is None else _args.number(since_time, "since_time") * 1e9
        time_ns = int(min(max(time_ns, 0), _args.UINT64_MAX))
        self._h = _procmon.JournalReader(_args.path(directory, "directory"), _args.integer(since_seq, "since_seq"),
                                         time_ns)
        self._buf = collections.deque()

    def get(self, timeout=0):
        """The next record, waiting up to timeout seconds for a writer (0:
        not at all, None or inf: until one comes or the reader is closed;
        negative or NaN: InvalidArgument); None when none came."""
        timeout = _args.timeout(timeout)
        if not self._buf:
            self._buf.extend(map(Event, self._h.next(_BATCH, timeout)))
            if not self._buf:
                return None
        return self._buf.popleft()

    def follow(self, timeout=None):
        """Records as they are written, until timeout seconds pass with none
        (None or inf: forever; Ctrl-C interrupts)."""
        timeout = _args.timeout(timeout)
        while True:
            event = self.get(timeout)
            if event is None:
                return
            yield event

    def __iter__(self):
        return self

    def __next__(self):
        event = self.get(0)
        if event is None:
            raise StopIteration
        return event

    def stats(self):
        """records, corrupt_records, corrupt_bytes, first_corrupt_segment,
        first_corrupt_offset, missing, skipped_files (files named like
        segments that are not regular files: skipped, their records LOST)."""
        return self._h.stats()

    def close(self):
        self._h.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
