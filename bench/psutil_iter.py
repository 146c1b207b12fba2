#!/usr/bin/python3
"""What a psutil user writes to list processes: process_iter with the fields
procmon snapshot prints by default, one JSON object a line.
With --time N: no output; time N loops in-process and print the median, to
compare with procmon's in-process figures without Python's start-up."""
import json
import statistics
import sys
import time

import psutil

ATTRS = ["pid", "ppid", "name", "status", "cpu_times", "memory_info", "num_threads",
         "uids", "gids", "exe", "cmdline", "create_time", "nice", "terminal"]


def collect():
    return [p.info for p in psutil.process_iter(attrs=ATTRS, ad_value=None)]


if len(sys.argv) == 3 and sys.argv[1] == "--time":
    times = []
    for _ in range(int(sys.argv[2])):
        start = time.perf_counter()
        n = len(collect())
        times.append((time.perf_counter() - start) * 1000)
    print(f"psutil process_iter in-process: {n} processes, median {statistics.median(times):.2f} ms "
          f"over {len(times)} loops")
    sys.exit(0)

out = sys.stdout
for p in psutil.process_iter(attrs=ATTRS, ad_value=None):
    info = p.info
    ct, mi = info["cpu_times"], info["memory_info"]
    info["cpu_times"] = [ct.user, ct.system] if ct else None
    info["memory_info"] = [mi.rss, mi.vms] if mi else None
    info["uids"] = list(info["uids"]) if info["uids"] else None
    info["gids"] = list(info["gids"]) if info["gids"] else None
    out.write(json.dumps(info))
    out.write("\n")
