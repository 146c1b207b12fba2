#!/usr/bin/env python3
"""The performance gate: work counts that cannot flake, against baselines.

Over a fixture /proc tree of 1,000 synthetic processes (make_fixture.py, the
same on every machine), for a cold context, a warm one and a warm one with
every field:
  - system calls per process, by kind (perf_gate counts them through the
    library's system call table);
  - arena blocks per enumeration, arena bytes per process, process-heap
    allocations per enumeration;
  - user-space instructions per process, counted by valgrind (cachegrind,
    no cache simulation): K=6 enumerations minus K=1, over 5.
And the event path, per event (fork, exec, exit of fixture processes from
connector messages: parsed, tracked and enriched, filtered, queued and
popped): system calls, arena blocks, heap allocations, and instructions
(600 cycles minus 100, over 1,500 events).
Fails when a figure is more than 10% above bench/baselines.json, naming the
figure, the baseline and the new value; when a figure is not a finite number
(NaN and inf compare as no change); and when an enumeration did not return
every one of the fixture's processes (per-process figures over fewer
records, or none, would look like progress). A figure more than 10% below is
reported so the baseline can be lowered, in the same commit as the change
that earned it (--update rewrites the file; never automatic).
The live system's counts are printed as a report, not gated.

Usage: run.py BUILD_DIR [--update]
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINES = os.path.join(HERE, "..", "baselines.json")
TOLERANCE = 0.10
PROCESSES = 1000
VARIANTS = ("cold", "warm", "warm_all")


def counts(gate, root, mode="counts"):
    out = subprocess.run([gate, mode, root], check=True, capture_output=True, text=True).stdout
    return {name: float(value) for name, value in (line.split() for line in out.splitlines())}


def instructions(gate, root, variant, k):
    if not shutil.which("valgrind"):
        sys.exit("perf gate: valgrind is not installed (Debian: apt install valgrind)")
    r = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                        gate, "run", root, variant, str(k)], capture_output=True, text=True)
    m = re.search(r"I\s+refs:\s+([\d,]+)", r.stderr)
    if r.returncode != 0 or not m:
        sys.exit(f"perf gate: valgrind run of {variant} failed:\n{r.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build, update = sys.argv[1], "--update" in sys.argv[2:]
    gate = os.path.join(build, "bench", "perf_gate")
    work = tempfile.mkdtemp(prefix="procmon-gate-")
    try:
        root = os.path.join(work, "proc")
        subprocess.run([sys.executable, os.path.join(HERE, "make_fixture.py"), root, str(PROCESSES)], check=True,
                       capture_output=True)
        measured = counts(gate, root)
        enumerated = {k: v for k, v in measured.items() if k.endswith(".processes")}
        figures = {k: v for k, v in measured.items() if not k.endswith(".processes")}
        for v in VARIANTS:
            one, six = instructions(gate, root, v, 1), instructions(gate, root, v, 6)
            figures[f"{v}.instructions_per_process"] = round((six - one) / 5 / PROCESSES, 1)
        figures.update(counts(gate, root, "events"))
        few, many = instructions(gate, root, "events", 100), instructions(gate, root, "events", 600)
        figures["events.instructions_per_event"] = round((many - few) / (500 * 3), 1)
        live = counts(gate, "/proc")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    failed = [f"{name}: {n:g} records, not the fixture's {PROCESSES} processes"
              for name, n in sorted(enumerated.items()) if n != PROCESSES]
    if len(enumerated) != len(VARIANTS):
        failed.append(f"records counted for {sorted(enumerated)}, not for each of {list(VARIANTS)}")
    failed += [f"{name}: {now} is not a finite number" for name, now in sorted(figures.items())
               if not math.isfinite(now)]

    if update:
        if failed:
            print("perf gate: not updating the baselines:\n  " + "\n  ".join(failed))
            return 1
        with open(BASELINES, "w") as f:
            json.dump({"fixture_processes": PROCESSES, "tolerance": TOLERANCE, "figures": figures}, f, indent=2,
                      sort_keys=True)
            f.write("\n")
        print(f"perf gate: wrote {len(figures)} baselines to bench/baselines.json")
        return 0

    with open(BASELINES) as f:
        base = json.load(f)["figures"]
    print(f"{'figure':44} {'baseline':>11} {'now':>11} {'change':>8}")
    for name in sorted(set(base) | set(figures)):
        if name not in base:
            failed.append(f"{name}: no baseline (add it with run.py --update, in this commit)")
            continue
        if name not in figures:
            failed.append(f"{name}: has a baseline but was not measured")
            continue
        b, now = base[name], figures[name]
        if not math.isfinite(b):
            failed.append(f"{name}: the baseline {b} is not a finite number")
            continue
        if not math.isfinite(now):
            print(f"{name:44} {b:11g} {now:>11} {'':8} NOT A NUMBER")
            continue  # failed above
        change = (now - b) / b if b else (0.0 if now == 0 else float("inf"))
        verdict = ""
        if change > TOLERANCE:
            verdict = "REGRESSION"
            failed.append(f"{name}: {now:g} against a baseline of {b:g} (+{change:.0%}, more than {TOLERANCE:.0%})")
        elif change < -TOLERANCE:
            verdict = "better: lower the baseline"
        print(f"{name:44} {b:11g} {now:11g} {change:+8.1%} {verdict}")
    print(f"\nlive system ({int(live['warm.processes'])} processes), reported, not gated:")
    for name in sorted(live):
        if name.endswith("_per_process") and name.split(".")[0] in VARIANTS:
            print(f"  {name:42} {live[name]:g}")
    if failed:
        print("\nperf gate: FAILED\n  " + "\n  ".join(failed))
        return 1
    print(f"\nperf gate: {len(base)} figures within {TOLERANCE:.0%} of their baselines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
