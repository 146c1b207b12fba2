#!/usr/bin/env bash
# Installs what procmon needs from Debian's packages, skipping what is
# already there. Idempotent; needs root (or sudo) only when something is
# missing. Usage: scripts/install-deps.sh
#   build and tests: compiler, CMake, Ninja, pkgconf, mimalloc, Criterion,
#     cmocka, jq (the CLI test checks JSON with it), valgrind (the
#     performance gate counts instructions with it)
#   Python binding: pybind11-dev, python3-dev, python3-venv, python3-pip (pip
#     builds the wheel), python3-pytest, python3-numpy (its to_numpy tests)
#   Rust crates: bindgen (the ABI drift test), cargo (Debian's: rustc 1.63,
#     the crates' MSRV; a newer cargo on PATH, e.g. rustup's, is used first)
#   benchmarks: hyperfine, procps (ps), libproc2-dev, python3-psutil, time,
#     gnuplot-nox (bench/plot.py)
set -euo pipefail

packages=(g++ cmake ninja-build pkgconf libmimalloc-dev libcriterion-dev libcmocka-dev jq valgrind
          pybind11-dev python3-dev python3-venv python3-pip python3-pytest python3-numpy
          bindgen cargo
          hyperfine procps libproc2-dev python3 python3-psutil time gnuplot-nox)

missing=()
for p in "${packages[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
