"""Subscription: lifecycle events as an iterator, a context manager, a
selectable file descriptor and an async iterator."""

import collections
import os

from . import _args, _procmon
from ._errors import Closed, InvalidArgument
from ._event import Event

_BATCH = 256  # events taken from the library per call


def mask_of(names, table, unknown, what, single=True):
    """The OR of table[name] for the names (one str when single, else an
    iterable of str: TypeError for anything else); InvalidArgument(unknown(name))
    for a name the table lacks."""
    mask = 0
    for n in _args.names(names, what, single):
        if n not in table:
            raise InvalidArgument(unknown(n))
        mask |= table[n]
    return mask


def event_mask(events):
    """None -> default (start, exec, exit); a name; or an iterable of names."""
    if events is None:
        return 0
    return mask_of(events, _procmon.EVENTS,
                   lambda e: f"unknown event type {e!r}; the types are {', '.join(_procmon.EVENTS)}", "events")


class Subscription:
    """Lifecycle events of one Monitor that pass this subscription's filters.

    Iterate it (``for event in sub``) to wait for events; iteration ends
    when the subscription or its Monitor is closed. Waiting releases the GIL
    and is interrupted by signals (Ctrl-C). Events come in order; when the
    queue overflowed, an Event of type 'lost' says how many were lost,
    never silently.

    Use it as a context manager to unsubscribe on exit; ``fileno()`` for
    selectors; ``async for`` under asyncio. One thread at a time should read
    it; ``close()`` may be called from any thread, and wakes a reader.
    """

    def __init__(self, handle):
        self._h = handle
        self._buf = collections.deque()

    # ------------------------------------------------------------ reading

    def get(self, timeout=None):
        """The next event, waiting up to timeout seconds (None or inf:
        forever; negative or NaN: InvalidArgument); None when the time ran
        out. Raises Closed once it or its Monitor is closed."""
        timeout = _args.timeout(timeout)
        if not self._buf:
            self._buf.extend(map(Event, self._h.next(_BATCH, timeout)))
            if not self._buf:
                return None
        return self._buf.popleft()

    def get_batch(self, max=_BATCH, timeout=None):
        """Up to max events (at least one unless the time ran out: then []);
        timeout as get's."""
        max = _args.integer(max, "max", 1, _args.INT32_MAX)
        timeout = _args.timeout(timeout)
        out = []
        while self._buf and len(out) < max:
            out.append(self._buf.popleft())
        if not out:
            out = [Event(e) for e in self._h.next(max, timeout)]
        return out

    def dispatch(self, callback, max=_BATCH):
        """Call callback(event) for each waiting event (up to max), without
        waiting; returns how many. A true return value stops early; an
        exception raised by callback stops it and propagates."""
        _args.callback(callback, "callback")
        max = _args.integer(max, "max", 1, _args.INT32_MAX)
        n = 0
        while self._buf and n < max:
            n += 1
            if callback(self._buf.popleft()):
                return n
        return n + self._h.dispatch(lambda e: callback(Event(e)), max - n) if n < max else n

    def __iter__(self):
        return self

    def __next__(self):
        try:
            event = self.get()
        except Closed:
            raise StopIteration from None
        return event

    # ------------------------------------------------------------ asyncio

    def __aiter__(self):
        return self

    async def __anext__(self):
        import asyncio

        loop = asyncio.get_running_loop()
        while True:
            if self._buf:
                return self._buf.popleft()
            try:
                self._buf.extend(map(Event, self._h.next(_BATCH, 0)))
                if self._buf:
                    continue
                # Our own copy of the descriptor: close()'s wake makes it
                # readable, and close() frees the subscription's own.
                fd = self._h._dup_fd()
            except Closed:
                raise StopAsyncIteration from None
            ready = loop.create_future()

            def wake():
                if not ready.done():
                    ready.set_result(None)

            loop.add_reader(fd, wake)
            try:
                await ready
            finally:
                loop.remove_reader(fd)
                os.close(fd)

    # ------------------------------------------------------------ the rest

    def fileno(self):
        """A descriptor that is readable while events wait (do not read or
        close it). Once it or its Monitor is closed, raises Closed, a
        ValueError as a closed file's fileno() raises."""
        return self._h.fileno()

    def stats(self):
        """Queue capacity and depth; counts: received, filtered (of which
        undecidable: events the filters could not decide, dropped unless
        subscribed with undecidable=True), delivered, dropped, lost; and where the time went for the events returned so
        far: "timed" (how many) and "latency", a dict of stages "receive",
        "enrich", "deliver" and "total", each {"p50_ns", "p99_ns",
        "max_ns"} (see docs/events.md)."""
        s = self._h.stats()
        s["latency"] = {stage: dict(zip(("p50_ns", "p99_ns", "max_ns"), s.pop(f"latency_{stage}")))
                        for stage in ("receive", "enrich", "deliver", "total")}
        return s

    def close(self):
        """Unsubscribe. Any thread; a reader waiting in get() raises Closed,
        one iterating stops. Closing twice is fine."""
        self._h.close()

    @property
    def closed(self):
        """True once it, or its Monitor, is closed."""
        return self._h.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
