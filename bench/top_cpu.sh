#!/usr/bin/env bash
# CPU and memory of `procmon top` on a machine holding N idle processes:
# the full screen in a real terminal (tmux, 160x50), refreshing every
# second, as a user leaves it running. CPU is the process's utime + stime
# (/proc/PID/stat, all its threads: the event collector's included) over
# the run, after a warm-up; memory is its RSS sampled every STEP seconds,
# with the least-squares slope (KiB per minute) over the samples. Then
# procps top, the same way, as the reference, and bench/proc_stat_loop: a bare
# loop reading every /proc/PID/stat once a second, what any /proc-based top
# pays before parsing or drawing (REFERENCE=no skips both, for a long run
# that only looks at memory; SAMPLES=1 prints every RSS sample).
# Usage: bench/top_cpu.sh [SECONDS] [N_IDLE] [PROCMON_BINARY] [STEP]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60} n=${2:-1000}
procmon=$(readlink -f "${3:-build/release/cli/procmon}")
step=${4:-5}
hz=$(getconf CLK_TCK)
sock="top-bench-$$"
coproc IDLE { /usr/bin/python3 bench/idle_procs.py "$n"; }
read -r _ <&"${IDLE[0]}"
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"; exec {IDLE[1]}>&-; wait' EXIT
echo "processes on the machine: $(ls -d /proc/[0-9]* | wc -l); each for $secs s, refresh 1 s"
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }  # utime stime
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Runs $2... full screen in tmux for $secs s; prints its CPU as "NAME: ..." and
# leaves the percentage in $percent and the RSS samples in $samples.
measure() {
    local name=$1; shift
    tmux -L "$sock" -f /dev/null new-session -d -x 160 -y 50 "TERM=screen exec $*"
    local pid; pid=$(tmux -L "$sock" display-message -p '#{pane_pid}')
    sleep 3  # warm-up: the first enumerations fill the caches
    local t0 c0 t1 c1 t
    t0=$(date +%s.%N) c0=$(cpu_ticks "$pid")
    samples=()
    for ((t = 0; t <= secs; t += step)); do
        [ -e "/proc/$pid" ] || { echo "$name exited during the run" >&2; exit 1; }
        samples+=("$t $(rss_kib "$pid") $(ls -d /proc/[0-9]* 2>/dev/null | wc -l)")
        if [ -n "${SAMPLES:-}" ]; then  # as it goes, so a run cut short still tells
            set -- ${samples[-1]}
            echo "  t=$1 s: RSS $2 KiB, $3 processes"
        fi
        if ((t + step <= secs)); then sleep "$step"; fi
    done
    t1=$(date +%s.%N) c1=$(cpu_ticks "$pid")
    tmux -L "$sock" kill-server
    percent=$(awk -v c="$((c1 - c0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.3f", 100 * c / hz / (t1 - t0) }')
    awk -v n="$name" -v c="$((c1 - c0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v p="$percent" \
        'BEGIN { printf "%s: %.2f s CPU over %.1f s = %s%% of a core\n", n, c / hz, t1 - t0, p }'
}
measure "procmon top" "$procmon" top --interval 1
ours=$percent
printf '%s\n' "${samples[@]}" | awk '
    { x[NR] = $1 / 60; y[NR] = $2; sx += x[NR]; sy += y[NR]; lo = NR == 1 || $3 < lo ? $3 : lo; hi = $3 > hi ? $3 : hi }
    END {
        for (i = 1; i <= NR; i++) { sxx += (x[i] - sx / NR) ^ 2; sxy += (x[i] - sx / NR) * (y[i] - sy / NR) }
        printf "  RSS: %d KiB first, %d KiB last, %d samples; slope %.2f KiB/min; processes %d..%d\n", y[1], y[NR], NR, sxx ? sxy / sxx : 0, lo, hi
    }'
# the references in the same run (these machines are shared and noisy)
[ "${REFERENCE:-yes}" = no ] && exit 0
measure "procps top (reference)" top -d 1
awk -v a="$ours" -v b="$percent" 'BEGIN { if (b > 0) printf "ratio procmon top / procps top: %.2f\n", a / b }'
# the bare reads: every /proc/PID/stat read once a second, nothing else
loop=$(dirname "$procmon")/../bench/proc_stat_loop
if [ -x "$loop" ]; then
    "$loop" "$((secs < 30 ? secs : 30))" | tee /dev/stderr | awk -v a="$ours" '
        NR == 1 { match($0, /= [0-9.]+%/); f = substr($0, RSTART + 2, RLENGTH - 3)
                  if (f > 0) printf "ratio procmon top / the bare open-read-close loop: %.2f\n", a / f }'
else
    echo "(no $loop: build the bench targets for the bare-reads reference)"
fi
