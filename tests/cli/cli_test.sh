#!/usr/bin/env bash
# The procmon command, end to end: usage errors, every format, valid JSON for
# hostile names and non-UTF-8 argv (checked with jq), filters and sorting,
# exit statuses, and what a new user tried on the first day (issue 15).
# Usage: cli_test.sh PROCMON FIXTURES_DIR
set -uo pipefail
procmon=$1 fixtures=$2
passed=0 failed=0
ok()   { passed=$((passed + 1)); }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
# Until a command succeeds, for at most $1 seconds (a loaded machine under a
# sanitizer is slow; the wait ends as soon as it holds): 1 if it never did.
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do ((SECONDS < end)) || return 1; sleep 0.05; done; }
# Whether the recorder $1 holds the flock on journal $2's LOCK: its LOCK file
# is created before it is locked, so the file alone says nothing yet.
recording() { local ino; ino=$(stat -c %i "$2/LOCK" 2>/dev/null) &&
    awk -v p="$1" -v i="$ino" '$2 == "FLOCK" && $5 == p && $6 ~ (":" i "$") { f = 1 } END { exit !f }' /proc/locks; }
# Whether the JSON of watch in file $2 has an event of pid $1, of type $3 if given
# (the formats differ only in spaces and newlines). No "| grep -q": under
# pipefail the writer that grep's early exit cuts off fails the pipeline.
has_event() { [[ "$(tr -d ' \n' <"$2")" == *"${3:+\"type\":\"$3\",}\"pid\":$1,"* ]]; }
# The daemon's side is tested at the end, on purpose: nothing before it may
# reach a procmond that the environment running the tests happens to name.
unset PROCMON_ENDPOINT

# --- usage
check "--help exits 0" bash -c "'$procmon' snapshot --help | grep -q 'usage: procmon snapshot'"
check "no command exits 2" bash -c "'$procmon' >/dev/null 2>&1; [ \$? -eq 2 ]"
for args in "snapshot --bogus" "snapshot --format xml" "snapshot --pid" "snapshot --pid 0" "snapshot --pid x1" \
            "snapshot --user no-such-user-here" "snapshot --fields pid,nope" "snapshot --sort nope" "frobnicate" \
            "snapshot --name [unclosed"; do
    err=$("$procmon" $args 2>&1 >/dev/null); rc=$?
    check "'$args' exits 2 (got $rc)" test "$rc" -eq 2
    check "'$args' says one line" test "$(printf '%s\n' "$err" | wc -l)" -eq 1
done
check "--version" bash -c "'$procmon' --version | grep -q '^procmon [0-9]'"

# --- formats over the fixture tree: exact, hostile bytes included
root="$fixtures/basic"
for fmt in json-stream json-array json-pretty; do
    out=$("$procmon" snapshot --proc-root "$root" --format "$fmt" --fields all)
    check "$fmt is valid JSON" bash -c "printf '%s' \"\$1\" | jq -s . >/dev/null" _ "$out"
    n=$(printf '%s' "$out" | jq -s 'if .[0]|type=="array" then .[0]|length else length end')
    check "$fmt has 10 processes (got $n)" test "$n" = 10
done
stream=$("$procmon" snapshot --proc-root "$root" --format json-stream --fields all)
name42=$(printf '%s\n' "$stream" | jq -r 'select(.pid==42) | .name')
check "hostile name a) (b" test "$name42" = "a) (b"
name44=$(printf '%s\n' "$stream" | jq -r 'select(.pid==44) | .name')
check "newline in a name survives JSON" test "$name44" = $'new\nline'
raw=$(printf '%s\n' "$stream" | jq -r 'select(.pid==300) | .argv_base64[2]' | base64 -d | od -An -tx1 | tr -d ' \n')
check "non-UTF-8 argv bytes are exact in argv_base64 (got $raw)" test "$raw" = "78fffe"
argc=$(printf '%s\n' "$stream" | jq 'select(.pid==300) | .argv | length')
check "empty arguments are kept (argc $argc)" test "$argc" = 4
replacement=$(printf '%s\n' "$stream" | jq -r 'select(.pid==300) | .argv[2]')
check "invalid bytes become U+FFFD in argv" test "$replacement" = $'x\uFFFD\uFFFD'
check "container id in JSON" bash -c "printf '%s\n' \"\$1\" | jq -e -s 'map(select(.pid==200))[0].container_id | length == 64' >/dev/null" _ "$stream"
check "zombie argv is null" bash -c "printf '%s\n' \"\$1\" | jq -e -s 'map(select(.pid==100))[0] | .argv == null and .zombie' >/dev/null" _ "$stream"

