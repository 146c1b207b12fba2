"""procmon's exceptions. The extension raises them through from_library();
NoSuchProcess, ZombieProcess, AccessDenied and TimeoutExpired take psutil's
arguments and carry psutil's attributes (pid, name, msg, ...), so code
written for psutil's catches and reads them unchanged."""


class Error(Exception):
    """A procmon call failed. ``code`` is the library's status code (negative),
    ``sys_errno`` the OS errno behind it (0 if none), ``message`` (also
    ``msg``, as psutil) what failed."""

    code = -12  # PROCMON_EINTERNAL, for an Error raised without a code
    sys_errno = 0

    def __init__(self, message="", msg=None):
        super().__init__(message)
        self.args = (message,)
        self.message = message
        self.msg = message if msg is None else msg  # psutil's: without the " (pid=..., name=...)" of str()

    def __str__(self):
        return self.message

    @classmethod
    def _of_library(cls, message):
        return cls(message)


def _about(pid, name, extra=None):
    """psutil's " (pid=1, name='x')" tail of a message."""
    parts = [f"pid={pid}"] if pid is not None else []
    if name:
        parts.append(f"name={name!r}")
    if extra:
        parts.append(extra)
    return f" ({', '.join(parts)})" if parts else ""


class _PsutilShaped(Error):
    """Takes psutil's arguments: the library's message comes as msg."""

    @classmethod
    def _of_library(cls, message):
        return cls(msg=message)


class NoSuchProcess(_PsutilShaped):
    """The process is gone, or its pid now belongs to another process
    (PROCMON_ENOENT; also a missing file such as a proc root).
    ``NoSuchProcess(pid, name=None, msg=None)`` as psutil's."""

    code = -4
    pid = name = None  # also when the library raised it

    def __init__(self, pid=None, name=None, msg=None):
        self.pid, self.name = pid, name
        msg = msg or "process no longer exists"
        Error.__init__(self, msg + _about(pid, name), msg)


class ZombieProcess(NoSuchProcess):
    """The process exited and its parent has not reaped it: what it had
    (argv, exe, memory...) is gone. ``ZombieProcess(pid, name=None,
    ppid=None, msg=None)`` as psutil's."""

    ppid = None

    def __init__(self, pid=None, name=None, ppid=None, msg=None):
        self.pid, self.name, self.ppid = pid, name, ppid
        msg = msg or "process still exists but it's a zombie"
        Error.__init__(self, msg + _about(pid, name, None if ppid is None else f"ppid={ppid}"), msg)


class AccessDenied(_PsutilShaped, PermissionError):
    """Permission denied (PROCMON_EPERM). ``AccessDenied(pid=None,
    name=None, msg=None)`` as psutil's; also a PermissionError."""

    code = -3
    pid = name = None

    def __init__(self, pid=None, name=None, msg=None):
        self.pid, self.name = pid, name
        msg = msg or "permission denied"
        Error.__init__(self, msg + _about(pid, name), msg)


class TimeoutExpired(Error):
    """Process.wait() or wait_procs() ran out of time.
    ``TimeoutExpired(seconds, pid=None, name=None)`` as psutil's."""

    code = -7
    seconds = pid = name = None

    def __init__(self, seconds, pid=None, name=None):
        self.seconds, self.pid, self.name = seconds, pid, name
        msg = f"timeout after {seconds} seconds"
        Error.__init__(self, msg + _about(pid, name), msg)


class OutOfMemory(Error, MemoryError):
    """The Monitor's memory cap was reached (PROCMON_ENOMEM); it stays usable."""

    code = -2


class Closed(Error, ValueError):
    """The Monitor, Subscription, Journal or JournalReader was closed
    (PROCMON_ECLOSED); also a ValueError, as an operation on a closed file
    raises."""

    code = -8


class InvalidArgument(Error, ValueError):
    """An argument is outside its documented range (PROCMON_EINVAL)."""

    code = -1


class Busy(Error):
    """Not allowed from inside this subscription's own dispatch callback (PROCMON_EBUSY)."""

    code = -13


class NoSpace(Error, OSError):
    """The device is full (PROCMON_ENOSPC)."""

    code = -14


class Locked(Error):
    """Another writer holds the journal directory (PROCMON_ELOCKED)."""

    code = -15


class JournalFormatError(Error):
    """Not a procmon journal, or of a newer format (PROCMON_EFORMAT)."""

    code = -16


class ProtocolError(Error, ConnectionError):
    """procmond broke the protocol, speaks another version of it, or went
    away (PROCMON_EPROTO, since 0.4); also a ConnectionError."""

    code = -18


# The library's status codes, by their names in procmon.h, to the class raised
_BY_STATUS = {
    "EPERM": AccessDenied, "ENOENT": NoSuchProcess, "ENOMEM": OutOfMemory, "ECLOSED": Closed,
    "EINVAL": InvalidArgument, "EVERSION": InvalidArgument, "EBUSY": Busy, "ENOSPC": NoSpace, "ELOCKED": Locked,
    "EFORMAT": JournalFormatError, "EPROTO": ProtocolError,
}


def from_library(code, status, message, sys_errno):
    """The exception for a failed library call (the extension raises it):
    status is the code's name in procmon.h ("EPERM"), message the library's."""
    exc = _BY_STATUS.get(status, Error)._of_library(message)
    exc.code, exc.sys_errno = code, sys_errno
    return exc
