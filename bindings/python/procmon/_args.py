"""The public API's arguments, checked before they reach the extension, as
Python's own functions check theirs: a value of the wrong type raises
TypeError, one of the right type outside its range ValueError (procmon's
InvalidArgument), and nothing reaches the C library truncated (an embedded
NUL), wrapped around (a negative or huge int) or undefined (NaN seconds)."""

import math
import numbers
import operator
import os
import pwd
import threading

from ._errors import InvalidArgument

INT32_MAX = 2 ** 31 - 1
UINT32_MAX = 2 ** 32 - 1
UINT64_MAX = 2 ** 64 - 1


def _type_error(what, expected, value):
    return TypeError(f"{what} must be {expected}, not {type(value).__name__}")


def integer(value, what, lo=0, hi=UINT64_MAX):
    """An int (or what operator.index takes; bool is not one) in lo..hi."""
    if isinstance(value, bool):
        raise _type_error(what, "an integer", value)
    try:
        n = operator.index(value)
    except TypeError:
        raise _type_error(what, "an integer", value) from None
    if not lo <= n <= hi:
        raise InvalidArgument(f"{what} must be in {lo}..{hi} (got {n})")
    return n


def number(value, what):
    """A real number of seconds as a float; NaN is none."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _type_error(what, "a number of seconds", value)
    v = float(value)
    if math.isnan(v):
        raise InvalidArgument(f"{what} is NaN")
    return v


def timeout(value, what="timeout"):
    """How long a wait may last: None or inf (as long as it takes: returns
    None), else a number of seconds >= 0."""
    if value is None:
        return None
    v = number(value, what)
    if v < 0:
        raise InvalidArgument(f"{what} must be >= 0 seconds, or None to wait as long as it takes (got {value!r})")
    return None if math.isinf(v) else v


def interval(value, what):
    """A number of seconds >= 0 that can be slept (something measured over,
    or waited between): at most threading.TIMEOUT_MAX, so never inf."""
    v = number(value, what)
    if not 0 <= v <= threading.TIMEOUT_MAX:
        raise InvalidArgument(f"{what} must be a number of seconds in 0..{threading.TIMEOUT_MAX:g} (got {value!r})")
    return v


def milliseconds(value, what, hi=UINT32_MAX):
    """A finite positive number of seconds as whole milliseconds (at least 1,
    at most hi)."""
    v = interval(value, what)
    ms = math.ceil(v * 1000)
    if not 1 <= ms <= hi:
        raise InvalidArgument(f"{what} must be more than 0 and at most {hi / 1000:g} seconds (got {value!r})")
    return ms


def _no_nul(data, what):
    if b"\0" in data:
        raise ValueError(f"{what}: embedded null byte")
    return data


def path(value, what):
    """A file system path as os.fsencode takes it (str, bytes, os.PathLike),
    as bytes: a str that is not UTF-8 (surrogate escapes) stands for its bytes."""
    try:
        data = os.fsencode(value)
    except TypeError:
        raise _type_error(what, "str, bytes or os.PathLike", value) from None
    return _no_nul(data, what)


def pattern(value, what):
    """None, or an fnmatch pattern as bytes, from str (as os.fsencode: names
    read as surrogate escapes are matched by them) or bytes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = os.fsencode(value)
    elif not isinstance(value, bytes):
        raise _type_error(what, "str or bytes", value)
    return _no_nul(value, what)


def names(value, what, single=True):
    """A list of names (str) from an iterable of them, or one name when
    single. bytes are not names."""
    if isinstance(value, str):
        if single:
            return [value]
        raise _type_error(what, "a list of names (not a single str)", value)
    if isinstance(value, bytes):
        raise _type_error(what, "str names", value)
    try:
        out = list(value)
    except TypeError:
        raise _type_error(what, "an iterable of str", value) from None
    for v in out:
        if not isinstance(v, str):
            raise TypeError(f"{what}: names are str, not {type(v).__name__} ({v!r})")
    return out


def pids(value, what="pids"):
    """None, or a list of pids (1..INT32_MAX) from an iterable of ints."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        raise _type_error(what, "an iterable of pids", value)
    try:
        items = list(value)
    except TypeError:
        raise _type_error(what, "an iterable of pids", value) from None
    return [integer(p, f"{what}: a pid", 1, INT32_MAX) for p in items]


def flag(value, what):
    """A bool (or what is one: 0, 1, numpy's bool); a str is not."""
    if isinstance(value, (str, bytes)) or value is None:
        raise _type_error(what, "a bool", value)
    return bool(value)


def callback(value, what, optional=False):
    """A callable (or None when optional)."""
    if not callable(value) and not (optional and value is None):
        raise _type_error(what, "callable", value)
    return value


def user_id(value, what="user"):
    """None -> -1 (all users); a uid; or a user name."""
    if value is None:
        return -1
    if isinstance(value, str):
        try:
            return pwd.getpwnam(value).pw_uid
        except KeyError:
            raise InvalidArgument(f"no such user {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _type_error(what, "a user name or a uid", value)
    return integer(value, what, 0, UINT32_MAX)


def filters(name, cmdline, user):
    """The name and cmdline patterns (bytes) and the uid of a snapshot's,
    subscription's or journal's filters."""
    return pattern(name, "name"), pattern(cmdline, "cmdline"), user_id(user)


def monitor(value, what="monitor"):
    """None, or a procmon.Monitor."""
    from ._monitor import Monitor  # the Monitor module imports this one
    if value is not None and not isinstance(value, Monitor):
        raise _type_error(what, "a procmon.Monitor", value)
    return value


def monitor_or_default(value):
    """A procmon.Monitor; None: procmon.default_monitor()."""
    if monitor(value) is not None:
        return value
    from ._monitor import default_monitor
    return default_monitor()
