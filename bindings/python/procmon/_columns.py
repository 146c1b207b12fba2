"""Snapshot.to_numpy() and Snapshot.to_arrays(): columns without one Python
object per process. The extension packs each column into bytes in one pass;
numpy (optional) or the array module wraps them without copying again."""

import array

# What each column holds; `valid` says which field groups were read for a
# row (procmon.FIELDS), so a zero can be told from "not read". `name` is the
# name users see (Record.name), `comm` the kernel's (Record.comm): bytes, as
# wide as the snapshot's longest (numpy's S<width>).
COLUMNS = ("pid", "ppid", "uid", "num_threads", "nice", "rss", "vms", "cpu_user", "cpu_system",
           "cpu_percent", "create_time", "valid", "state", "name", "comm")


def to_arrays(snapshot):
    """dict of column name -> array.array (name, comm: lists of bytes; state: str)."""
    out = {}
    for name, code, data in snapshot._columns():
        if code.startswith("S"):
            width = int(code[1:])
            out[name] = [data[i:i + width].rstrip(b"\0") for i in range(0, len(data), width)]
        elif name == "state":
            out[name] = data.decode("ascii", "replace")
        else:
            a = array.array(code)
            a.frombytes(data)
            out[name] = a
    return out


def to_numpy(snapshot):
    """A numpy structured array, one row per process."""
    try:
        import numpy as np
    except ImportError:
        raise ImportError("Snapshot.to_numpy() needs numpy (Debian: python3-numpy); "
                          "Snapshot.to_arrays() gives the same columns without it") from None
    codes = {"i": "<i4", "I": "<u4", "Q": "<u8", "d": "<f8", "b": "S1"}
    cols = snapshot._columns()
    dtype = np.dtype([(name, codes.get(code, code)) for name, code, _ in cols])
    out = np.empty(len(snapshot), dtype=dtype)
    for name, code, data in cols:
        out[name] = np.frombuffer(data, dtype=codes.get(code, code))
    return out
