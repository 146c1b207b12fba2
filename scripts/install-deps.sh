#!/usr/bin/env bash
# Installs what procmon's build and every test suite need from Debian 12's
# packages, skipping what is already there. Idempotent; needs root (or sudo)
# only when something is missing. Usage: scripts/install-deps.sh
#
# The list is what scripts/test.sh actually runs, each command mapped to its
# package with `dpkg -S $(command -v X)`. A minimal Debian 12 (debootstrap
# --variant=minbase) already has: bash, dash (sh), coreutils (mktemp, od,
# base64, seq, dd, readlink, ...), findutils, grep, sed, tar, mawk (awk),
# util-linux, libc-bin (ldd), base-passwd (user nobody, the Python tests').
# Installing runs with --no-install-recommends, so what a package only
# recommends is listed here too.
#   build and C tests:
#     g++          the C++20 core (g++-12)
#     gcc          cc: the header and consumer tests, the examples' C89
#                  check, the Rust layout test ($CC, else cc)
#     libc6-dev    C headers for those
#     binutils     nm and readelf (abi_exports, install_rpath)
#     cmake        cmake and ctest (>= 3.22; Debian 12 has 3.25)
#     ninja-build  ninja, the CMake presets' generator
#     pkgconf      pkg-config: Criterion, cmocka and libproc2 at configure
#                  time, the consumer test, procmon-sys's build.rs
#     libmimalloc-dev  mimalloc's header (its library is loaded at run time)
#     libtomlplusplus-dev  toml++ for procmond's config, linked as a shared
#                  library (pkg-config tomlplusplus)
#     libmicrohttpd-dev  procmond's /metrics HTTP server, linked as a shared
#                  library (pkg-config libmicrohttpd)
#     libcriterion-dev, libcmocka-dev  the unit and concurrency suites
#     jq           the CLI test checks JSON with it
#     libncurses-dev  ncursesw, the terminal library of `procmon top`
#                  (pkg-config ncursesw)
#     tmux         the top test drives `procmon top` in a real terminal
#     valgrind     the performance gate counts instructions with it
#     python3      the performance gate (bench/gate/run.py)
#     clang-14, libclang-rt-14-dev  libFuzzer and the sanitizer runtimes
#                  for the journal reader's fuzz target (ctest journal_fuzz,
#                  tests/fuzz/run.sh)
#     abigail-tools  abidiff: the library's ABI against the last release's
#                  (ctest abi_diff, tests/abi/abi_diff.sh)
#     prometheus   Debian's real Prometheus 2.42 and its promtool: procmond's
#                  /metrics scraped and queried, and linted (ctest
#                  metrics_prometheus, tests/metrics/test_prometheus.py).
#                  Run as a plain process; its service is not wanted (below)
#   Python binding (scripts/test-python.sh):
#     pybind11-dev, python3-dev  the extension
#     python3-venv python3-pip   the wheel is built with pip, installed in a venv
#     python3-pytest             its test suite
#     python3-psutil             the tests compare with psutil (and bench/)
#     python3-numpy              the to_numpy tests (skipped without it)
#   Rust crates (scripts/test-rust.sh):
#     cargo        Debian's: rustc 1.63, the crates' MSRV (a newer cargo on
#                  PATH, e.g. rustup's, is used first)
#     rust-clippy  Debian's clippy for that cargo: the README promises clippy,
#                  and test-rust.sh runs it with -D warnings (also with the
#                  MSRV toolchain when a newer cargo comes first)
#     bindgen      the ABI drift test runs procmon-sys/generate.sh
#     libclang1-14 the libclang that bindgen loads at run time: Debian's
#                  bindgen does not depend on it ("Unable to find libclang")
#     libclang-common-14-dev  clang's own headers (stddef.h, stdint.h) that
#                  libclang needs to parse procmon.h
#   benchmarks (built by default, not run by the tests):
#     hyperfine, procps (ps), libproc2-dev (enumerate_bench compares with
#     it), time, gnuplot-nox (bench/plot.py)
#     prometheus-process-exporter  the reference procmond's /metrics is
#     measured against (bench/metrics_bench.py), run as a plain process;
#     its service is not wanted either
#
# prometheus and prometheus-process-exporter ship services that their
# postinst enables and starts (invoke-rc.d, deb-systemd-invoke): a fresh
# install would leave Prometheus on 0.0.0.0:9090 and the exporter on :9256
# running, and starting at every boot, disturbing the benchmarks' CPU
# figures. When this script installs them, a policy-rc.d (exit 101, which
# both honour) keeps them from starting during the install unless one is
# already there, and the units it enabled are disabled afterwards.
set -euo pipefail

packages=(g++ gcc libc6-dev binutils cmake ninja-build pkgconf libmimalloc-dev libtomlplusplus-dev libmicrohttpd-dev
          libcriterion-dev libcmocka-dev jq libncurses-dev tmux valgrind python3 clang-14 libclang-rt-14-dev
          abigail-tools
          pybind11-dev python3-dev python3-venv python3-pip python3-pytest python3-psutil python3-numpy
          cargo rust-clippy bindgen libclang1-14 libclang-common-14-dev
          prometheus
          hyperfine procps libproc2-dev time gnuplot-nox prometheus-process-exporter)
# the packages above with a service the tests and benchmarks start by hand
services=(prometheus prometheus-process-exporter)

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
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
        echo "install-deps: not root and no sudo: run as root: apt-get install ${missing[*]}" >&2
        exit 1
    }
    sudo="sudo"
fi
new_services=()
for s in "${services[@]}"; do
    [[ " ${missing[*]} " == *" $s "* ]] && new_services+=("$s")
done
policy=/usr/sbin/policy-rc.d
if [ ${#new_services[@]} -gt 0 ] && [ ! -e "$policy" ]; then
    # deny every service start while apt runs (invoke-rc.d(8)), then remove it
    trap '$sudo rm -f "$policy"' EXIT
    printf '#!/bin/sh\n# scripts/install-deps.sh: no service starts while it installs\nexit 101\n' |
        $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
fi
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for s in "${new_services[@]}"; do
    # stopped (in case a policy-rc.d of the machine's own let it start) and not started at boot
    if [ -d /run/systemd/system ]; then
        $sudo systemctl disable --now "$s.service" >/dev/null 2>&1 || true
    elif command -v update-rc.d >/dev/null; then
        $sudo invoke-rc.d "$s" stop >/dev/null 2>&1 || true
        $sudo update-rc.d "$s" disable >/dev/null 2>&1 || true
    fi
done
echo "install-deps: done"
