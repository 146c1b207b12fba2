#!/bin/sh
# ctest journal_fuzz, record_fuzz, frame_server_fuzz, frame_client_fuzz: builds the fuzz target TARGET (tests/fuzz,
# clang with libFuzzer, ASan and UBSan) in BUILD_DIR and runs it briefly over
# its committed seeds (tests/fuzz/corpus/TARGET). Exit 77 (skipped) without clang's libFuzzer: on Debian,
# apt install clang-14 libclang-rt-14-dev. PROCMON_FUZZ_CXX / PROCMON_FUZZ_CC
# choose the compilers; PROCMON_FUZZ_SECONDS the time (default 15 a target).
# Usage: run.sh SOURCE_DIR BUILD_DIR TARGET
set -eu
src=$1
out=$2
target=$3
cxx=${PROCMON_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
cc=${PROCMON_FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long) { return 0; }' > "$probe/p.cpp"
if [ -z "$cxx" ] || [ -z "$cc" ] || ! "$cxx" -fsanitize=fuzzer,address "$probe/p.cpp" -o "$probe/p" 2>/dev/null; then
    echo "SKIP: no clang with libFuzzer here (Debian: apt install clang-14 libclang-rt-14-dev)"
    exit 77
fi
cmake -S "$src/tests/fuzz" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" > "$out.configure.log" 2>&1 || { cat "$out.configure.log"; exit 1; }
cmake --build "$out" -j 2 --target "$target"
# What this run finds goes to the first directory, never into the seeds.
mkdir -p "$out/corpus/$target"
exec "$out/$target" -max_total_time="${PROCMON_FUZZ_SECONDS:-15}" -timeout=10 -rss_limit_mb=1024 \
     -print_final_stats=1 "$out/corpus/$target" "$src/tests/fuzz/corpus/$target"
