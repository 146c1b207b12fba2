#!/usr/bin/env bash
# `procmon top` in a real terminal: tmux runs it, the test types keys with
# send-keys and reads the screen with capture-pane. It checks what a user
# relies on: a process shows with its command line, M puts the biggest first,
# the tree puts a child under its parent, a 50 ms process shows in the events
# pane with its exit code, k + y signals the chosen process and no other,
# a resize keeps header, table and events pane, and q, Ctrl-C, SIGTERM and a
# crash give the terminal back. Then --batch 2 as text, TERM=dumb, and
# --connect through a real procmond, as root and as nobody.
# Every wait polls the screen up to a deadline: loaded CI machines are slow.
# Usage: top_test.sh PROCMON PROCMOND
set -uo pipefail
procmon=$(readlink -f "$1")
procmond=$(readlink -f "$2")
passed=0 failed=0
ok()   { passed=$((passed + 1)); }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
# Until a command succeeds, for at most $1 seconds: 1 if it never did.
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do ((SECONDS < end)) || return 1; sleep 0.05; done; }
unset PROCMON_ENDPOINT NO_COLOR

tmp=$(mktemp -d)
sock="pmtop-test-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
pids=()
cleanup() {
    tm kill-server 2>/dev/null
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"  # a killed server may leave it
    # children first: once their parent is gone they belong to init
    for p in "${pids[@]}"; do pkill -9 -P "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Marks every process of this run, so the filter shows only ours and two
# runs at once (or a busy machine) cannot confuse the checks.
mark="pmtop$$x"
spawn() { "$@" & pids+=($!); }
spawn perl -e 'sleep 1000' "$mark-small"
spawn perl -e '$x = "a" x (200 << 20); sleep 1000' "$mark-big"   # 200 MB, written: resident
spawn sh -c 'perl -e "sleep 1000" "$0-child" & wait' "$mark-parent"
parent=${pids[-1]}
spawn perl -e 'sleep 1000' "$mark-twin"; twin1=$!
spawn perl -e 'sleep 1000' "$mark-twin"; twin2=$!
# sorted by pid, the smaller comes first (pids may have wrapped between the two)
((twin1 < twin2)) || { t=$twin1; twin1=$twin2; twin2=$t; }

# A shell in a 160x50 terminal, with a prompt to look for once top is gone.
cat > "$tmp/rc" <<'EOF'
PS1='pmtop-prompt$ '
ulimit -c 0
EOF
tm new-session -d -s t -x 160 -y 50 "env -i PATH=$PATH HOME=$tmp TERM=screen LANG=C.UTF-8 bash --noprofile --rcfile $tmp/rc -i"
screen() { tm capture-pane -p -t t; }
has() { [[ "$(screen)" == *"$1"* ]]; }
matches() { [[ "$(screen)" =~ $1 ]]; }
keys() { tm send-keys -t t "$@"; }
alternate_off() { [ "$(tm display-message -p -t t '#{alternate_on}')" = 0 ]; }
# top's header (the typed command line has "procmon top -" too).
top_shown() { matches "procmon top - [0-9][0-9]:"; }
# The shell's prompt is the last line written and top's header is gone.
prompt_last() { [[ "$(screen | grep -v '^$' | tail -1)" == *"pmtop-prompt\$" ]]; }  # after "^C" maybe
prompt_back() { alternate_off && prompt_last && ! top_shown; }
# The first table row (the line after the column header).
first_row() { screen | awk '/^ *PID USER/ { getline; print; exit }'; }
first_row_has() { [[ "$(first_row)" == *"$1"* ]]; }
# Line $1 of the screen is directly followed by a line matching $2 (tree).
followed_by() { screen | awk -v a="$1" -v b="$2" 'found { exit !($0 ~ b) } index($0, a) { found = 1 } END { if (!found) exit 1 }'; }
top_pid() { pgrep -P "$(tm display-message -p -t t '#{pane_pid}')" -x procmon; }

wait_for 10 has 'pmtop-prompt$' || bad "the shell in tmux did not start"
keys "$procmon top --interval 0.3 --sort pid" Enter
check "the full screen comes up" wait_for 15 top_shown
check "it is on the alternate screen" test "$(tm display-message -p -t t '#{alternate_on}')" = 1

# --- a process the test started, with its command line; / filters
keys / ; wait_for 5 has "Filter (" || bad "/ opens the filter prompt"
keys "$mark" Enter
check "the test's process appears with its command line" wait_for 15 has "perl -e sleep 1000 $mark-small"
check "the header names the filter" has "Filter: $mark"
check "rows not matching the filter are gone" bash -c '! grep -q "\[kthreadd\]" <<<"$1"' _ "$(screen)"

# --- M sorts by memory: the 200 MB process first
keys M
check "M puts the big process first" wait_for 15 first_row_has "$mark-big"
check "the header says the sort" has "Sort: %MEM (descending)"

# --- t: the child under its parent
keys t
check "tree view: the child right under its parent" wait_for 15 followed_by "$mark-parent" "\\\\_ perl -e sleep 1000 $mark-parent-child"
keys t

# --- a 50 ms process in the events pane with its exit code and lifetime
check "the events pane is there" has "Events: starts, execs and exits"
spawn sh -c 'sleep 0.05; exit 7' "$mark-short"
check "a 50 ms process shows in the events pane with exit code 7" \
    wait_for 15 matches "exit +[0-9]+ [^ ]+ +exit 7 after [0-9]+ ms +sh -c sleep 0.05; exit 7 $mark-short"

# --- k + y sends SIGTERM to the chosen process only
keys / ; keys "$mark-twin" Enter; keys N Home
wait_for 15 first_row_has "$twin1" || bad "the first twin is not the first row: $(first_row)"
keys k
check "k asks which signal, naming pid and command" wait_for 5 has "Signal for $twin1 (perl -e sleep 1000 $mark-twin) [TERM]"
keys Enter
check "and asks to confirm" wait_for 5 has "Send SIGTERM to $twin1 (perl -e sleep 1000 $mark-twin)? (y/n)"
keys y
check "the status line says it was sent" wait_for 5 has "Sent SIGTERM to $twin1"
state() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1; }
# bash reaps its children as they die: gone, or a zombie for a moment
ended() { ! kill -0 "$1" 2>/dev/null || [ "$(state "$1")" = Z ]; }
check "the chosen process got it" wait_for 10 ended "$twin1"
# wait only on an ended one: on a live one it would block
if ended "$twin1"; then wait "$twin1"; rc=$?; else rc=none; fi
check "it died of SIGTERM (status $rc)" test "$rc" = 143
check "the identical other process is still running" test "$(state "$twin2")" = S

