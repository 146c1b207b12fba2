#!/usr/bin/env python3
"""procmon's Python binding against psutil, on the same held processes,
interleaved round by round so both see the same machine.

Run it with a Python where procmon is installed (bench/python_bench.sh
builds the wheel into a throw-away venv and does so). Prints one table per
process count: median ms per call and the speed-up over psutil measured in
the same run (psutil's median / procmon's).

Usage: python_bench.py [--procs 1000,10000] [--rounds 9]
"""
import argparse
import gc
import os
import statistics
import time

import procmon
import psutil

from idle_procs import IdleProcesses  # bench/, beside this script

try:
    import numpy  # noqa: F401
    HAVE_NUMPY = True
except ImportError:
    HAVE_NUMPY = False

# What a psutil user lists: bench/psutil_iter.py's fields that both have (not terminal).
ATTRS = ["pid", "ppid", "name", "status", "cpu_times", "memory_info", "num_threads",
         "uids", "gids", "exe", "cmdline", "create_time", "nice"]
# The columns to_numpy() has: its psutil equivalent.
NUMERIC = ["pid", "ppid", "name", "status", "cpu_times", "cpu_percent", "memory_info", "num_threads",
           "uids", "create_time", "nice"]


def timed(fn):
    gc.collect()
    start = time.perf_counter()
    n = fn()
    return (time.perf_counter() - start) * 1000, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", default="1000,10000")
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()

    warm = procmon.Monitor()
    variants = {
        "psutil process_iter(attrs)": lambda: len([p.info for p in psutil.process_iter(ATTRS)]),
        "procmon process_iter(attrs), warm": lambda: len([p.info for p in warm.process_iter(ATTRS)]),
        "procmon process_iter(attrs), cold": lambda: len([p.info for p in procmon.Monitor().process_iter(ATTRS)]),
        "procmon snapshot()": lambda: len(warm.snapshot()),
        "psutil process_iter(numeric attrs)": lambda: len([p.info for p in psutil.process_iter(NUMERIC)]),
    }
    if HAVE_NUMPY:
        variants["procmon snapshot().to_numpy(), warm"] = lambda: len(warm.snapshot(["cpu", "memory", "sched", "ids"]).to_numpy())
        variants["procmon snapshot().to_numpy(), cold"] = lambda: len(
            procmon.Monitor().snapshot(["cpu", "memory", "sched", "ids"]).to_numpy())

    print(f"procmon {procmon.__version__}, psutil {psutil.__version__}, numpy {'yes' if HAVE_NUMPY else 'no'}; "
          f"{os.cpu_count()} CPUs")
    for n in [int(x) for x in args.procs.split(",")]:
        t0 = time.monotonic()
        idle = IdleProcesses(n)
        print(f"\n{n} idle processes (spawned in {time.monotonic() - t0:.1f} s), {args.rounds} rounds interleaved")
        try:
            times = {name: [] for name in variants}
            counts = {}
            for name, fn in variants.items():  # one untimed warm-up each
                fn()
            for _ in range(args.rounds):
                for name, fn in variants.items():
                    ms, counts[name] = timed(fn)
                    times[name].append(ms)
        finally:
            idle.close()
        base_all = statistics.median(times["psutil process_iter(attrs)"])
        base_num = statistics.median(times["psutil process_iter(numeric attrs)"])
        print(f"{'variant':42} {'procs':>6} {'median ms':>10} {'min ms':>8} {'vs psutil':>10}")
        for name, ts in times.items():
            med = statistics.median(ts)
            base = base_num if ("numpy" in name or "numeric" in name) else base_all
            print(f"{name:42} {counts[name]:6d} {med:10.2f} {min(ts):8.2f} {base / med:9.1f}x")
        print("(to_numpy and 'numeric attrs' compare with psutil asked for the same numeric columns)")
    warm.close()


if __name__ == "__main__":
    main()
