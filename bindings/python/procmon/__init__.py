"""procmon: fast process snapshots and lifecycle events for Linux.

    import procmon
    for p in procmon.process_iter(["pid", "name", "memory_info"]):
        print(p.info)

    p = procmon.Process(pid)                # psutil's Process: p.name(), p.wait(), p.kill()
    snap = procmon.snapshot()               # every process, one Snapshot
    me = snap.find(os.getpid())             # a Record: me.name, me.memory_info.rss
    with procmon.subscribe({"exec", "exit"}) as sub:
        for event in sub: ...
    with procmon.Journal("/var/lib/mon/journal", procmon.Monitor()):
        ...                                 # events recorded to disk meanwhile
    for event in procmon.JournalReader("/var/lib/mon/journal", since_seq=1000): ...

The API follows psutil's names and units where they overlap (procmon.ATTRS
lists the process attributes). Everything is read by the procmon C library
(libprocmon, linked into procmon._procmon) through its stable C ABI.
"""

from ._procmon import DEFAULT_ARENA_CAP, EVENTS, FIELDS, MIN_ARENA_CAP, QUEUE_DEFAULT, QUEUE_MAX, QUEUE_MIN, VERSION  # noqa: F401
from ._event import Event  # noqa: F401
from ._snapshot import ATTRS, Record, Snapshot, pcputimes, pctxsw, pfullmem, pgids, pio, pmem, puids  # noqa: F401
from ._errors import (  # noqa: F401
    AccessDenied,
    Busy,
    Closed,
    Error,
    InvalidArgument,
    JournalFormatError,
    Locked,
    NoSpace,
    NoSuchProcess,
    OutOfMemory,
    ProtocolError,
    TimeoutExpired,
    ZombieProcess,
)
from ._events import Subscription  # noqa: F401
from ._journal import Journal, JournalReader  # noqa: F401
from ._monitor import Monitor, PsProcess, default_monitor, process_iter, snapshot, subscribe  # noqa: F401
from ._process import Process, pid_exists, pids, wait_procs  # noqa: F401
from ._system import boot_time, cpu_count, getloadavg, sswap, svmem, swap_memory, system, virtual_memory  # noqa: F401

__version__ = VERSION

# psutil's status strings (Process.status(), Record.status)
STATUS_RUNNING = "running"
STATUS_SLEEPING = "sleeping"
STATUS_DISK_SLEEP = "disk-sleep"
STATUS_STOPPED = "stopped"
STATUS_TRACING_STOP = "tracing-stop"
STATUS_ZOMBIE = "zombie"
STATUS_DEAD = "dead"
STATUS_WAKE_KILL = "wake-kill"
STATUS_WAKING = "waking"
STATUS_IDLE = "idle"
STATUS_PARKED = "parked"

__all__ = [
    "ATTRS", "EVENTS", "FIELDS", "QUEUE_DEFAULT", "QUEUE_MAX", "QUEUE_MIN", "DEFAULT_ARENA_CAP", "MIN_ARENA_CAP",
    "VERSION", "Error", "AccessDenied", "NoSuchProcess", "ZombieProcess", "TimeoutExpired", "OutOfMemory", "Closed",
    "InvalidArgument", "Busy", "NoSpace", "Locked", "JournalFormatError", "ProtocolError",
    "Monitor", "Snapshot", "Record", "Process", "PsProcess", "Event", "Subscription", "Journal", "JournalReader",
    "snapshot", "process_iter", "subscribe", "default_monitor", "pids", "pid_exists", "wait_procs",
    "system", "virtual_memory", "swap_memory", "boot_time", "getloadavg", "cpu_count",
    "pmem", "pfullmem", "pcputimes", "puids", "pgids", "pio", "pctxsw", "svmem", "sswap",
    "STATUS_RUNNING", "STATUS_SLEEPING", "STATUS_DISK_SLEEP", "STATUS_STOPPED", "STATUS_TRACING_STOP",
    "STATUS_ZOMBIE", "STATUS_DEAD", "STATUS_WAKE_KILL", "STATUS_WAKING", "STATUS_IDLE", "STATUS_PARKED",
]