table=$("$procmon" snapshot --proc-root "$root")
check "table has a header and 10 rows" test "$(printf '%s\n' "$table" | wc -l)" -eq 11
check "table header" bash -c "printf '%s\n' \"\$1\" | head -1 | grep -Eq '^ *PID +PPID +USER +S +%CPU +%MEM +RSS +VSZ +TIME +NLWP +COMMAND$'" _ "$table"
check "table shows a control byte as ?" bash -c "printf '%s\n' \"\$1\" | grep -q 'nl'" _ "$table"
check "table has no raw newline from a name" test "$(printf '%s\n' "$table" | grep -c '^line')" -eq 0

# a valid character followed by a stray continuation byte: the character, then one ?
tmp=$(mktemp -d)
cp -a "$root" "$tmp/"
printf 'prog\0\xc3\xa9\x80\0' > "$tmp/basic/300/cmdline"
line=$("$procmon" snapshot --proc-root "$tmp/basic" --pid 300 --fields pid,argv | tail -1)
check "table keeps valid UTF-8 and marks only the stray byte (got '$line')" test "$line" = "300 prog é?"
rm -rf "$tmp"

summary=$("$procmon" snapshot --proc-root "$root" --format summary)
check "summary counts" bash -c "printf '%s\n' \"\$1\" | grep -q '^processes: 10 (kernel threads 1, zombies 1)'" _ "$summary"
check "summary by state" bash -c "printf '%s\n' \"\$1\" | grep -q '^by state:  S 8  T 1  Z 1$'" _ "$summary"

# --- filters and sorting
pids=$("$procmon" snapshot --proc-root "$root" --format json-stream --fields pid --pid 42 300,1 99999 | jq -s -c 'map(.pid)')
check "--pid list (got $pids)" test "$pids" = "[1,42,300]"
pids=$("$procmon" snapshot --proc-root "$root" --format json-stream --fields pid --name 'nginx' | jq -s -c 'map(.pid)')
check "--name (got $pids)" test "$pids" = "[200,301]"
pids=$("$procmon" snapshot --proc-root "$root" --format json-stream --fields pid --user 1000 | jq -s -c 'map(.pid)')
check "--user uid (got $pids)" test "$pids" = "[42]"
pids=$("$procmon" snapshot --proc-root "$root" --format json-stream --fields pid --user root --name 'a*' | jq -s -c 'map(.pid)')
check "--user name and --name together (got $pids)" test "$pids" = "[]"
first=$("$procmon" snapshot --proc-root "$root" --format json-stream --fields pid,name --sort -pid | head -1 | jq .pid)
check "--sort -pid" test "$first" = 301
first=$("$procmon" snapshot --proc-root "$root" --format json-stream --fields pid,name --sort name | head -1 | jq -r .name)
check "--sort name (got $first)" test "$first" = "a) (b"
keys=$("$procmon" snapshot --proc-root "$root" --format json-stream --fields pid,rss | head -1 | jq -c 'keys')
check "--fields limits the keys (got $keys)" test "$keys" = '["pid","rss_bytes"]'

# --- the live machine
# In a file, not an argument: with every field a busy machine's JSON passes
# the kernel's 128 KiB limit on one argument ("Argument list too long").
live=$(mktemp)
"$procmon" snapshot --format json-stream --fields all >"$live"
check "live snapshot is valid JSON" bash -c 'jq -s . "$1" >/dev/null' _ "$live"
check "live snapshot lists itself" bash -c 'jq -e -s "map(select(.name==\"procmon\")) | length >= 1" "$1" >/dev/null' _ "$live"
rm -f "$live"

# --- a reader that goes away: far more output than a pipe holds (64 KiB), so
# procmon is still writing when head exits. 2,000 synthetic processes.
many=$(mktemp -d)
cp "$root/stat" "$root/uptime" "$many/"
for pid in $(seq 1000 2999); do
    mkdir "$many/$pid"
    sed "s/^301 /$pid /" "$root/301/stat" > "$many/$pid/stat"
    cp "$root/301/status" "$root/301/cmdline" "$many/$pid/"
done
for fmt in table json-stream json-array json-pretty; do
    bytes=$("$procmon" snapshot --proc-root "$many" --format "$fmt" --fields all | wc -c)
    "$procmon" snapshot --proc-root "$many" --format "$fmt" --fields all 2>/tmp/procmon-pipe-err.$$ | head -1 >/dev/null
    rc=${PIPESTATUS[0]}
    check "snapshot $fmt into a closed pipe exits 0 (got $rc, $bytes bytes of output)" test "$rc" -eq 0 -a "$bytes" -gt 131072
    check "snapshot $fmt into a closed pipe says nothing" test ! -s /tmp/procmon-pipe-err.$$
done
rm -rf "$many" /tmp/procmon-pipe-err.$$

# --- watch
check "watch --help exits 0" bash -c "'$procmon' watch --help | grep -q 'usage: procmon watch'"
for args in "watch --bogus" "watch --duration x" "watch --events start,nope" "watch --format summary" \
            "watch --descendants-of 0" "watch --interval 1" "watch --poll=1" "watch --name [unclosed"; do
    err=$("$procmon" $args 2>&1 >/dev/null); rc=$?
    check "'$args' exits 2 (got $rc)" test "$rc" -eq 2
    check "'$args' says one line" test "$(printf '%s\n' "$err" | wc -l)" -eq 1
