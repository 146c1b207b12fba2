#!/usr/bin/env bash
# The C ABI of the freshly built libprocmon.so against the last release's
# (0.2.0 = ea9ed0c), as libabigail's abidiff sees it from the DWARF: only
# what include/procmon.h declares counts (--headers-dir, private types
# dropped). It passes when nothing changed but what procmon's rules allow:
# functions added, and fields appended to the structs appended-fields.suppr
# names (each entry says why). A function removed or retyped, a struct
# member moved, removed or retyped, an enumerator renumbered: it fails,
# printing abidiff's report. Two runs: with the suppression, then without
# it to catch what libabigail 2.2's suppression hides beyond appends.
#
# Usage: abi_diff.sh SOURCE_DIR path/to/libprocmon.so (built with -g)
#
# The baseline, made once per release from that release's tree (the
# library built RelWithDebInfo, as the dev preset does):
#   abidw --headers-dir include/ --drop-private-types --exported-interfaces-only \
#         --no-corpus-path --no-comp-dir-path --short-locs --type-id-style hash \
#         build/libprocmon.so.X.Y.Z --out-file tests/abi/libprocmon-X.Y.Z.abi
set -euo pipefail
src=$1 lib=$2
here="$src/tests/abi"
baseline="$here/libprocmon-0.2.0.abi"

command -v abidiff >/dev/null || {
    echo "abi_diff: abidiff not found: install abigail-tools (scripts/install-deps.sh)" >&2
    exit 1
}
sections=$(readelf -S "$lib")  # whole, then grep: under pipefail `| grep -q` can SIGPIPE readelf
grep -q '\.debug_info' <<<"$sections" || {
    echo "abi_diff: $lib has no debug info: abidiff needs it (build RelWithDebInfo or Debug)" >&2
    exit 1
}

abidiff_public() {
    abidiff --no-added-syms --drop-private-types --exported-interfaces-only \
            --headers-dir2 "$src/include" "$@" "$baseline" "$lib" 2>&1
}
fail() {
    local rc=$1 report=$2 what=$3 why=()
    # abidiff's status is a bit set (libabigail's abidiff manual)
    (( rc & 1 )) && why+=("abidiff failed")
    (( rc & 2 )) && why+=("usage error")
    (( rc & 4 )) && why+=("ABI change")
    (( rc & 8 )) && why+=("incompatible ABI change")
    echo "$report"
    echo "abi_diff: $what (abidiff exit $rc: ${why[*]:-}) against $baseline" >&2
    exit 1
}

# 1. Everything but the appended fields (and functions added: abidiff
#    counts those as a change, exit 4, and --no-added-syms leaves them out).
set +e
report=$(abidiff_public --suppressions "$here/appended-fields.suppr")
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "$rc" "$report" "an ABI change beyond appended fields and added functions"

# 2. The suppression is broader than its word in libabigail 2.2: it also
#    hides a change to a listed struct's existing members (two fields
#    swapped, one retyped), as long as none is deleted and the struct does
#    not shrink. abidiff lists those as "data member changes" (appended
#    fields are "insertions"): none may appear. Leaf changes only: a struct
#    that merely points to a grown one (procmon_journal_options.filter) is
#    not a change of its own.
set +e
report=$(abidiff_public --leaf-changes-only)
rc=$?
set -e
(( rc & ~4 )) && fail "$rc" "$report" "abidiff failed"
if grep -q 'data member changes\?\b' <<<"$report"; then
    fail "$rc" "$report" "a member of a public struct moved or changed"
fi
echo "abi_diff: libprocmon.so keeps 0.2.0's ABI ($(grep -c '<elf-symbol ' "$baseline") symbols; fields appended, functions added)"
