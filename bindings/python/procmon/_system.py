"""The machine as a whole (procmon_system_get), with psutil's functions."""

import collections

from . import _args

svmem = collections.namedtuple("svmem", "total available percent used free")
svmem.__module__ = "procmon"
svmem.__doc__ = "virtual_memory(): bytes, and percent = (total - available) / total, as psutil."
sswap = collections.namedtuple("sswap", "total used free percent")
sswap.__module__ = "procmon"
sswap.__doc__ = "swap_memory(): bytes and the percentage used, as psutil."


def _system(monitor):
    return _args.monitor_or_default(monitor).system()


def _percent(part, total):
    return round(part * 100.0 / total, 1) if total else 0.0


def system(monitor=None):
    """Monitor.system() of the default Monitor: a dict of the machine's
    memory, swap, load, boot time, CPUs and process count."""
    return _system(monitor)


def virtual_memory(monitor=None):
    """psutil.virtual_memory()'s first five: svmem(total, available,
    percent, used, free). used is total - available (psutil's subtracts
    free, buffers and cache instead)."""
    s = _system(monitor)
    total, available = s["mem_total_bytes"], s["mem_available_bytes"]
    return svmem(total, available, _percent(total - available, total), s["mem_used_bytes"], s["mem_free_bytes"])


def swap_memory(monitor=None):
    """psutil.swap_memory() without sin/sout: sswap(total, used, free, percent)."""
    s = _system(monitor)
    total, free = s["swap_total_bytes"], s["swap_free_bytes"]
    return sswap(total, total - free, free, _percent(total - free, total))


def boot_time(monitor=None):
    """When the machine booted, seconds since the epoch (psutil.boot_time())."""
    return _system(monitor)["boot_time_ns"] / 1e9


def getloadavg(monitor=None):
    """The 1, 5 and 15 minute load averages (psutil.getloadavg())."""
    s = _system(monitor)
    return (s["load1"], s["load5"], s["load15"])


def cpu_count(logical=True, monitor=None):
    """Online CPUs (psutil.cpu_count()); None for logical=False: physical
    cores are not known (psutil also returns None when undetermined)."""
    return _system(monitor)["cpus"] if logical else None
