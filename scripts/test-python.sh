#!/usr/bin/env bash
# The Python binding, as a user gets it: build the wheel with pip (build
# isolation on, nothing downloaded), install it into a fresh venv, run the
# pytest suite there (not against the source tree). Then the other ways in:
# the python3 on PATH (pyenv or other) installs and imports it, an editable
# install, and an sdist that builds on its own.
# Usage: scripts/test-python.sh [--quick]   (--quick: Debian's python3 only)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pkg=$root/bindings/python
work=$(mktemp -d)
chmod 755 "$work"  # the unprivileged-child test runs the venv's python as nobody
trap 'rm -rf "$work"' EXIT
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1

debian=/usr/bin/python3
echo "=== python: wheel for $($debian --version) (pip wheel, isolated build)"
$debian -m pip wheel --no-deps -w "$work/dist" "$pkg" >"$work/wheel.log" 2>&1 || { cat "$work/wheel.log"; exit 1; }
ls "$work/dist"

echo "=== python: fresh venv, install the wheel, pytest"
# --system-site-packages: pytest, psutil and numpy come from Debian's packages
$debian -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install --no-deps "$work"/dist/procmon-*.whl >"$work/install.log" 2>&1 \
    || { cat "$work/install.log"; exit 1; }
# -rs: why each skipped test skipped; check-skips lists them (strict in CI)
(cd "$pkg/tests" && "$work/venv/bin/python" -m pytest -q -rs -p no:cacheprovider --junit-xml="$work/pytest.xml" .)
"$root/scripts/check-skips.py" "pytest:$work/pytest.xml"

[ "${1:-}" = "--quick" ] && exit 0

other=$(command -v python3)
if [ "$(readlink -f "$other")" != "$(readlink -f $debian)" ]; then
    echo "=== python: $other ($($other --version)): pip install into a venv, import"
    "$other" -m venv "$work/venv2"
    "$work/venv2/bin/python" -m pip install --no-deps "$pkg" >"$work/install2.log" 2>&1 \
        || { cat "$work/install2.log"; exit 1; }
    (cd / && "$work/venv2/bin/python" -c '
import os, procmon
me = procmon.snapshot().find(os.getpid())
assert me is not None and me.pid == os.getpid(), me
print("ok", procmon.__version__, procmon.__file__)')
fi

echo "=== python: editable install (pip install -e)"
$debian -m venv --system-site-packages "$work/venv3"
"$work/venv3/bin/python" -m pip install --no-deps -e "$pkg" >"$work/install3.log" 2>&1 \
    || { cat "$work/install3.log"; exit 1; }
(cd / && "$work/venv3/bin/python" -c "
import procmon, os
assert os.path.dirname(procmon.__file__) == '$pkg/procmon', procmon.__file__
print('ok editable', procmon.__file__)")
rm -f "$pkg"/procmon/_procmon*.so  # the editable build's module, not to be committed

echo "=== python: sdist, then a wheel from it alone"
$debian -c "
import sys; sys.path.insert(0, '$pkg/_build')
import procmon_build; print(procmon_build.build_sdist('$work'))"
mkdir "$work/unpacked" && tar -xzf "$work"/procmon-*.tar.gz -C "$work/unpacked"
$debian -m pip wheel --no-deps -w "$work/dist2" "$work"/unpacked/procmon-* >"$work/wheel2.log" 2>&1 \
    || { cat "$work/wheel2.log"; exit 1; }
ls "$work/dist2"
echo "=== python: a missing tool is named with its Debian package"
out=$(env PATH=/nonexistent $debian -c "
import sys; sys.path.insert(0, '$pkg/_build')
import procmon_build; procmon_build.build_wheel('$work')" 2>&1 || true)
for want in "apt install cmake" "apt install g++"; do
    grep -qF "$want" <<<"$out" || { echo "FAIL: no '$want' in: $out"; exit 1; }
done
echo "ok: $(tail -1 <<<"$out")"
echo "python: all passed"
