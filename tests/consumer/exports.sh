#!/usr/bin/env bash
# The shared library exports the C ABI and nothing else, under its SONAME.
# Usage: exports.sh path/to/libprocmon.so
set -euo pipefail
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^procmon_' || true)
if [ -n "$bad" ]; then echo "exported beyond procmon_*:"; echo "$bad"; exit 1; fi
dynamic=$(readelf -d "$lib")  # whole, then grep: `| grep -q` under pipefail can SIGPIPE readelf
grep -q 'SONAME.*libprocmon\.so\.0\]' <<<"$dynamic"
# mimalloc is dlopen'ed with RTLD_LOCAL, never a dependency that would replace the host's malloc
if grep -q "NEEDED.*mimalloc" <<<"$dynamic"; then echo "libprocmon.so needs mimalloc"; exit 1; fi
count=$(nm -D --defined-only "$lib" | grep -c ' T procmon_')
echo "exports: $count procmon_* functions, SONAME libprocmon.so.0"
