#!/usr/bin/env bash
# Builds the Python wheel into a throw-away venv (Debian's python3, with its
# psutil and numpy) and runs bench/python_bench.py there.
# Usage: bench/python_bench.sh [python_bench.py arguments]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install --no-deps "$root/bindings/python" >"$work/install.log" 2>&1 \
    || { cat "$work/install.log"; exit 1; }
"$work/venv/bin/python" "$root/bench/python_bench.py" "$@"