done
watch_json() {  # format, extra args...: a child (pid in $kid) exits 3 while watching our descendants
    # No guessed delays, none of which holds on a loaded machine: the child
    # starts once watch says it is watching (-v); it lives until watch has
    # shown it (with --poll a process must outlive a pass over /proc, with
    # --cmdline until its command line was read), and watch is stopped
    # (SIGTERM, as Ctrl-C) once it has shown its exit. With a fixed
    # --duration and a 0.2 s child, a collector lagging behind a burst of
    # other processes (a parallel test's) read the child only after it was
    # gone: its events came without a name (partial), or after the end.
    local fmt=$1; shift
    local out=/tmp/procmon-watch-out.$$ err=/tmp/procmon-watch-err.$$ go=/tmp/procmon-watch-go.$$
    : >"$err"
    : >"$out"
    rm -f "$go"
    mkfifo "$go"
    "$procmon" watch -v --duration 120 --format "$fmt" --descendants-of $$ "$@" >"$out" 2>"$err" &
    local watcher=$!
    wait_for 60 grep -Eq '^procmon: (watching through|.*polling every)' "$err" || echo "procmon: test: watch never said it was watching" >>"$err"
    sh -c 'read -r go <"$1"; exit 3' sh "$go" &
    kid=$!
    wait_for 60 has_event "$kid" "$out" || echo "procmon: test: watch never showed the child" >>"$err"
    echo go >"$go"
    wait "$kid"
    wait_for 60 has_event "$kid" "$out" exit || echo "procmon: test: watch never showed the child's exit" >>"$err"
    kill -TERM "$watcher"
    wait "$watcher"
    cat "$out"
    rm -f "$out" "$go"
}
for fmt in json-stream json-array json-pretty; do
    watch_json "$fmt" >/tmp/procmon-watch-json.$$
    out=$(cat /tmp/procmon-watch-json.$$)
    # From the file: the waits' own processes are our descendants too, so
    # the output may pass the kernel's 128 KiB limit on one argument.
    check "watch $fmt is valid JSON" bash -c 'jq -s . "$1" >/dev/null' _ /tmp/procmon-watch-json.$$
    code=$(printf '%s' "$out" | jq -s "[if .[0]|type==\"array\" then .[0][] else .[] end] | map(select(.type==\"exit\" and .pid==$kid)) | .[0].exit_code")
    check "watch $fmt reports exit code 3 (got $code)" test "$code" = 3
done
check "watch ends with a statistics line" grep -Eq '^procmon: processed [0-9]+, filtered [0-9]+, output [0-9]+, dropped 0, lost 0, rate' /tmp/procmon-watch-err.$$
# watch into a closed pipe: a child exits while head has already gone
( sleep 0.3; sh -c 'exit 0' ) & kid=$!
"$procmon" watch --duration 1.5 --descendants-of $$ --format json-stream 2>/dev/null | true
rc=${PIPESTATUS[0]}
wait "$kid"
check "watch into a closed pipe exits 0 (got $rc)" test "$rc" -eq 0
watch_json json-stream --poll --interval 100 >/tmp/procmon-watch-json.$$
out=$(cat /tmp/procmon-watch-json.$$)
check "watch --poll says it polls and how often" grep -q 'polling every 100 ms' /tmp/procmon-watch-err.$$
check "watch --poll still sees the exit" bash -c "jq -e -s 'map(select(.type==\"exit\" and .pid==$kid)) | length == 1' \"\$1\" >/dev/null" _ /tmp/procmon-watch-json.$$
rm -f /tmp/procmon-watch-err.$$ /tmp/procmon-watch-json.$$

# --- record and replay
jdir=$(mktemp -d)/journal
rerr=$(mktemp)
# Not a guessed --duration either: the recorder is stopped (SIGTERM) once
# the journal holds the child's exit, however late a loaded machine got to it.
"$procmon" record "$jdir" --duration 120 --descendants-of $$ --segment-size 64K 2>"$rerr" &
recorder=$!
wait_for 60 recording "$recorder" "$jdir" || echo "cli_test: the recorder never held its lock"
sh -c 'sleep 0.2; exit 5' &
kid=$!
wait "$kid"
locked=$("$procmon" record "$jdir" --duration 1 2>&1); rc=$?
check "a second recorder is refused (rc $rc)" test "$rc" -eq 3
check "and says the directory is locked ($locked)" bash -c "printf '%s' \"\$1\" | grep -q 'locked by another writer'" _ "$locked"
journal_has() { [[ "$("$procmon" replay "$1" --format json-stream 2>"$rerr.replay" | tr -d ' ')" == *"$2"* ]]; }
wait_for 60 journal_has "$jdir" "\"type\":\"exit\",\"pid\":$kid," ||
    { echo "cli_test: the journal never held the child's exit (pid $kid); replay said:"; cat "$rerr.replay"; "$procmon" replay "$jdir" --format json-stream 2>&1 | tail -5; }
