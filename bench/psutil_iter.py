#!/usr/bin/python3
"""What a psutil user writes to list processes: process_iter with the fields
procmon snapshot prints by default, one JSON object a line."""
import json
import sys

import psutil

ATTRS = ["pid", "ppid", "name", "status", "cpu_times", "memory_info", "num_threads",
         "uids", "gids", "exe", "cmdline", "create_time", "nice", "terminal"]

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
