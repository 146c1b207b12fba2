"""Snapshot and Record: procmon_enumerate's records read as psutil reads a
process (psutil's attribute names, named tuples and status strings). The
extension hands over the C members (procmon_process); the meaning is here."""

import collections
import operator
import os

from . import _args, _procmon
from ._errors import InvalidArgument


def _tuple(name, fields, doc):
    t = collections.namedtuple(name, fields)
    t.__module__ = "procmon"
    t.__doc__ = doc
    return t


pmem = _tuple("pmem", "rss vms", "memory_info(): bytes.")
pfullmem = _tuple("pfullmem", "rss vms uss pss swap", "memory_full_info(): bytes.")
pcputimes = _tuple("pcputimes", "user system", "cpu_times(): seconds.")
puids = _tuple("puids", "real effective saved", "uids().")
pgids = _tuple("pgids", "real effective saved", "gids().")
pio = _tuple("pio", "read_count write_count read_bytes write_bytes read_chars write_chars", "io_counters().")
pctxsw = _tuple("pctxsw", "voluntary involuntary", "num_ctx_switches().")

def status(r):
    """psutil's status name of the library's portable state (PROCMON_STATE_MAP)."""
    return _procmon.STATES.get(r.state_kind, "unknown")


_users = {}


def user_name(uid):
    """uid -> its user's name (procmon_user_name), as psutil: the uid as
    text when it has none."""
    name = _users.get(uid)
    if name is None:
        found = _procmon.user_name(uid)  # the library remembers "no such user" itself
        if found is None:
            return str(uid)
        name = _users[uid] = found
    return name


def split_argv(block, decode=True):
    """The arguments of a NUL-terminated block, as str (os.fsdecode) or bytes."""
    if not block:
        return []
    parts = block.split(b"\0")
    if block.endswith(b"\0"):
        parts.pop()
    return [os.fsdecode(p) for p in parts] if decode else parts


def _seconds(ns):
    return ns / 1e9


# psutil's attribute names, in psutil's order (procmon.ATTRS); procmon-only
# extras last. name: (field groups it needs, reading of a record, doc); its
# value is None unless all of those groups were read.
_ATTRS = {
    "pid": ("basic", lambda r: r.pid, "Process id."),
    "ppid": ("basic", lambda r: r.ppid, "Parent's process id."),
    "name": ("basic", lambda r: r.full_name,
             "The name users see (psutil's): comm, or argv[0]'s or exe's base name when the kernel cut comm at 15 bytes."),
    "exe": ("exe", lambda r: r.exe, "Executable path; None unless the 'exe' field was read."),
    "cmdline": ("argv", lambda r: split_argv(r.argv),
                "Arguments as str (undecodable bytes as surrogate escapes, like os.fsdecode)."),
    "username": ("ids", lambda r: user_name(r.uid), "Real user's name (the uid as text if it has none)."),
    "uids": ("ids", lambda r: puids(r.uid, r.euid, r.suid), "puids(real, effective, saved)."),
    "gids": ("ids", lambda r: pgids(r.gid, r.egid, r.sgid), "pgids(real, effective, saved)."),
    "status": ("basic", status, "psutil's status string: 'running', 'sleeping', 'zombie', ..."),
    "create_time": ("basic", lambda r: _seconds(r.start_time_ns), "Start time, seconds since the epoch."),
    "cpu_times": ("cpu", lambda r: pcputimes(_seconds(r.utime_ns), _seconds(r.stime_ns)),
                  "pcputimes(user, system) in seconds."),
    "cpu_percent": ("cpu", lambda r: r.cpu_percent, "CPU use since the Monitor's previous snapshot (100 = one core)."),
    "memory_info": ("memory", lambda r: pmem(r.rss_bytes, r.vms_bytes), "pmem(rss, vms) in bytes."),
    "memory_percent": ("memory", lambda r: r.mem_percent, "rss as a percentage of the machine's memory."),
    "memory_full_info": (("memory", "smaps"),
                         lambda r: pfullmem(r.rss_bytes, r.vms_bytes, r.uss_bytes, r.pss_bytes, r.swap_bytes),
                         "pfullmem(rss, vms, uss, pss, swap) in bytes (opt-in field 'smaps': walks the page tables)."),
    "num_threads": ("sched", lambda r: r.threads, "Number of threads."),
    "nice": ("sched", lambda r: r.nice, "Nice value."),
    "cwd": ("cwd", lambda r: r.cwd, "Working directory (opt-in field 'cwd')."),
    "num_fds": ("fds", lambda r: r.fd_count, "Open file descriptors (opt-in field 'fds')."),
    "io_counters": ("io", lambda r: pio(r.io_syscr, r.io_syscw, r.io_read_bytes, r.io_write_bytes, r.io_rchar,
                                        r.io_wchar), "pio(...) as psutil (opt-in field 'io')."),
    "num_ctx_switches": ("ctxsw", lambda r: pctxsw(r.voluntary_ctxt_switches, r.nonvoluntary_ctxt_switches),
                         "pctxsw(voluntary, involuntary) (opt-in 'ctxsw')."),
    "cmdline_bytes": ("argv", lambda r: split_argv(r.argv, decode=False),
                      "Arguments as bytes, exactly as the process has them."),
    "cgroup": ("cgroup", lambda r: r.cgroup, "cgroup path (opt-in field 'cgroup')."),
    "container_id": ("cgroup", lambda r: r.container_id or None, "Container id found in the cgroup path, else None."),
}
ATTRS = list(_ATTRS)  # procmon.ATTRS
ATTR_FIELDS = {name: sum(_procmon.FIELDS[g] for g in ((groups,) if isinstance(groups, str) else groups))
               for name, (groups, _, _) in _ATTRS.items()}


