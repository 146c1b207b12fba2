#!/usr/bin/env bash
# A missing test dependency fails the configure with one message that names
# the Debian package and the option that turns the tests off, not CMake's
# generic "could not find". Criterion is hidden from pkg-config (a search
# path with every .pc file but criterion.pc), then everything pkg-config
# finds; with -DPROCMON_BUILD_TESTS=OFF the configure then succeeds.
# Usage: missing_deps.sh SOURCE_DIR GENERATOR C_COMPILER CXX_COMPILER
set -euo pipefail
src=$1 generator=$2 cc=$3 cxx=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
passed=0

mkdir "$work/pc" "$work/empty"
IFS=: read -ra dirs <<<"$(pkg-config --variable pc_path pkg-config):${PKG_CONFIG_PATH:-}"
for d in "${dirs[@]}"; do
    for f in "$d"/*.pc; do
        [ -e "$f" ] && [ "$(basename "$f")" != criterion.pc ] && ln -sf "$f" "$work/pc/"
    done
done
[ -e "$work/pc/cmocka.pc" ] || fail "cmocka.pc not found: this check needs cmocka installed"

configure() {  # name, pkg-config search path, extra cmake args...: output in $work/NAME.log, exit status returned
    local name=$1 libdir=$2; shift 2
    env -u PKG_CONFIG_PATH PKG_CONFIG_LIBDIR="$libdir" \
        cmake -S "$src" -B "$work/$name" -G "$generator" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
        "$@" >"$work/$name.log" 2>&1
}
says() {  # log, text
    grep -qF -- "$2" "$work/$1.log" || { cat "$work/$1.log"; fail "$1: the configure does not say '$2'"; }
}
says_not() {
    if grep -qF -- "$2" "$work/$1.log"; then cat "$work/$1.log"; fail "$1: the configure says '$2'"; fi
}

# Criterion alone is missing: named, with its package and the option; nothing else blamed.
if configure no_criterion "$work/pc"; then cat "$work/no_criterion.log"; fail "configured without Criterion"; fi
says no_criterion "apt install libcriterion-dev"
says no_criterion "-DPROCMON_BUILD_TESTS=OFF turns the tests off"
says_not no_criterion "cmocka"
says_not no_criterion "A required package was not found"   # FindPkgConfig's generic REQUIRED error
[ "$(grep -c 'CMake Error' "$work/no_criterion.log")" -eq 1 ] || { cat "$work/no_criterion.log"; fail "more than one error"; }
passed=$((passed + 1))

# Every pkg-config module missing: one message names Criterion and cmocka together.
if configure no_modules "$work/empty"; then cat "$work/no_modules.log"; fail "configured without any pkg-config module"; fi
says no_modules "apt install libcriterion-dev libcmocka-dev"
[ "$(grep -c 'CMake Error' "$work/no_modules.log")" -eq 1 ] || { cat "$work/no_modules.log"; fail "more than one error"; }
passed=$((passed + 1))

# What the message advises works: without the tests, Criterion is not needed.
configure tests_off "$work/pc" -DPROCMON_BUILD_TESTS=OFF || { cat "$work/tests_off.log"; fail "-DPROCMON_BUILD_TESTS=OFF did not configure"; }
passed=$((passed + 1))

echo "missing_deps: $passed passed, 0 failed"
sed -n '/procmon: what/,/turns the tests off/p' "$work/no_criterion.log"
