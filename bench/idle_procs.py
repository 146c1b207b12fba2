#!/usr/bin/python3
"""N idle processes (cat on a pipe we hold) for the benchmarks. They end
with the pipe: closing it, or our exit, ends them, and close() reaps them.

As a script: holds N until stdin closes, printing 'ready' once they run
(bench/compare.sh, bench/watch_cpu.sh). Usage: idle_procs.py N
As a module: IdleProcesses (bench/python_bench.py, bench/plot.py)."""
import os
import subprocess
import sys


class IdleProcesses:
    """Idle children; grow(n) adds until n run, close() ends and reaps them."""

    def __init__(self, n=0):
        self._r, self._w = os.pipe()
        self.kids = []
        self.grow(n)

    def grow(self, n):
        while len(self.kids) < n:
            self.kids.append(subprocess.Popen(["/bin/cat"], stdin=self._r, stdout=subprocess.DEVNULL))

    def close(self):
        os.close(self._r)
        os.close(self._w)
        for k in self.kids:
            k.wait()


if __name__ == "__main__":
    idle = IdleProcesses(int(sys.argv[1]))
    print("ready", flush=True)
    sys.stdin.read()
    idle.close()
