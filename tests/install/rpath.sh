#!/usr/bin/env bash
# An installed procmon command runs without LD_LIBRARY_PATH: `cmake --install`
# gives it a RUNPATH of $ORIGIN/<bindir to libdir>, which leads to the
# installed libprocmon (not the build tree's), also after the prefix moved.
# Usage: rpath.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset LD_LIBRARY_PATH
cmake --install "$build" --prefix "$work/prefix" >/dev/null

bin=$work/prefix/bin/procmon
[ -x "$bin" ] || fail "no $bin after cmake --install"
lib=$(find "$work/prefix" -name libprocmon.so.0)
[ -n "$lib" ] || fail "no libprocmon.so.0 installed"
libdir=$(dirname "$lib")

# Outputs are captured whole before grep reads them (no SIGPIPE under pipefail).
dynamic=$(readelf -d "$bin")
runpath=$(sed -nE 's/.*\(RUNPATH\).*\[(.*)\]$/\1/p' <<<"$dynamic")
[[ "$runpath" == *'$ORIGIN'* ]] || fail "no RUNPATH with \$ORIGIN in $bin: $(grep -E 'R(UN)?PATH' <<<"$dynamic" || echo none)"
[[ "$runpath" != *"$(cd "$build" && pwd)"* ]] || fail "the installed RUNPATH still names the build tree: $runpath"
where=${runpath//\$ORIGIN/$(dirname "$bin")}
[ "$(readlink -f "$where")" = "$(readlink -f "$libdir")" ] || fail "RUNPATH $runpath is $where, not $libdir"

run() {  # prefix: --version and a snapshot of this script, then which libprocmon was loaded
    local b=$1/bin/procmon out
    out=$("$b" --version) || fail "$b --version exited $?: $out"
    grep -q '^procmon [0-9]' <<<"$out" || fail "$b --version printed: $out"
    out=$("$b" snapshot --pid $$) || fail "$b snapshot --pid $$ exited $?: $out"
    grep -Eq "^ *$$ " <<<"$out" || fail "$b snapshot --pid $$ printed: $out"
    out=$(ldd "$b")
    grep -q "libprocmon.so.0 => $1/" <<<"$out" || fail "$b does not load its prefix's libprocmon: $out"
}
run "$work/prefix"
mv "$work/prefix" "$work/moved"
run "$work/moved"
echo "install_rpath: RUNPATH $runpath; runs without LD_LIBRARY_PATH, also moved"
