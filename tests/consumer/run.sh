#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds tests/consumer
# against it with find_package(procmon CONFIG) and with pkg-config, and runs
# each; then embeds the source tree with add_subdirectory, as a project that
# vendors procmon would, with pkg-config hidden: tests and benchmarks must be
# off there, so Criterion, cmocka and libproc2 are not needed. A host with
# its own malloc keeps it (own_malloc.c).
# Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
# The program exits 0 and prints "ok <count>".
prints_ok() {
    local out
    out=$("$1") || { echo "FAIL: $1 exited with $?"; exit 1; }
    grep -q '^ok ' <<<"$out" || { echo "FAIL: $1 printed: $out"; exit 1; }
}
cmake --install "$build" --prefix "$prefix" >/dev/null

echo "== find_package(procmon CONFIG)"
cmake -S "$src/tests/consumer" -B "$prefix/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_RPATH="$prefix/lib" >/dev/null
cmake --build "$prefix/consumer" >"$prefix/build.log" 2>&1 || { cat "$prefix/build.log"; exit 1; }
# Outputs are captured whole before grep reads them: `prog | grep -q` under
# pipefail fails now and then when grep exits first and prog gets SIGPIPE.
prints_ok "$prefix/consumer/consumer_shared"
prints_ok "$prefix/consumer/consumer_static"
# A static consumer needs no libprocmon.so at run time. (Not `! grep`: set -e
# ignores a command negated with `!`, so that check could never fail.)
links_no_libprocmon() {
    local deps
    deps=$(ldd "$1")
    if grep -q libprocmon <<<"$deps"; then echo "FAIL: $1 links the shared library:"; echo "$deps"; exit 1; fi
}
deps=$(ldd "$prefix/consumer/consumer_shared")
grep -q 'libprocmon.so.0 ' <<<"$deps" || { echo "FAIL: consumer_shared does not link libprocmon.so.0:"; echo "$deps"; exit 1; }
links_no_libprocmon "$prefix/consumer/consumer_static"
# mimalloc is loaded at run time, never linked: it must not become the host's malloc
for bin in "$prefix/consumer/consumer_shared" "$prefix/consumer/consumer_static"; do
    deps=$(ldd "$bin")
    if grep -q mimalloc <<<"$deps"; then echo "FAIL: $bin links mimalloc"; exit 1; fi
done
out=$("$prefix/consumer/consumer_own_malloc"); [ "$out" = "ok mimalloc arena" ] || { echo "FAIL: own malloc: $out"; exit 1; }

echo "== pkg-config procmon"
libdir=$(find "$prefix" -name procmon.pc -printf '%h\n' | head -1)
export PKG_CONFIG_PATH=$libdir
cc -std=c89 -Wall -Werror "$src/tests/consumer/main.c" $(pkg-config --cflags --libs procmon) \
   -Wl,-rpath,"$(dirname "$libdir")" -o "$prefix/consumer_pc"
prints_ok "$prefix/consumer_pc"
cc "$src/tests/consumer/main.c" $(pkg-config --cflags procmon) "$(dirname "$libdir")/libprocmon.a" \
   $(pkg-config --libs-only-l --static procmon | sed 's/-lprocmon//') -o "$prefix/consumer_pc_static"
prints_ok "$prefix/consumer_pc_static"
links_no_libprocmon "$prefix/consumer_pc_static"

echo "== add_subdirectory(procmon)"
mkdir -p "$prefix/sub"
cat > "$prefix/sub/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.22)
project(embeds_procmon C CXX)
add_subdirectory("$src" procmon)
add_executable(consumer_sub "$src/tests/consumer/main.c")
target_link_libraries(consumer_sub PRIVATE procmon::procmon_static)
EOF
cmake -S "$prefix/sub" -B "$prefix/sub/build" -G Ninja -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON \
      >"$prefix/sub.log" 2>&1 || { cat "$prefix/sub.log"; exit 1; }
targets=$(cmake --build "$prefix/sub/build" --target help)
for t in api_test concurrency_test enumerate_bench procmon_cli list_processes; do
    if grep -q "^$t:" <<<"$targets"; then echo "FAIL: a subproject build has $t"; exit 1; fi
done
cmake --build "$prefix/sub/build" --target consumer_sub >"$prefix/sub.log" 2>&1 || { cat "$prefix/sub.log"; exit 1; }
prints_ok "$prefix/sub/build/consumer_sub"
echo "consumer: 6 passed, 0 failed"