# --- resize: header, table and events pane stay, lines fit
for size in "100 30" "70 16"; do
    set -- $size
    tm resize-window -t t -x "$1" -y "$2"
    fits() { [ "$(screen | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')" -le "$1" ]; }
    laid_out() { fits "$1" && top_shown && matches "PID USER" && has "Events:" && has "h help"; }
    check "after a resize to $1x$2 header, table, events pane and help line are all there" wait_for 10 laid_out "$1"
    check "and the twin's row is still shown at $1x$2" has "$twin2 "
done
tm resize-window -t t -x 160 -y 50

# --- q gives the terminal back
keys q
check "q leaves the alternate screen and the prompt is back" wait_for 10 prompt_back

# --- Ctrl-C, SIGTERM and a crash signal give it back too
keys "$procmon top --interval 0.3" Enter; wait_for 15 top_shown || bad "top did not start again"
keys C-c
check "Ctrl-C restores the terminal" wait_for 10 prompt_back
keys "NO_COLOR=1 $procmon top --interval 0.3" Enter; wait_for 15 top_shown || bad "top did not start again"
check "NO_COLOR: no colour on the screen" bash -c '! grep -qP "\e\[(3|4)[0-7]m" <<<"$1"' _ "$(tm capture-pane -e -p -t t)"
kill -TERM "$(top_pid)"
check "SIGTERM restores the terminal" wait_for 10 prompt_back
keys "$procmon top --interval 0.3" Enter; wait_for 15 top_shown || bad "top did not start again"
check "with colours otherwise" bash -c 'grep -qP "\e\[(3|4)[0-7]m" <<<"$1"' _ "$(tm capture-pane -e -p -t t)"
kill -SEGV "$(top_pid)"
check "a crash (SIGSEGV) restores the terminal" wait_for 10 prompt_back
check "and the crash is still reported as one" has "Segmentation fault"

# --- TERM=dumb: text refreshes instead of a screen it cannot draw
keys "TERM=dumb $procmon top --interval 0.3 --filter $mark-small" Enter
check "TERM=dumb says why it prints text" wait_for 15 has "cannot move the cursor; printing refreshes as text"
check "and prints the table" wait_for 15 has "perl -e sleep 1000 $mark-small"
keys C-c
check "which Ctrl-C ends (the text stays, as any command's)" wait_for 10 prompt_last

