#!/usr/bin/python3
"""One table of every timing ratio from one bench/compare.sh run: whole
commands (hyperfine's JSON export) and in-process figures (enumerate_bench's
table and psutil's in-process loop), each procmon variant against the
reference reader, libproc2, ps and psutil measured in the same run.

Usage: ratio_table.py HYPERFINE_JSON IN_PROCESS_OUTPUT
IN_PROCESS_OUTPUT holds psutil_iter.py --time's line and enumerate_bench's
table (--procs 0: one size)."""
import json
import re
import sys


def whole_commands(path):
    with open(path) as f:
        results = json.load(f)["results"]
    return {r["command"]: r["median"] * 1000 for r in results}


def in_process(path):
    medians = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"psutil process_iter in-process: \d+ processes, median ([\d.]+) ms", line)
            if m:
                medians["psutil"] = float(m.group(1))
                continue
            # enumerate_bench: name, procs, median ms, p90 ms, ratio
            m = re.match(r"(.+?)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+x$", line.rstrip())
            if m:
                medians[m.group(1)] = float(m.group(3))
    return medians


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    whole = whole_commands(sys.argv[1])
    inproc = in_process(sys.argv[2])
    ref = inproc.get("reference stat+status+cmdline")
    lib = inproc.get("libproc2 reap, same fields")
    psu = inproc.get("psutil")
    print("\nEvery ratio of this run (procmon's median / the other's; below 1 = procmon faster):\n")
    print("| procmon | median ms | / reference | / libproc2 | / ps | / psutil |")
    print("|---|---|---|---|---|---|")
    if "procmon" in whole:
        p = whole["procmon"]
        print(f"| `snapshot --format json-stream`, whole command | {p:.2f} | – | – | "
              f"{ratio(p, whole.get('ps'))} | {ratio(p, whole.get('psutil'))} |")
    for name, ms in inproc.items():
        if not name.startswith("procmon"):
            continue
        print(f"| {name}, in-process | {ms:.2f} | {ratio(ms, ref)} | {ratio(ms, lib)} | – | {ratio(ms, psu)} |")
    print("\nReferences, same run: " + ", ".join(
        f"{k} {v:.2f} ms" for k, v in
        [("ps (whole)", whole.get("ps")), ("psutil script (whole)", whole.get("psutil")),
         ("reference reader", ref), ("libproc2", lib), ("psutil in-process", psu)] if v))


if __name__ == "__main__":
    main()
