#!/bin/sh
# ctest journal_fuzz: builds the journal reader's fuzz target (tests/fuzz,
# clang with libFuzzer, ASan and UBSan) in BUILD_DIR and runs it briefly over
# the committed seeds. Exit 77 (skipped) without clang's libFuzzer: on Debian,
# apt install clang-14 libclang-rt-14-dev. PROCMON_FUZZ_CXX / PROCMON_FUZZ_CC
# choose the compilers; PROCMON_FUZZ_SECONDS the time (default 20).
# Usage: run.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
out=$2
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
cmake --build "$out" -j 2 --target journal_fuzz
# What this run finds goes to the first directory, never into the seeds.
mkdir -p "$out/corpus"
exec "$out/journal_fuzz" -runs=20000 -max_total_time="${PROCMON_FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=1024 \
     -print_final_stats=1 "$out/corpus" "$src/tests/fuzz/corpus"
