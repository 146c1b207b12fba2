"""procmon: fast process snapshots and lifecycle events for Linux.

    import procmon
    for p in procmon.process_iter(["pid", "name", "memory_info"]):
        print(p.info)

    snap = procmon.snapshot()               # every process, one Snapshot
    me = snap.find(os.getpid())             # a Process record
    with procmon.subscribe({"exec", "exit"}) as sub:
        for event in sub: ...
    with procmon.Journal("/var/lib/mon/journal", procmon.Monitor()):
        ...                                 # events recorded to disk meanwhile
    for event in procmon.JournalReader("/var/lib/mon/journal", since_seq=1000): ...

The API follows psutil's names and units where they overlap (procmon.ATTRS
lists the process attributes). Everything is read by the procmon C library
(libprocmon, linked into procmon._procmon) through its stable C ABI.
"""

from ._procmon import (  # noqa: F401
    ATTRS,
    DEFAULT_ARENA_CAP,
    EVENTS,
    FIELDS,
    MIN_ARENA_CAP,
    QUEUE_DEFAULT,
    QUEUE_MAX,
    QUEUE_MIN,
    VERSION,
    AccessDenied,
    Busy,
    Closed,
    Error,
    Event,
    InvalidArgument,
    JournalFormatError,
    Locked,
    NoSpace,
    NoSuchProcess,
    OutOfMemory,
    Process,
    Snapshot,
    pcputimes,
    pctxsw,
    pgids,
    pio,
    pmem,
    puids,
)
from ._events import Subscription  # noqa: F401
from ._journal import Journal, JournalReader  # noqa: F401
from ._monitor import Monitor, PsProcess, default_monitor, process_iter, snapshot, subscribe  # noqa: F401

__version__ = VERSION

__all__ = [
    "ATTRS", "EVENTS", "FIELDS", "QUEUE_DEFAULT", "QUEUE_MAX", "QUEUE_MIN", "DEFAULT_ARENA_CAP", "MIN_ARENA_CAP",
    "VERSION", "Error", "AccessDenied", "NoSuchProcess", "OutOfMemory", "Closed", "InvalidArgument", "Busy",
    "NoSpace", "Locked", "JournalFormatError",
    "Monitor", "Snapshot", "Process", "PsProcess", "Event", "Subscription", "Journal", "JournalReader",
    "snapshot", "process_iter", "subscribe", "default_monitor",
    "pmem", "pcputimes", "puids", "pgids", "pio", "pctxsw",
]