# --- --batch 2: two refreshes as text, with the events of each interval
"$procmon" top --batch 2 --interval 1 --filter "$mark" > "$tmp/batch" 2> "$tmp/batch.err" &
batch=$!
# short processes all along, so some start and end inside an interval whatever the machine's load
# (50 ms each, so the collector reads their command line before they are gone, also on a loaded machine)
while kill -0 "$batch" 2>/dev/null; do sh -c 'sleep 0.05; exit 3' "$mark-burst"; sleep 0.05; done
wait "$batch"; rc=$?
check "--batch 2 exits 0 (got $rc: $(cat "$tmp/batch.err"))" test "$rc" -eq 0
check "--batch 2 prints two refreshes" test "$(grep -c '^procmon top - ' "$tmp/batch")" -eq 2
check "each with the column header" test "$(grep -Ec '^ +PID USER +S +%CPU +%MEM +RSS +VIRT +THR +TIME COMMAND$' "$tmp/batch")" -eq 2
check "and the test's process" grep -q "perl -e sleep 1000 $mark-small" "$tmp/batch"
check "and only matching rows" bash -c '! grep -q "\[kthreadd\]" "$1"' _ "$tmp/batch"
check "short processes are listed with their exit code" grep -Eq "exit 3 after [0-9]+ ms +sh -c sleep 0.05; exit 3 $mark-burst" "$tmp/batch"
# (the second refresh's header: the first also counts those ended before the first enumeration)
counted=$(awk '/^procmon top - / { refresh++ } refresh == 2 && /processes? started and ended since the last refresh/ { n += $1 }
               END { print n + 0 }' "$tmp/batch")
check "the header counts processes that started and ended between refreshes (got $counted)" test "$counted" -ge 1
# %CPU is each process's CPU time over the interval: summed, never more
# than the CPUs (the library's own figure for a newborn is since its start,
# which summed to 105% of 2 CPUs during bursts like the one above).
check "the CPU line stays within the machine's CPUs" awk '/% of [0-9]+ CPUs/ { v = $0; sub(/.*\(/, "", v); sub(/%.*/, "", v); if (v + 0 > 100.5) bad = 1 } END { exit bad }' "$tmp/batch"
check "--batch is plain text: no escape codes" bash -c '! grep -q $'"'"'\e'"'"' "$1"' _ "$tmp/batch"
"$procmon" top --once --sort nope >/dev/null 2>&1; rc=$?
check "an unknown sort column exits 2 (got $rc)" test "$rc" -eq 2
"$procmon" top --once --sort -res --filter "pid:$$" > "$tmp/once"
check "--once prints one refresh; ps/top names sort (res)" test "$(grep -c '^procmon top - ' "$tmp/once")" -eq 1
check "--sort -res says so" grep -q "Sort: RSS (descending)" "$tmp/once"

# --- --connect: through a real procmond (a plain process here), as root
# and as nobody, who sees what the daemon's see_others allows: here names
# and numbers of others' processes, not their command lines.
mkdir -m 755 "$tmp/d"
chmod 755 "$tmp"
cat > "$tmp/d/procmond.toml" <<EOF
[socket]
path = "$tmp/d/procmond.sock"
[journal]
dir = "$tmp/d/journal"
[default]
see_others = ["basic", "cpu", "memory", "sched"]
EOF
"$procmond" --config "$tmp/d/procmond.toml" 2> "$tmp/d/log" & pids+=($!)
if wait_for 30 test -S "$tmp/d/procmond.sock"; then ok; else bad "procmond starts: $(cat "$tmp/d/log")"; fi
"$procmon" top --batch 2 --interval 1 --connect "$tmp/d/procmond.sock" --filter "$mark" > "$tmp/remote" 2> "$tmp/remote.err" &
remote=$!
while kill -0 "$remote" 2>/dev/null; do sh -c 'sleep 0.05; exit 5' "$mark-remote"; sleep 0.05; done
wait "$remote"; rc=$?
check "--connect exits 0 (got $rc: $(cat "$tmp/remote.err"))" test "$rc" -eq 0
check "--connect shows the test's process with its command line" grep -q "perl -e sleep 1000 $mark-small" "$tmp/remote"
check "--connect has the daemon's events, with exit codes" grep -Eq "exit 5 after [0-9]+ ms +sh -c sleep 0.05; exit 5 $mark-remote" "$tmp/remote"
if [ "$(id -u)" -eq 0 ]; then
    # nobody may not reach the build tree (a checkout under /root): a copy
    # of the command and its library, in a directory anyone may read
    mkdir -m 755 "$tmp/bin"
    cp "$procmon" "$tmp/bin/procmon"
    cp -L "$(ldd "$procmon" | awk '$1 ~ /^libprocmon\.so/ { print $3 }')" "$tmp/bin/"
    chmod -R a+rX "$tmp/bin"
    setpriv --reuid=65534 --regid=65534 --clear-groups env LD_LIBRARY_PATH="$tmp/bin" "$tmp/bin/procmon" \
        top --once --connect "$tmp/d/procmond.sock" --filter perl > "$tmp/nobody" 2> "$tmp/nobody.err"; rc=$?
    check "--connect as nobody exits 0 (got $rc: $(cat "$tmp/nobody.err"))" test "$rc" -eq 0
    # (small, big, the parent's child and the twin the k test spared; as [perl]: no command line)
    check "nobody sees root's perl processes (got $(grep -c ' \[perl\]$' "$tmp/nobody"))" test "$(grep -c ' \[perl\]$' "$tmp/nobody")" -ge 4
    check "but not their command lines (see_others has no argv)" bash -c '! grep -q "$1" "$2"' _ "$mark" "$tmp/nobody"
else
    echo "note: not root, so the part as nobody (setpriv) was not run"
fi

echo "top: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
