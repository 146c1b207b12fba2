"""Journal and JournalReader: lifecycle events recorded to a directory and
read back, later or while they are written (docs/journal.md)."""

import collections
import datetime

from . import _procmon
from ._errors import InvalidArgument
from ._events import event_mask

_BATCH = 256


def _ms(seconds, what):
    if seconds is None:
        return 0
    ms = int(round(float(seconds) * 1000))
    if ms <= 0:
        raise InvalidArgument(f"{what} must be positive (got {seconds!r})")
    return ms


class Journal:
    """A journal writer for one directory (created if missing): it records
    the Monitor's events that pass the filters, and what append() gives.

    fsync: "always" (each group commit is on disk before it counts),
        "interval" (every fsync_interval seconds) or "never".
    segment_size, max_size: bytes (0: 64 MiB segments, no size limit;
        max_size at least two segments); max_age: seconds after which
        closed segments are removed.
    events, name, user, descendants_of: as Monitor.subscribe.

    One writer per directory: another, in any process, raises
    procmon.Locked; a directory holding what is not a procmon journal raises
    procmon.JournalFormatError. Use it as a context manager, or close() it: close
    writes and syncs what is queued. Any thread may call append, sync and
    stats.
    """

    def __init__(self, directory, monitor=None, *, fsync="always", fsync_interval=1.0, queue=0, segment_size=0,
                 max_size=0, max_age=None, events=None, name=None, user=None, descendants_of=0):
        from ._monitor import _uid_of  # the Monitor module imports this one's users
        if fsync not in _procmon.FSYNC:
            raise InvalidArgument(f"fsync must be one of {', '.join(_procmon.FSYNC)} (got {fsync!r})")
        ctx = monitor._ctx if monitor is not None else None
        self._h = _procmon.Journal(str(directory), ctx, _procmon.FSYNC[fsync], _ms(fsync_interval, "fsync_interval"),
                                   int(queue), int(segment_size), int(max_size), _ms(max_age, "max_age"),
                                   event_mask(events), name, _uid_of(user), int(descendants_of))

    def append(self, events):
        """Queue Events (from a Subscription or a JournalReader) for the
        journal; it numbers them itself. Waits while its queue is full."""
        self._h.append(list(events))

    def sync(self, timeout=None):
        """Wait until everything queued so far is on disk (timeout in
        seconds, None: as long as it takes); returns the last durable
        sequence number. Raises the write error (e.g. no space) if that is
        why it is not."""
        return self._h.sync(timeout)

    def stats(self):
        """Counters: next_seq, durable_seq, records, lost, bytes_written,
        commits, fsyncs, write_errors, last_error (text or None), segments,
        disk_bytes, segments_removed, recovered_truncated_bytes,
        recovered_corrupt_records."""
        return self._h.stats()

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

    since_seq: the first sequence number wanted; since_time: a datetime
    (naive means local time) or seconds since the epoch. Iterating ends at
    the end of what is written now; follow() also waits for a writer. A gap
    (a damaged record, or records removed by retention) comes as an Event of
    type 'lost' with the number of records missing; stats() says how much
    was skipped and where.
    """

    def __init__(self, directory, *, since_seq=0, since_time=None):
        if isinstance(since_time, datetime.datetime):
            since_time = since_time.timestamp()
        time_ns = 0 if since_time is None else int(float(since_time) * 1e9)
        self._h = _procmon.JournalReader(str(directory), int(since_seq), max(time_ns, 0))
        self._buf = collections.deque()

    def get(self, timeout=0):
        """The next record, waiting up to timeout seconds for a writer (0:
        not at all, None: forever); None when none came."""
        if not self._buf:
            self._buf.extend(self._h.next(_BATCH, timeout))
            if not self._buf:
                return None
        return self._buf.popleft()

    def follow(self, timeout=None):
        """Records as they are written, until timeout seconds pass with none
        (None: forever; Ctrl-C interrupts)."""
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
        first_corrupt_offset, missing."""
        return self._h.stats()

    def close(self):
        self._h.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
