#!/usr/bin/env bash
# On the same held processes, in one run: whole commands with hyperfine
# (procmon snapshot json-stream vs ps vs a psutil script), procmon's peak RSS,
# then in-process figures without start-up costs (psutil's loop timed inside
# Python; the reference reader, libproc2 and procmon from enumerate_bench),
# and last one table of every ratio (bench/ratio_table.py).
# Usage: bench/compare.sh [N_IDLE_PROCESSES] [PROCMON_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
procmon=${2:-build/release/cli/procmon}
[ -x "$procmon" ] || { echo "build first: cmake --preset release && cmake --build --preset release"; exit 1; }
for tool in hyperfine /usr/bin/python3 ps /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing $tool: scripts/install-deps.sh"; exit 1; }
done

# Hold N idle processes for the whole comparison.
coproc IDLE { /usr/bin/python3 bench/idle_procs.py "$n"; }
read -r _ <&"${IDLE[0]}"
trap 'exec {IDLE[1]}>&-; wait' EXIT
echo "processes on the machine: $(ls -d /proc/[0-9]* | wc -l)"

out=$(mktemp -d)
trap 'exec {IDLE[1]}>&-; wait; rm -rf "$out"' EXIT
hyperfine --warmup 3 --runs 20 -N --export-json "$out/whole.json" \
    -n procmon "$procmon snapshot --format json-stream" \
    -n ps "ps -eo pid,ppid,comm,state,time,rss,vsz,nlwp,uid,args" \
    -n psutil "/usr/bin/python3 bench/psutil_iter.py"

for fmt in json-stream table; do
    /usr/bin/time -f "procmon snapshot --format $fmt: peak RSS %M KiB" "$procmon" snapshot --format $fmt >/dev/null
done

/usr/bin/python3 bench/psutil_iter.py --time 15 | tee "$out/in-process.txt"
bench=$(dirname "$procmon")/../bench/enumerate_bench
if [ -x "$bench" ]; then
    "$bench" --procs 0 --rounds 15 | tee -a "$out/in-process.txt"
else
    echo "no $bench: the in-process rows are left out"
fi
/usr/bin/python3 bench/ratio_table.py "$out/whole.json" "$out/in-process.txt"
