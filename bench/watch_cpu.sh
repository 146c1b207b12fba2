#!/usr/bin/env bash
# CPU of `procmon watch` on an otherwise idle machine holding N idle
# processes: once with the proc connector, once polling every second.
# Usage: bench/watch_cpu.sh [SECONDS] [N_IDLE] [PROCMON_BINARY] [MODES]
#   MODES: "connector poll" (default), or either one
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60} n=${2:-1000}
procmon=${3:-build/release/cli/procmon}
modes=${4:-connector poll}
coproc IDLE { /usr/bin/python3 bench/idle_procs.py "$n"; }
read -r _ <&"${IDLE[0]}"
trap 'exec {IDLE[1]}>&-; wait' EXIT
echo "processes on the machine: $(ls -d /proc/[0-9]* | wc -l); watching for $secs s"
for mode in $modes; do
    extra=(); [ "$mode" = poll ] && extra=(--poll --interval 1000)
    /usr/bin/time -f "%U %S %e" -o /tmp/procmon-cpu.$$ "$procmon" watch --duration "$secs" --stats "${extra[@]}" \
        >/dev/null 2>/tmp/procmon-watch.$$
    read -r user sys wall < /tmp/procmon-cpu.$$
    awk -v m="$mode" -v u="$user" -v s="$sys" -v w="$wall" \
        'BEGIN { printf "watch (%s): %.2f s user + %.2f s system over %.1f s = %.3f%% of a core\n", m, u, s, w, 100 * (u + s) / w }'
    grep -E "collector CPU" /tmp/procmon-watch.$$ | sed 's/^/  /'
done
rm -f /tmp/procmon-cpu.$$ /tmp/procmon-watch.$$
