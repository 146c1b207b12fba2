"""Event: one lifecycle event (procmon_event) with psutil's units and the
type's name; values that do not apply to its type are None."""

from . import _procmon
from ._snapshot import split_argv

_TYPE_NAMES = {bit: name for name, bit in _procmon.EVENTS.items()}
_EXIT, _LOST = _procmon.EVENTS["exit"], _procmon.EVENTS["lost"]
_NO_STATUS = _procmon.EVENT_FLAG_NO_STATUS
_UID_UNKNOWN = 2 ** 32 - 1


class Event:
    """One lifecycle event. Values that do not apply to its type are None."""

    __slots__ = ("_e",)

    def __init__(self, raw):
        self._e = raw

    @property
    def type(self):
        """'start', 'exec', 'exit', 'uid', 'comm' or 'lost'."""
        return _TYPE_NAMES.get(self._e.type, "unknown")

    pid = property(lambda self: self._e.pid)
    ppid = property(lambda self: self._e.ppid)
    seq = property(lambda self: self._e.seq, doc="Increases by one per event of the Monitor.")
    time = property(lambda self: self._e.time_ns / 1e9, doc="When, seconds since the epoch.")
    time_ns = property(lambda self: self._e.time_ns)
    start_ticks = property(lambda self: self._e.start_ticks)
    create_time = property(lambda self: self._e.start_time_ns / 1e9)
    name = property(lambda self: self._e.full_name,
                    doc="The name users see (as Record.name; subscribe's name filter matches it).")
    full_name = property(lambda self: self._e.full_name)
    comm = property(lambda self: self._e.name, doc="The kernel's name (at most 15 bytes).")
    exe = property(lambda self: self._e.exe)
    cmdline = property(lambda self: split_argv(self._e.argv))
    cmdline_bytes = property(lambda self: split_argv(self._e.argv, decode=False))
    synthesized = property(lambda self: bool(self._e.flags & _procmon.EVENT_FLAG_SYNTHESIZED),
                           doc="Recovered by a resync, not seen as it happened.")
    partial = property(lambda self: bool(self._e.flags & _procmon.EVENT_FLAG_PARTIAL),
                       doc="The process was gone before all of it could be read.")
    thread = property(lambda self: bool(self._e.flags & _procmon.EVENT_FLAG_THREAD))

    @property
    def uid(self):
        """Effective uid, None when unknown."""
        uid = self._e.uid
        return None if uid == _UID_UNKNOWN else uid

    def _has_status(self):
        return self._e.type == _EXIT and not self._e.flags & _NO_STATUS

    @property
    def exit_code(self):
        """exit: the status given to exit(); None if killed by a signal or unknown."""
        code = self._e.exit_code
        return code if self._has_status() and code >= 0 else None

    @property
    def exit_signal(self):
        """exit: the signal that ended it, 0 if none; None if unknown."""
        return self._e.exit_signal if self._has_status() else None

    @property
    def lifetime(self):
        """exit: seconds it lived."""
        return self._e.lifetime_ns / 1e9 if self._e.type == _EXIT else None

    @property
    def lost(self):
        """lost: how many events were lost (0 = unknown)."""
        return self._e.lost if self._e.type == _LOST else None

    def __repr__(self):
        e = self._e
        if e.type == _LOST:
            return f"procmon.Event(type='lost', lost={e.lost})"
        r = f"procmon.Event(type='{self.type}', pid={e.pid}, name={e.full_name!r}"
        if self._has_status():
            r += f", exit_code={e.exit_code}, exit_signal={e.exit_signal}"
        return r + ")"


Event.__module__ = "procmon"
