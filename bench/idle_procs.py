#!/usr/bin/python3
"""Holds N idle processes (cat on a pipe) until stdin closes, for the
hyperfine comparison. They die with us: their pipe closes. Prints 'ready'."""
import os
import subprocess
import sys

n = int(sys.argv[1])
r, w = os.pipe()
kids = [subprocess.Popen(["/bin/cat"], stdin=r, stdout=subprocess.DEVNULL) for _ in range(n)]
os.close(r)
print("ready", flush=True)
sys.stdin.read()
os.close(w)
for k in kids:
    k.wait()
