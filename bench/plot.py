#!/usr/bin/python3
"""Time per enumeration against process count, from one run: procmon cold
and warm, the reference reader and libproc2 (enumerate_bench over the
processes that exist), and psutil's process_iter (timed in this process),
at 1,000 to 10,000 idle processes, drawn with gnuplot into a PNG.

Usage: bench/plot.py [OUTPUT.png] [--bench build/release/bench/enumerate_bench]
       [--steps 1000,2000,...] [--rounds 7]
Needs Debian's python3-psutil and gnuplot (gnuplot-nox).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import psutil

from idle_procs import IdleProcesses  # bench/, beside this script

HERE = os.path.dirname(os.path.abspath(__file__))
ATTRS = ["pid", "ppid", "name", "status", "cpu_times", "memory_info", "num_threads",
         "uids", "gids", "exe", "cmdline", "create_time", "nice"]
SERIES = {  # enumerate_bench row -> plotted name
    "procmon cold, default fields": "procmon cold",
    "procmon warm, default fields": "procmon warm",
    "reference stat+status+cmdline": "reference reader",
    "libproc2 reap, same fields": "libproc2",
}


def bench_rows(bench, rounds):
    out = subprocess.run([bench, "--procs", "0", "--rounds", str(rounds)], check=True, capture_output=True,
                         text=True).stdout
    rows = {}
    for line in out.splitlines():
        for row, name in SERIES.items():
            if line.startswith(row):
                procs, median = re.findall(r"\d+(?:\.\d+)?", line[len(row):])[:2]
                rows[name] = (int(procs), float(median))
    return rows


def psutil_ms(rounds):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        [p.info for p in psutil.process_iter(ATTRS)]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("output", nargs="?", default=os.path.join(HERE, "..", "docs", "enumeration.png"))
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "release", "bench", "enumerate_bench"))
    ap.add_argument("--steps", default=",".join(str(n) for n in range(1000, 10001, 1000)))
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    if not shutil.which("gnuplot"):
        sys.exit("bench/plot.py: gnuplot is not installed (Debian: apt install gnuplot-nox)")
    if not os.access(args.bench, os.X_OK):
        sys.exit(f"bench/plot.py: {args.bench} missing: cmake --preset release && cmake --build --preset release")

    idle = IdleProcesses()
    table = []  # (processes on the machine, {series: ms})
    try:
        for target in (int(s) for s in args.steps.split(",")):
            idle.grow(target)
            rows = bench_rows(args.bench, args.rounds)
            ms = {name: median for name, (_, median) in rows.items()}
            ms["psutil"] = psutil_ms(max(3, args.rounds // 2))
            procs = rows["procmon warm"][0]
            table.append((procs, ms))
            print(f"{procs:6d} processes: " + ", ".join(f"{k} {v:.1f} ms" for k, v in ms.items()), flush=True)
    finally:
        idle.close()

    names = ["procmon warm", "procmon cold", "reference reader", "libproc2", "psutil"]
    data = os.path.splitext(args.output)[0] + ".dat"
    with open(data, "w") as f:
        f.write("# processes " + " ".join(n.replace(" ", "_") for n in names) + "\n")
        for procs, ms in table:
            f.write(f"{procs} " + " ".join(f"{ms[n]:.3f}" for n in names) + "\n")
    plots = ", ".join(f"'{data}' using 1:{i + 2} with linespoints title '{n}'" for i, n in enumerate(names))
    script = (f"set terminal pngcairo size 900,560 noenhanced; set output '{args.output}';"
              "set title 'Time per enumeration (median; one run, same machine)';"
              "set xlabel 'processes'; set ylabel 'ms (log scale)'; set logscale y; set grid;"
              f"set key top left; plot {plots}")
    subprocess.run(["gnuplot", "-e", script], check=True)
    print(f"wrote {args.output} and {data}")


if __name__ == "__main__":
    main()
