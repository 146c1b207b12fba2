#!/usr/bin/env bash
# Install what is needed, build, and run every suite twice: in the dev build,
# then under AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: scripts/test.sh [--no-asan]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

presets=(dev asan)
[ "${1:-}" = "--no-asan" ] && presets=(dev)
for preset in "${presets[@]}"; do
    echo "=== $preset: configure and build"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset"
    echo "=== $preset: test"
    ctest --preset "$preset"
done
