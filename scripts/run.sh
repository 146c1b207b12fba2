#!/usr/bin/env bash
# The main job: install what is needed, build (release), then show every
# process on this machine and a summary. Usage: scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
build/release/cli/procmon snapshot
echo
build/release/cli/procmon snapshot --format summary