kill -TERM "$recorder"
wait "$recorder"; rc=$?
check "record exits 0 (got $rc)" test "$rc" -eq 0
check "record ends with what it recorded" grep -Eq '^procmon: recorded [0-9]+ events to .* lost 0' "$rerr"
recorded=$(sed -nE 's/^procmon: recorded ([0-9]+) events.*/\1/p' "$rerr")
"$procmon" replay "$jdir" --format json-stream >"$rerr.out" 2>"$rerr"
out=$(cat "$rerr.out")
check "replay json-stream is valid JSON" bash -c 'jq -s . "$1" >/dev/null' _ "$rerr.out"
code=$(printf '%s\n' "$out" | jq -s "map(select(.type==\"exit\" and .pid==$kid)) | .[0].exit_code")
check "replay has the recorded exit code 5 (got $code)" test "$code" = 5
seqs=$(printf '%s\n' "$out" | jq -c -s 'map(.seq)')
check "replay numbers from 1 without gaps ($seqs)" bash -c "printf '%s' "\$1" | jq -e '. == [range(1; length + 1)]' >/dev/null" _ "$seqs"
check "replay ends with a count" grep -Eq '^procmon: replayed [0-9]+ records$' "$rerr"
n=$(printf '%s\n' "$out" | wc -l)
check "record's count is what replay finds ($recorded, $n)" test "$recorded" = "$n"
since=$("$procmon" replay "$jdir" --since 2 --format json-stream 2>/dev/null | wc -l)
check "replay --since 2 skips one ($since of $n)" test "$since" -eq $((n - 1))
until=$("$procmon" replay "$jdir" --until 2 --format json-stream 2>/dev/null | wc -l)
check "replay --until 2 stops there (got $until)" test "$until" -eq 2
later=$("$procmon" replay "$jdir" --since 2099-01-01T00:00:00Z --format json-stream 2>/dev/null | wc -l)
check "replay --since a later time has nothing (got $later)" test "$later" -eq 0
check "replay table has a header" bash -c "'$procmon' replay '$jdir' 2>/dev/null | head -1 | grep -q '^TIME *EVENT'"
# a flipped byte in a record: skipped, counted, and the gap shown. Flipped,
# not overwritten with 0xff: the byte (the first record's payload) is 0xff
# in some runs, and writing the same byte back damaged nothing.
seg=$(ls "$jdir"/*.pmj | head -1)
byte=$(od -An -tu1 -j 90 -N 1 "$seg" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 0xff)))" | dd of="$seg" bs=1 seek=90 conv=notrunc status=none
out=$("$procmon" replay "$jdir" --format json-stream 2>"$rerr")
check "a damaged record is skipped and said" grep -Eq 'skipped 1 corrupt runs .* first in segment 1 at byte 64' "$rerr"
check "its sequence number comes back as lost" bash -c "printf '%s\n' \"\$1\" | jq -e -s '.[0].type == \"lost\" and .[0].lost == 1' >/dev/null" _ "$out"
err=$("$procmon" replay /nonexistent/journal 2>&1); rc=$?
check "replay of a missing directory fails (rc $rc: $err)" test "$rc" -eq 3
for args in "record" "replay" "record $jdir --fsync sometimes" "record $jdir --max-size 10X" "replay $jdir --since yesterday"; do
    "$procmon" $args >/dev/null 2>&1; rc=$?
    check "'$args' exits 2 (got $rc)" test "$rc" -eq 2
done
rm -rf "$(dirname "$jdir")" "$rerr" "$rerr.out" "$rerr.replay"

# --- what a new user tried on the first day (issue 15)
day=$(mktemp -d)
cp -a "$root" "$day/"
droot=$day/basic
# a program whose name the kernel cut at 15 bytes: comm a_very_long_pro
mkdir "$droot/500"
sed 's/^301 (nginx)/500 (a_very_long_pro)/' "$root/301/stat" > "$droot/500/stat"
sed 's/^Name:.*/Name:\ta_very_long_pro/' "$root/301/status" > "$droot/500/status"
printf '/usr/bin/a_very_long_program_name\0--serve\0/srv/data\0' > "$droot/500/cmdline"
# the machine: 8000000 kB of memory, 6000000 available; 2000000 kB of swap, 1500000 free
printf 'MemTotal:        8000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\nCached:          3000000 kB\nSwapTotal:       2000000 kB\nSwapFree:        1500000 kB\n' > "$droot/meminfo"
echo '0.52 1.25 2.00 3/245 9999' > "$droot/loadavg"
smaps() {  # pid pss private_clean private_dirty swap (kB)
    printf '55d0c0000000-7ffd00000000 ---p 00000000 00:00 0  [rollup]\nRss: 9000 kB\nPss: %s kB\nShared_Clean: 100 kB\nPrivate_Clean: %s kB\nPrivate_Dirty: %s kB\nSwap: %s kB\n' "$2" "$3" "$4" "$5" > "$droot/$1/smaps_rollup"
}
rm -f "$droot"/*/smaps_rollup
smaps 200 3000 500 2000 64
smaps 301 1000 100 200 0
snap() { "$procmon" snapshot --proc-root "$droot" "$@"; }

# 1. the full name: --name matches it, the name column and JSON show it, "comm" keeps the kernel's
pids=$(snap --format json-stream --fields pid --name a_very_long_program_name | jq -s -c 'map(.pid)')
check "--name matches the full name, not only the 15-byte comm (got $pids)" test "$pids" = "[500]"
line=$(snap --pid 500 --fields pid,name | tail -1)
check "the name column shows the full name (got '$line')" test "$line" = "500 a_very_long_program_name"
names=$(snap --pid 500 --format json-stream --fields name,comm | jq -c '[.name,.comm]')
check "JSON name is the full name, comm the kernel's (got $names)" test "$names" = '["a_very_long_program_name","a_very_long_pro"]'
pids=$(snap --format json-stream --fields pid --cmdline worker | jq -s -c 'map(.pid)')
check "--cmdline PLAIN matches anywhere in the line, as pgrep -f (got $pids)" test "$pids" = "[301]"
pids=$(snap --format json-stream --fields pid --cmdline 'serve /srv' | jq -s -c 'map(.pid)')
check "--cmdline sees the arguments joined by spaces (got $pids)" test "$pids" = "[500]"
pids=$(snap --format json-stream --fields pid --cmdline 'nginx*' | jq -s -c 'map(.pid)')
check "--cmdline GLOB matches the whole line (got $pids)" test "$pids" = "[200,301]"
pids=$(snap --format json-stream --fields pid --cmdline 'worker*' | jq -s -c 'map(.pid)')
check "--cmdline GLOB is anchored (got $pids)" test "$pids" = "[]"
err=$(snap --cmdline '[unclosed' 2>&1 >/dev/null); rc=$?
check "a malformed --cmdline is a usage error in the command's words (rc $rc: $err)" \
    bash -c "[ $rc -eq 2 ] && printf '%s' \"\$1\" | grep -q -- '--cmdline' && ! printf '%s' \"\$1\" | grep -q 'glob\|procmon_'" _ "$err"
err=$(snap --name '[unclosed' 2>&1 >/dev/null)
check "a malformed --name is said with the flag's name ($err)" \
    bash -c "printf '%s' \"\$1\" | grep -q -- \"--name '\\[unclosed'\" && ! printf '%s' \"\$1\" | grep -q 'glob\|procmon_'" _ "$err"

# 3. --interval: two samples, CPU % between them. The fixture does not change,
# so between two samples every process used nothing.
cpus=$(snap --interval 0.1 --format json-stream --fields cpu | jq -s -c 'map(.cpu_percent) | unique')
check "snapshot --interval: CPU % between the samples (got $cpus)" test "$cpus" = "[0]"
# live: busy, then idle (the same process: CPU time survives exec)
bash -c 'x=0; while ((x < 300000)); do ((x++)); done; exec sleep 30' & busy=$!
for i in $(seq 300); do [ "$(cat /proc/$busy/comm 2>/dev/null)" = sleep ] && break; sleep 0.05; done
# Its lifetime average is its CPU time over its age: no fixed figure, as on
# a loaded machine the busy part takes longer and the age grows while procmon
# starts (a bound of 10 % failed there). So: what /proc says just before and
# just after procmon's sample bounds it, and the process did use CPU time.
lifetime() {  # pid: CPU % since it started, from /proc/PID/stat and /proc/uptime
    awk -v hz="$(getconf CLK_TCK)" -v up="$(cut -d' ' -f1 /proc/uptime)" \
        '{ sub(/^.*\) /, ""); printf "%.2f\n", 100 * ($12 + $13) / hz / (up - $20 / hz) }' "/proc/$1/stat"
}
before=$(lifetime $busy)
once=$("$procmon" snapshot --pid $busy --format json-stream --fields cpu | jq .cpu_percent)
after=$(lifetime $busy)
twice=$("$procmon" snapshot --pid $busy --interval 0.3 --format json-stream --fields cpu | jq .cpu_percent)
kill $busy; wait $busy 2>/dev/null
check "a busy-then-idle process: lifetime average alone ($before >= $once >= $after), 0 with --interval ($twice)" \
    bash -c "awk -v a='$once' -v b='$twice' -v hi='$before' -v lo='$after' 'BEGIN { exit !(lo > 0 && a >= lo * 0.95 - 0.1 && a <= hi * 1.05 + 0.1 && b != \"\" && b < 1) }'"
check "--help says what a single sample's CPU % is" bash -c "'$procmon' snapshot --help | grep -q 'average since it'"
for args in "snapshot --interval 0" "snapshot --interval x" "snapshot --interval -1"; do
    "$procmon" $args >/dev/null 2>&1; rc=$?
    check "'$args' exits 2 (got $rc)" test "$rc" -eq 2
done

# 4. the summary's memory is the machine's, not RSS summed; %mem, pss, uss, swap
summary=$(snap --format summary)
check "summary shows the machine's memory" \
    bash -c "printf '%s\n' \"\$1\" | grep -qx 'memory (machine): 1.9 GiB used of 7.6 GiB (25.0%), swap 488.3 MiB used of 1.9 GiB'" _ "$summary"
check "summary sums no RSS" bash -c "! printf '%s\n' \"\$1\" | grep -q 'resident memory'" _ "$summary"
check "summary says its CPU % is a lifetime average" bash -c "printf '%s\n' \"\$1\" | grep -q '^cpu: .* average since it started'" _ "$summary"
check "and with --interval, over which time" bash -c "'$procmon' snapshot --proc-root '$droot' --format summary --interval 0.1 | grep -q '^cpu: 0.0% in all, over the last 0.1 s$'"
summary=$(snap --format summary --fields pss)
check "summary with pss sums it" \
    bash -c "printf '%s\n' \"\$1\" | grep -qx 'memory (these processes): pss 3.9 MiB, uss 2.7 MiB, swap 64 KiB (7 processes unreadable, not counted)'" _ "$summary"
mem=$(snap --pid 200 --format json-stream --fields mem,pss,uss,swap | jq -c '[.mem_percent,.pss_bytes,.uss_bytes,.swap_bytes]')
check "mem_percent, pss, uss, swap in JSON (got $mem)" test "$mem" = "[0.12,3072000,2560000,65536]"
line=$(snap --pid 200 --fields pid,%mem,pss,uss,swap | tail -1)
check "%MEM and the smaps fields in the table, KiB (got '$line')" test "$line" = "200  0.1 3000 2500   64"
keys=$(snap --pid 200 --format json-stream | jq -c 'has("pss_bytes")')
check "pss is opt-in: not read by default (got $keys)" test "$keys" = false
live=$("$procmon" snapshot --pid $$ --format json-stream --fields pss,uss | jq -c '.pss_bytes > 0 and .uss_bytes > 0')
check "live pss and uss of this shell" test "$live" = true

# 5. exit status as pgrep's: 1 when a filter matched nothing, 3 for a failure
rc_of() { "$@" >/dev/null 2>&1; echo $?; }
check "a filter that matches nothing exits 1" test "$(rc_of snap --name no-such-program)" -eq 1
check "--pid of no process exits 1" test "$(rc_of snap --pid 99999)" -eq 1
check "--cmdline that matches nothing exits 1" test "$(rc_of snap --cmdline no-such-argument)" -eq 1
check "a filter that matches exits 0" test "$(rc_of snap --name nginx)" -eq 0
check "no filter exits 0" test "$(rc_of snap)" -eq 0
check "an unreadable proc root exits 3" test "$(rc_of "$procmon" snapshot --proc-root /nonexistent)" -eq 3
check "--help documents the exit status" bash -c "'$procmon' snapshot --help | grep -q '1 a filter matched no process'"

# 8. ps's sort keys, help, no such ancestor, the terminal's width, json-pretty
for key in %cpu pcpu mem %mem pmem cpu rss rsz vsz vsize comm cmd args user uid time cputime start lstart \
           nlwp thcount nice ni pri state stat pid ppid pgid sid tty -%cpu +rss -rss,pid; do
    "$procmon" snapshot --proc-root "$droot" --sort "$key" >/dev/null 2>&1; rc=$?
    check "--sort $key is accepted (rc $rc)" test "$rc" -eq 0
done
sed -i 's/^\(200 (nginx) S\( [^ ]*\)\{19\}\) [0-9]*/\1 999999999/' "$droot/200/stat"  # the largest vsz
first=$(snap --format json-stream --fields pid --sort -vsz | head -1 | jq .pid)
check "--sort -vsz puts the largest first (got $first)" test "$first" = 200
order=$(snap --format json-stream --fields pid --pid 1 42 200 --sort -vsz,-pid | jq -s -c 'map(.pid)')
check "--sort -vsz,-pid: a second key breaks ties (got $order)" test "$order" = "[200,42,1]"
check "procmon help" bash -c "'$procmon' help | grep -q '^usage: procmon <command>'"
check "procmon help snapshot" bash -c "'$procmon' help snapshot | grep -q '^usage: procmon snapshot'"
check "procmon help replay" bash -c "'$procmon' help replay | grep -q '^usage: procmon replay'"
check "procmon help nope exits 2" test "$(rc_of "$procmon" help nope)" -eq 2
nopid=999999
while kill -0 $nopid 2>/dev/null; do nopid=$((nopid + 1)); done
for cmd in watch "record $day/j"; do
    err=$("$procmon" $cmd --duration 0.5 --descendants-of $nopid 2>&1 >/dev/null); rc=$?
    check "$cmd --descendants-of a process that is not there exits 2 (got $rc: $err)" \
        bash -c "[ $rc -eq 2 ] && printf '%s' \"\$1\" | grep -q 'no such process'" _ "$err"
done
# The terminal's width: under a pseudo-terminal from script(1) (util-linux,
# essential in Debian), sized with stty inside it.
long=$(snap --fields pid,argv --cmdline '*a_very_long*' | tail -1)
tty_out=$(script -qec "stty cols 24 rows 10; '$procmon' snapshot --proc-root '$droot' --fields pid,argv --pid 500" /dev/null </dev/null | tr -d '\r')
check "a table on a terminal is cut to its width (got '$(printf '%s' "$tty_out" | tail -1)')" \
    test "$(printf '%s\n' "$tty_out" | tail -1)" = "${long:0:24}"
tty_out=$(script -qec "stty cols 24 rows 10; '$procmon' snapshot --proc-root '$droot' --fields pid,argv --pid 500 -w" /dev/null </dev/null | tr -d '\r')
check "-w does not cut" test "$(printf '%s\n' "$tty_out" | tail -1)" = "$long"
tty_out=$(script -qec "stty cols 80 rows 10; COLUMNS=30 '$procmon' snapshot --proc-root '$droot' --fields pid,argv --pid 500" /dev/null </dev/null | tr -d '\r')
check "\$COLUMNS sets the width on a terminal" test "$(printf '%s\n' "$tty_out" | tail -1)" = "${long:0:30}"
tty_out=$(script -qec "stty cols 20 rows 10; '$procmon' watch --duration 0.3 --descendants-of $$ 2>/dev/null" /dev/null </dev/null | tr -d '\r')
check "watch's table too (got '$(printf '%s' "$tty_out" | head -1)')" test "$(printf '%s\n' "$tty_out" | head -1)" = "TIME         EVENT  "
piped=$(COLUMNS=24 snap --fields pid,argv --pid 500 | tail -1)
check "a pipe is never cut" test "$piped" = "$long"
pretty=$(snap --format json-pretty --fields pid,name,argv,exe --pid 300)
check "json-pretty: every key on its own line" \
    bash -c "printf '%s\n' \"\$1\" | grep -Eq '^    \"argv_truncated\":false,$' && printf '%s\n' \"\$1\" | grep -Eq '^    \"argv_base64\":\\[' && [ \$(printf '%s\n' \"\$1\" | grep -c '^    \"') -eq 6 ]" _ "$pretty"

# 2. watch: an event a filter cannot decide (its process gone before it could
# be read) is left out unless asked for, and counted. A burst of short
# processes makes some of them.
burst_watch() {  # extra args...: output on stdout, stderr in $day/watch.err
    : >"$day/watch.err"
    "$procmon" watch -v --duration 3 --stats --format json-stream --descendants-of $$ "$@" >"$day/watch.out" 2>"$day/watch.err" &
    local watcher=$! i
    for i in $(seq 200); do grep -Eq '^procmon: (watching through|.*polling every)' "$day/watch.err" && break; sleep 0.05; done
    for i in $(seq 300); do /bin/true; done
    wait "$watcher"
    cat "$day/watch.out"
}
out=$(burst_watch --name no-such-program)
check "watch --name: no event of another process, partial or not (got $(printf '%s' "$out" | grep -c .))" test -z "$out"
check "watch --stats counts the undecidable events" grep -Eq '^procmon: undecidable [0-9]+' "$day/watch.err"
out=$(burst_watch --name no-such-program --keep-undecidable)
n=$(printf '%s\n' "$out" | jq -s 'length')
decided=$(printf '%s\n' "$out" | jq -s 'map(select(.partial == false)) | length')
check "watch --keep-undecidable passes them, all partial ($n, $decided not)" test "$decided" -eq 0
check "and its --stats says they passed" grep -Eq '^procmon: undecidable [0-9]+ \(passed' "$day/watch.err"
watch_json json-stream --cmdline 'exit 3' >/tmp/procmon-watch-json.$$
out=$(cat /tmp/procmon-watch-json.$$)
check "watch --cmdline (got $(printf '%s\n' "$out" | jq -s -c 'map(.argv | join(" "))'))" \
    bash -c "printf '%s\n' \"\$1\" | jq -e -s 'length > 0 and all(.argv | join(\" \") | contains(\"exit 3\"))' >/dev/null" _ "$out"
watch_json json-stream --poll --interval 100 >/tmp/procmon-watch-json.$$
out=$(cat /tmp/procmon-watch-json.$$)
check "watch --poll says why in the command's words" \
    bash -c "grep -q 'as --poll asks' /tmp/procmon-watch-err.$$ && ! grep -q 'event_source' /tmp/procmon-watch-err.$$"
rm -f /tmp/procmon-watch-err.$$ /tmp/procmon-watch-json.$$

# 6 and 7. replay counts what it printed and refuses an inverted range;
# record says sizes with its own flags
"$procmon" record "$day/j" --duration 120 --descendants-of $$ 2>/dev/null &
recorder=$!
wait_for 60 recording "$recorder" "$day/j" || echo "cli_test: the recorder never held its lock"
for i in 1 2 3 4 5; do sh -c 'exit 0'; done
five() { [ "$("$procmon" replay "$day/j" --format json-stream 2>/dev/null | wc -l)" -ge 5 ]; }
wait_for 60 five || echo "cli_test: the journal never held 5 records"
kill -TERM "$recorder"
wait "$recorder"
"$procmon" replay "$day/j" --until 5 --format json-stream >"$day/out" 2>"$day/err"
check "replay --until 5 prints 5 ($(wc -l < "$day/out")) and says so ($(cat "$day/err"))" \
    bash -c "[ \$(wc -l < '$day/out') -eq 5 ] && grep -qx 'procmon: replayed 5 records' '$day/err'"
err=$("$procmon" replay "$day/j" --since 9 --until 2 2>&1 >/dev/null); rc=$?
check "replay --since 9 --until 2 is a usage error (rc $rc: $err)" \
    bash -c "[ $rc -eq 2 ] && printf '%s' \"\$1\" | grep -q -- '--since 9 is after --until 2'" _ "$err"
err=$("$procmon" record "$day/j2" --max-size 10K --duration 1 2>&1 >/dev/null); rc=$?
check "record --max-size below two segments is said in the command's words (rc $rc: $err)" \
    bash -c "[ $rc -eq 2 ] && printf '%s' \"\$1\" | grep -q -- '--max-size 10K is below two segments (2 x 64 MiB' && ! printf '%s' \"\$1\" | grep -q 'max_bytes\|procmon_'" _ "$err"
err=$("$procmon" record "$day/j2" --segment-size 1K --duration 1 2>&1 >/dev/null); rc=$?
check "record --segment-size below the minimum (rc $rc: $err)" \
    bash -c "[ $rc -eq 2 ] && printf '%s' \"\$1\" | grep -q -- '--segment-size 1K is below the minimum, 64 KiB'" _ "$err"
check "a size may be written 64KiB" test "$(rc_of "$procmon" record "$day/j3" --segment-size 64KiB --max-size 1MiB --duration 0.2)" -eq 0
rm -rf "$day"

# --- procmond's side (what needs no daemon): --connect parses, an absent
# daemon is said clearly, and status tells "not reachable" by its exit status
nowhere=$(mktemp -d)/procmond.sock
err=$("$procmon" status --connect "$nowhere" 2>&1 >/dev/null); rc=$?
check "status of an absent daemon exits 1 (rc $rc)" test "$rc" -eq 1
check "status says it is not reachable and to start procmond ($err)" \
    bash -c "printf '%s' \"\$1\" | grep -q 'not reachable' && printf '%s' \"\$1\" | grep -q 'is procmond running?'" _ "$err"
err=$(env -u PROCMON_ENDPOINT "$procmon" status 2>&1 >/dev/null); rc=$?
check "status with no daemon named exits 1 and asks which ($err)" \
    bash -c "[ $rc -eq 1 ] && printf '%s' \"\$1\" | grep -q -- '--connect PATH or set PROCMON_ENDPOINT'" _ "$err"
check "status --bogus is a usage error" test "$(rc_of "$procmon" status --bogus)" -eq 2
check "status --help" bash -c "'$procmon' status --help | grep -q 'usage: procmon status'"
for cmd in "snapshot" "watch --duration 1" "replay"; do
    err=$("$procmon" $cmd --connect "$nowhere" 2>&1 >/dev/null); rc=$?
    check "$cmd --connect to an absent daemon fails with 3 and says so (rc $rc: $err)" \
        bash -c "[ $rc -eq 3 ] && printf '%s' \"\$1\" | grep -q 'is procmond running?'" _ "$err"
done
err=$(PROCMON_ENDPOINT="$nowhere" "$procmon" snapshot 2>&1 >/dev/null); rc=$?
check "PROCMON_ENDPOINT reaches the library (rc $rc: $err)" \
    bash -c "[ $rc -eq 3 ] && printf '%s' \"\$1\" | grep -q 'is procmond running?'" _ "$err"
check "snapshot --connect needs a value" test "$(rc_of "$procmon" snapshot --connect)" -eq 2
check "replay --connect takes no directory" test "$(rc_of "$procmon" replay --connect "$nowhere" somedir)" -eq 2
check "replay --connect --help" bash -c "'$procmon' replay --connect x --help | grep -q -- '--from-seq N'"
check "help lists status" bash -c "'$procmon' --help | grep -q '^  status'"
rm -rf "$(dirname "$nowhere")"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
