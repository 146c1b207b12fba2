#!/usr/bin/env bash
# Install what is needed, build, and run every suite three times: in the dev
# build, under AddressSanitizer + UndefinedBehaviorSanitizer, and under
# ThreadSanitizer (the cmocka suites, the concurrency test and the CLI:
# Criterion cannot start under TSan, see tests/CMakeLists.txt); then the
# Python binding, built and installed as a user would (scripts/test-python.sh),
# and the Rust crates, offline (scripts/test-rust.sh).
# Usage: scripts/test.sh [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

presets=(dev asan tsan)
[ "${1:-}" = "--no-sanitizers" ] && presets=(dev)
for preset in "${presets[@]}"; do
    echo "=== $preset: configure and build"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset"
    echo "=== $preset: test"
    ctest --preset "$preset"
done

echo "=== python binding"
scripts/test-python.sh

echo "=== rust crates"
scripts/test-rust.sh
