#!/usr/bin/env bash
# Install what is needed, build, and run every suite three times: in the dev
# build, under AddressSanitizer + UndefinedBehaviorSanitizer, and under
# ThreadSanitizer (the cmocka suites, the concurrency test and the CLI:
# Criterion cannot start under TSan, see tests/CMakeLists.txt); then the
# Python binding, built and installed as a user would (scripts/test-python.sh),
# and the Rust crates, offline (scripts/test-rust.sh).
# A skipped test passes in every runner; each suite's skips are listed
# (scripts/check-skips.py), and in strict mode, on in CI (CI=true) or with
# PROCMON_STRICT_SKIPS=1, one not in tests/expected-skips.txt for this
# machine fails the run (PROCMON_STRICT_SKIPS=0: never).
# Usage: scripts/test.sh [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

presets=(dev asan tsan)
[ "${1:-}" = "--no-sanitizers" ] && presets=(dev)
for preset in "${presets[@]}"; do
    echo "=== $preset: configure and build"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset"
    echo "=== $preset: test"
    # Criterion names its skipped tests only at verbosity 1; the JUnit report
    # keeps each test's whole output for check-skips to read.
    CRITERION_VERBOSITY_LEVEL=1 ctest --preset "$preset" --output-junit "$reports/$preset.xml" \
        --test-output-size-passed 100000000
    scripts/check-skips.py "ctest:$reports/$preset.xml"
done

echo "=== python binding"
scripts/test-python.sh

echo "=== rust crates"
scripts/test-rust.sh