def _reader(name):
    """The attribute's reading of a raw record: None unless its groups were read."""
    need, get = ATTR_FIELDS[name], _ATTRS[name][1]
    if need == _procmon.FIELDS["basic"]:
        return get
    return lambda r: get(r) if r.valid & need == need else None


_READERS = {name: _reader(name) for name in ATTRS}


def _readers(attrs):
    """(name, reader) for attrs (None: all of ATTRS)."""
    if attrs is None:
        return list(_READERS.items())
    out = []
    for a in _args.names(attrs, "attrs", single=False):
        if a not in _READERS:
            raise InvalidArgument(f"invalid attr name {a!r} (procmon.ATTRS lists the valid ones)")
        out.append((a, _READERS[a]))
    return out


class Record:
    """One process of a Snapshot, read as attributes (procmon.Process has
    psutil's methods). A value that was not read (its field group was not
    asked for, or could not be read) is None. The record keeps its snapshot
    alive."""

    __slots__ = ("_r",)

    def __init__(self, raw):
        self._r = raw

    pgid = property(lambda self: self._r.pgid, doc="Process group id.")
    sid = property(lambda self: self._r.sid, doc="Session id.")
    tty = property(lambda self: self._r.tty, doc="Controlling terminal device number, 0 if none.")
    comm = property(lambda self: self._r.name, doc="The kernel's name for it (at most 15 bytes for user processes).")
    full_name = property(lambda self: self._r.full_name,
                         doc="The name users see: as name (comm, or argv[0]'s or exe's base name when comm was cut).")
    state = property(lambda self: self._r.state, doc="The kernel's state letter.")
    start_ticks = property(lambda self: self._r.start_ticks,
                           doc="Start time in clock ticks since boot: with pid, the identity.")
    is_kernel_thread = property(lambda self: bool(self._r.flags & _procmon.PROC_KTHREAD))
    argv_truncated = property(lambda self: bool(self._r.flags & _procmon.PROC_ARGV_TRUNCATED))
    valid = property(lambda self: self._r.valid, doc="Bit mask of the field groups read.")

    def as_dict(self, attrs=None):
        """The attributes (all of procmon.ATTRS by default) as a dict."""
        r = self._r
        return {name: read(r) for name, read in _readers(attrs)}

    def __repr__(self):
        return f"procmon.Record(pid={self._r.pid}, name={self._r.full_name!r}, status='{status(self._r)}')"


for _name in ATTRS:  # psutil's attrs: the same readers as as_dict and process_iter
    setattr(Record, _name, property(lambda self, read=_READERS[_name]: read(self._r), doc=_ATTRS[_name][2]))
Record.__module__ = "procmon"


def _pid(pid):
    """A pid argument: any int (TypeError else, as a list index); None for
    one no process can have."""
    v = operator.index(pid)
    return v if 0 <= v <= _args.INT32_MAX else None


class Snapshot:
    """Every process at one moment, sorted by pid: a sequence of Record."""

    __slots__ = ("_s",)

    def __init__(self, raw):
        self._s = raw

    def __len__(self):
        return len(self._s)

    def __getitem__(self, index):
        i = operator.index(index)
        n = len(self._s)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("snapshot index out of range")
        return Record(self._s.at(i))

    def __iter__(self):
        s = self._s
        return (Record(s.at(i)) for i in range(len(s)))

    def find(self, pid):
        """The record of pid, or None."""
        pid = _pid(pid)
        raw = self._s.find(pid) if pid is not None else None
        return None if raw is None else Record(raw)

    def children(self, pid, recursive=False):
        """The processes whose parent is pid (all descendants if recursive), sorted by pid."""
        pid = _pid(pid)
        if pid is None:
            return []
        by_parent = collections.defaultdict(list)
        s = self._s
        for i in range(len(s)):
            r = s.at(i)
            if r.ppid != r.pid:
                by_parent[r.ppid].append(r)
        out, parents = [], [pid]
        for parent in parents:
            for r in by_parent.get(parent, ()):
                out.append(r)
                if recursive:
                    parents.append(r.pid)
        out.sort(key=lambda r: r.pid)
        return [Record(r) for r in out]

    def as_dicts(self, attrs=None):
        """Every record as a dict of attrs."""
        readers = _readers(attrs)
        s = self._s
        return [{name: read(r) for name, read in readers} for r in (s.at(i) for i in range(len(s)))]

    def _columns(self):
        return self._s.columns()

    def to_numpy(self):
        """A numpy structured array, one row per process, no per-process Python objects (needs numpy)."""
        from ._columns import to_numpy
        return to_numpy(self)

    def to_arrays(self):
        """dict of column -> array.array: the columns of to_numpy() without numpy."""
        from ._columns import to_arrays
        return to_arrays(self)

    @property
    def fields(self):
        """The field groups asked for."""
        return self._s.fields


Snapshot.__module__ = "procmon"


def take(ctx, fields, name=None, cmdline=None, uid=-1, pids=None, refresh=False):
    """procmon_enumerate on a context, as a Snapshot."""
    return Snapshot(ctx.enumerate(fields, name, cmdline, uid, pids, refresh))
