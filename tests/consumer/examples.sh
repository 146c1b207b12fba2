#!/usr/bin/env bash
# The C examples (examples/), run briefly, their output checked.
#   list_processes: this script's line has its whole command line, not argv[0].
#   watch_events:   while it watches, this script runs /bin/true (ten times:
#                   a process that short is often gone before /proc can be
#                   read, and its EXEC then has no argv) and a shell that
#                   exits 3; their execs and exits are printed with the whole
#                   command line and the exit code. With a COUNT it stops
#                   after that many events.
#   journal:        records while a shell exits 5, then prints it back;
#                   one more shell has argv bytes that are not UTF-8.
# Without the netlink proc connector (not root before Linux 6.6) events come
# from polling: short processes are missed and exits have no status, so only
# the shell's exec and exit are checked then.
# Usage: examples.sh list_processes|watch_events|journal EXAMPLES_DIR
set -euo pipefail
# The examples print every process on the machine, argv bytes as they are:
# any process (another test's) may have bytes that are not UTF-8 in its
# command line. In a UTF-8 locale sed's and grep's '.' match no such byte,
# so 's/^seq ([0-9]+) .*/\1/' left the rest of that line in the list of
# sequence numbers ("gaps: ... 37<argv bytes>..."). Bytes, not characters:
export LC_ALL=C
what=$1 bin=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $what: $*"; echo "--- stdout"; cat "$work/out" 2>/dev/null; echo "--- stderr"; cat "$work/err" 2>/dev/null; exit 1; }

started() {  # waits until the example says on stderr that it watches or records
    local i
    for i in $(seq 200); do
        grep -Eq "$1" "$work/err" && return 0
        sleep 0.05
    done
    fail "it never said '$1'"
}
has() {  # an extended regex some line of the output matches
    grep -Eq -- "$1" "$work/out" || fail "no line matches: $1"
}

case $what in
list_processes)
    "$bin/list_processes" >"$work/out" 2>"$work/err" || fail "exited $?"
    has '^ *PID +RSS KiB +COMMAND$'
    # this script, as the kernel has its argv: the interpreter, the script, its arguments
    has "^ *$$ +[0-9]+  .*examples\.sh list_processes $bin\$"
    has '^ *1 '
    echo "list_processes: $(wc -l <"$work/out") lines, whole command lines"
    ;;
watch_events)
    "$bin/watch_events" 3 >"$work/out" 2>"$work/err" &
    watcher=$!
    started '^watch_events: watching'
    trues=()
    for i in $(seq 10); do /bin/true & trues+=($!); wait $!; done
    /bin/sh -c 'sleep 0.3; exit 3' & sh=$!
    wait "$sh" || true
    wait "$watcher" || fail "exited $?"
    has "^EXEC  pid $sh ppid $$ sh: /bin/sh -c sleep 0.3; exit 3\$"
    if grep -q polling "$work/err"; then
        has "^EXIT  pid $sh ppid $$ sh: /bin/sh -c sleep 0.3; exit 3; exit status unknown\$"
    else
        has "^EXIT  pid $sh ppid $$ sh: /bin/sh -c sleep 0.3; exit 3; exit code 3\$"
        has "^START pid $sh ppid $$ "
        # each /bin/true's exit, with its status; at least one exec read whole
        for t in "${trues[@]}"; do has "^EXIT  pid $t ppid $$ .*; exit code 0( \(partial\))?\$"; done
        has "^EXEC  pid ($(IFS='|'; echo "${trues[*]}")) ppid $$ true: /bin/true\$"
    fi
    grep -Eq '^watch_events: [0-9]+ events, [0-9]+ lost$' "$work/err" || fail "no summary on stderr"
    # a count stops it early: 3 events of this script's children, well before 30 s
    SECONDS=0
    "$bin/watch_events" 30 3 >"$work/out" 2>"$work/err" &
    watcher=$!
    started '^watch_events: watching'
    for i in $(seq 20); do
        kill -0 "$watcher" 2>/dev/null || break
        /bin/sleep 0.1
    done
    wait "$watcher" || fail "with a count: exited $?"
    [ "$SECONDS" -lt 20 ] || fail "with a count of 3 it ran $SECONDS s"
    grep -q '^watch_events: 3 events, ' "$work/err" || fail "with a count of 3"
    [ "$(grep -cv '^LOST' "$work/out")" -eq 3 ] || fail "a count of 3 printed other than 3 events"
    echo "watch_events: exec and exit of /bin/true and /bin/sh with exit codes; a count stops it"
    ;;
journal)
    "$bin/journal" "$work/journal" 1.5 >"$work/out" 2>"$work/err" &
    recorder=$!
    started '^journal: recording to '
    # a command line that is not UTF-8, as any process on the machine may have
    /bin/sh -c 'sleep 0.1' sh "$(printf 'odd \377\376')" & odd=$!
    /bin/sh -c 'sleep 0.3; exit 5' & sh=$!
    wait "$odd" "$sh" || true
    wait "$recorder" || fail "exited $?"
    ls "$work/journal"/*.pmj >/dev/null 2>&1 || fail "no segment in $work/journal"
    has "^seq [0-9]+ [0-9:]{8}\.[0-9]{3} EXEC  pid $sh ppid $$ sh: /bin/sh -c sleep 0.3; exit 5\$"
    if grep -q polling "$work/err"; then
        has "^seq [0-9]+ [0-9:.]{12} EXIT  pid $sh ppid $$ sh: /bin/sh -c sleep 0.3; exit 5; exit status unknown\$"
    else
        has "^seq [0-9]+ [0-9:.]{12} EXIT  pid $sh ppid $$ sh: /bin/sh -c sleep 0.3; exit 5; exit code 5\$"
        has "^seq [0-9]+ [0-9:.]{12} EXEC  pid $odd ppid $$ sh: /bin/sh -c sleep 0.1 sh odd $(printf '\377\376')\$"
    fi
    read=$(sed -nE 's/^read ([0-9]+) records.*/\1/p' "$work/out")
    [ -n "$read" ] || fail "no count of the records read"
    [ "$(grep -c '^seq ' "$work/out")" -eq "$read" ] || fail "read $read records, printed another number"
    # one sequence number after the other, no gaps
    seqs=$(sed -nE 's/^seq ([0-9]+) .*/\1/p' "$work/out" | tr '\n' ' ')
    first=${seqs%% *}
    [ "$seqs" = "$(seq -s ' ' "$first" $((first + read - 1))) " ] || fail "sequence numbers with gaps: $seqs"
    echo "journal: $read records written and read back"
    ;;
*)
    echo "usage: examples.sh list_processes|watch_events|journal EXAMPLES_DIR" >&2
    exit 2
    ;;
esac
