#!/usr/bin/env bash
# The procmon command, end to end: usage errors, every format, valid JSON for
# hostile names and non-UTF-8 argv (checked with jq), filters and sorting.
# Usage: cli_test.sh PROCMON FIXTURES_DIR
set -uo pipefail
procmon=$1 fixtures=$2
passed=0 failed=0
ok()   { passed=$((passed + 1)); }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }

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
check "table header" bash -c "printf '%s\n' \"\$1\" | head -1 | grep -Eq '^ *PID +PPID +USER +S +%CPU +RSS +VSZ +TIME +NLWP +COMMAND$'" _ "$table"
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
live=$("$procmon" snapshot --format json-stream --fields all)
check "live snapshot is valid JSON" bash -c "printf '%s\n' \"\$1\" | jq -s . >/dev/null" _ "$live"
check "live snapshot lists itself" bash -c "printf '%s\n' \"\$1\" | jq -e -s 'map(select(.name==\"procmon\")) | length >= 1' >/dev/null" _ "$live"

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
watch_json() {  # format, extra args...: a child exits 3 while watching our descendants
    # The child starts once watch says it is watching (-v), not after a guessed
    # delay: a slow start (a sanitizer build) must not make the test miss it.
    local fmt=$1; shift
    local out=/tmp/procmon-watch-out.$$ err=/tmp/procmon-watch-err.$$
    : >"$err"
    "$procmon" watch -v --duration 2 --format "$fmt" --descendants-of $$ "$@" >"$out" 2>"$err" &
    local watcher=$! i
    for i in $(seq 200); do
        grep -Eq '^procmon: (watching through|.*polling every)' "$err" && break
        sleep 0.05
    done
    sh -c 'sleep 0.2; exit 3'
    wait "$watcher"
    cat "$out"
    rm -f "$out"
}
for fmt in json-stream json-array json-pretty; do
    out=$(watch_json "$fmt")
    check "watch $fmt is valid JSON" bash -c "printf '%s' \"\$1\" | jq -s . >/dev/null" _ "$out"
    code=$(printf '%s' "$out" | jq -s '[if .[0]|type=="array" then .[0][] else .[] end] | map(select(.type=="exit" and .name=="sh")) | .[0].exit_code')
    check "watch $fmt reports exit code 3 (got $code)" test "$code" = 3
done
check "watch ends with a statistics line" grep -Eq '^procmon: processed [0-9]+, filtered [0-9]+, output [0-9]+, dropped 0, lost 0, rate' /tmp/procmon-watch-err.$$
# watch into a closed pipe: a child exits while head has already gone
( sleep 0.3; sh -c 'exit 0' ) & kid=$!
"$procmon" watch --duration 1.5 --descendants-of $$ --format json-stream 2>/dev/null | true
rc=${PIPESTATUS[0]}
wait "$kid"
check "watch into a closed pipe exits 0 (got $rc)" test "$rc" -eq 0
out=$(watch_json json-stream --poll --interval 100)
check "watch --poll says it polls and how often" grep -q 'polling every 100 ms' /tmp/procmon-watch-err.$$
check "watch --poll still sees the exit" bash -c "printf '%s\n' \"\$1\" | jq -e -s 'map(select(.type==\"exit\" and .name==\"sh\")) | length == 1' >/dev/null" _ "$out"
rm -f /tmp/procmon-watch-err.$$

# --- record and replay
jdir=$(mktemp -d)/journal
rerr=$(mktemp)
"$procmon" record "$jdir" --duration 1.5 --descendants-of $$ --segment-size 64K 2>"$rerr" &
recorder=$!
for i in $(seq 100); do [ -e "$jdir/LOCK" ] && break; sleep 0.05; done
sleep 0.2
sh -c 'sleep 0.2; exit 5'
locked=$("$procmon" record "$jdir" --duration 1 2>&1); rc=$?
check "a second recorder is refused (rc $rc)" test "$rc" -eq 1
check "and says the directory is locked ($locked)" bash -c "printf '%s' \"\$1\" | grep -q 'locked by another writer'" _ "$locked"
wait "$recorder"; rc=$?
check "record exits 0 (got $rc)" test "$rc" -eq 0
check "record ends with what it recorded" grep -Eq '^procmon: recorded [0-9]+ events to .* lost 0' "$rerr"
recorded=$(sed -nE 's/^procmon: recorded ([0-9]+) events.*/\1/p' "$rerr")
out=$("$procmon" replay "$jdir" --format json-stream 2>"$rerr")
check "replay json-stream is valid JSON" bash -c "printf '%s' "\$1" | jq -s . >/dev/null" _ "$out"
code=$(printf '%s\n' "$out" | jq -s 'map(select(.type=="exit" and .name=="sh")) | .[0].exit_code')
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
# a flipped byte in a record: skipped, counted, and the gap shown
seg=$(ls "$jdir"/*.pmj | head -1)
printf '\xff' | dd of="$seg" bs=1 seek=90 conv=notrunc status=none
out=$("$procmon" replay "$jdir" --format json-stream 2>"$rerr")
check "a damaged record is skipped and said" grep -Eq 'skipped 1 corrupt runs .* first in segment 1 at byte 64' "$rerr"
check "its sequence number comes back as lost" bash -c "printf '%s\n' \"\$1\" | jq -e -s '.[0].type == \"lost\" and .[0].lost == 1' >/dev/null" _ "$out"
err=$("$procmon" replay /nonexistent/journal 2>&1); rc=$?
check "replay of a missing directory fails (rc $rc: $err)" test "$rc" -eq 1
for args in "record" "replay" "record $jdir --fsync sometimes" "record $jdir --max-size 10X" "replay $jdir --since yesterday"; do
    "$procmon" $args >/dev/null 2>&1; rc=$?
    check "'$args' exits 2 (got $rc)" test "$rc" -eq 2
done
rm -rf "$(dirname "$jdir")" "$rerr"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
