#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds tests/consumer
# against it with find_package(procmon CONFIG) and with pkg-config, and runs
# each. Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null

echo "== find_package(procmon CONFIG)"
cmake -S "$src/tests/consumer" -B "$prefix/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_RPATH="$prefix/lib" >/dev/null
cmake --build "$prefix/consumer" >"$prefix/build.log" 2>&1 || { cat "$prefix/build.log"; exit 1; }
"$prefix/consumer/consumer_shared" | grep -q '^ok '
"$prefix/consumer/consumer_static" | grep -q '^ok '
ldd "$prefix/consumer/consumer_shared" | grep -q 'libprocmon.so.0 '
! ldd "$prefix/consumer/consumer_static" | grep -q libprocmon

echo "== pkg-config procmon"
libdir=$(find "$prefix" -name procmon.pc -printf '%h\n' | head -1)
export PKG_CONFIG_PATH=$libdir
cc -std=c89 -Wall -Werror "$src/tests/consumer/main.c" $(pkg-config --cflags --libs procmon) \
   -Wl,-rpath,"$(dirname "$libdir")" -o "$prefix/consumer_pc"
"$prefix/consumer_pc" | grep -q '^ok '
cc "$src/tests/consumer/main.c" $(pkg-config --cflags procmon) "$(dirname "$libdir")/libprocmon.a" \
   $(pkg-config --libs-only-l --static procmon | sed 's/-lprocmon//') -o "$prefix/consumer_pc_static"
"$prefix/consumer_pc_static" | grep -q '^ok '
echo "consumer: 4 passed, 0 failed"
