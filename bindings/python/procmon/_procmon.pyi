# Type stubs for procmon's private extension: the C handles and the C
# members under their C names (see procmon/__init__.pyi for the public API;
# procmon/_snapshot.py and _event.py give the values their meaning).
from typing import Any, Callable, Dict, List, Optional, Tuple

VERSION: str
HEADER_VERSION: str
FIELDS: Dict[str, int]    # PROCMON_FIELD_MAP: name -> bit
EVENTS: Dict[str, int]    # PROCMON_EVENT_MAP: name -> bit
STATES: Dict[int, str]    # PROCMON_STATE_MAP: PROCMON_STATE_* -> psutil's status name
SOURCES: Dict[str, int]   # PROCMON_SOURCE_MAP: name -> PROCMON_SOURCE_*
FIELDS_DEFAULT: int
FIELDS_ALL: int
EVENTS_DEFAULT: int
QUEUE_DEFAULT: int
QUEUE_MIN: int
QUEUE_MAX: int
DEFAULT_ARENA_CAP: int
MIN_ARENA_CAP: int
FSYNC: Dict[str, int]
PROC_KTHREAD: int
PROC_ARGV_TRUNCATED: int
EVENT_FLAG_SYNTHESIZED: int
EVENT_FLAG_PARTIAL: int
EVENT_FLAG_NO_STATUS: int
EVENT_FLAG_THREAD: int

def strerror(code: int) -> str: ...
def user_name(uid: int) -> Optional[str]: ...

# The exception classes are procmon._errors' (the extension raises them).

class Record:  # procmon_process; text members as os.fsdecode gives them, "" when not read
    valid: int
    pid: int
    ppid: int
    pgid: int
    sid: int
    tty: int
    state: str
    state_kind: int
    flags: int
    uid: int
    euid: int
    suid: int
    gid: int
    egid: int
    sgid: int
    name: str
    full_name: str
    exe: str
    argv: bytes
    threads: int
    start_ticks: int
    start_time_ns: int
    utime_ns: int
    stime_ns: int
    cpu_percent: float
    rss_bytes: int
    vms_bytes: int
    mem_percent: float
    pss_bytes: int
    uss_bytes: int
    swap_bytes: int
    nice: int
    cwd: str
    fd_count: int
    io_rchar: int
    io_wchar: int
    io_syscr: int
    io_syscw: int
    io_read_bytes: int
    io_write_bytes: int
    voluntary_ctxt_switches: int
    nonvoluntary_ctxt_switches: int
    cgroup: str
    container_id: str

class Snapshot:
    def __len__(self) -> int: ...
    def at(self, i: int) -> Record: ...
    def find(self, pid: int) -> Optional[Record]: ...
    def columns(self) -> List[Tuple[str, str, bytes]]: ...
    @property
    def fields(self) -> int: ...

class Event:  # procmon_event, its strings copied
    type: int
    flags: int
    pid: int
    ppid: int
    uid: int
    seq: int
    time_ns: int
    start_ticks: int
    start_time_ns: int
    exit_code: int
    exit_signal: int
    lifetime_ns: int
    lost: int
    name: str
    full_name: str
    exe: str
    argv: bytes

class Subscription:
    def next(self, max: int, timeout: Optional[float]) -> List[Event]: ...
    def dispatch(self, callback: Callable[[Event], Any], max: int) -> int: ...
    def close(self) -> None: ...
    def fileno(self) -> int: ...
    def stats(self) -> Dict[str, Any]: ...
    @property
    def closed(self) -> bool: ...
    def _dup_fd(self) -> int: ...

class Context:
    def __init__(self, arena_cap: int, threads: int, argv_cap: int, cache: bool, polling: bool,
                 poll_interval_ms: int, proc_root: Optional[bytes], endpoint: Optional[bytes]) -> None: ...
    def enumerate(self, fields: int, name: Optional[bytes], cmdline: Optional[bytes], uid: int,
                  pids: Optional[List[int]], refresh: bool) -> Snapshot: ...
    def subscribe(self, events: int, name: Optional[bytes], cmdline: Optional[bytes], uid: int, descendants_of: int,
                  queue: int, threads: bool, undecidable: bool, from_seq: int, history: bool) -> Subscription: ...
    def stats(self) -> Dict[str, Any]: ...
    def system(self) -> Dict[str, Any]: ...
    def daemon_status(self) -> Dict[str, Any]: ...
    def daemon_clients(self) -> List[Dict[str, Any]]: ...
    def signal(self, pid: int, start_ticks: int, sig: int) -> None: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...

class Journal:
    def __init__(self, dir: bytes, ctx: Optional[Context], fsync: int, fsync_interval_ms: int, queue: int,
                 segment_bytes: int, max_bytes: int, max_age_ms: int, events: int, name: Optional[bytes],
                 cmdline: Optional[bytes], uid: int, descendants_of: int, undecidable: bool) -> None: ...
    def append(self, events: List[Event]) -> None: ...
    def sync(self, timeout: Optional[float]) -> int: ...
    def stats(self) -> Dict[str, Any]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...

class JournalReader:
    def __init__(self, dir: bytes, from_seq: int, from_time_ns: int) -> None: ...
    def next(self, max: int, timeout: Optional[float]) -> List[Event]: ...
    def stats(self) -> Dict[str, int]: ...
    def close(self) -> None: ...
