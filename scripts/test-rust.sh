#!/usr/bin/env bash
# The Rust crates (bindings/rust), offline: build and test with the cargo on
# PATH (tests, doctests, examples, the ABI drift and layout guards), clippy
# with -D warnings when the toolchain has it, cargo doc with rustdoc's
# warnings as errors, the MSRV build, tests and clippy with Debian's rustc
# 1.63 when it is installed, then linking an installed libprocmon through
# PROCMON_DIR and through pkg-config. A clippy that is missing is a skip
# (scripts/check-skips.py: a failure in CI).
# Usage: scripts/test-rust.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_NET_OFFLINE=true
# This repository's library, not one that happens to be installed; the
# committed bindings must match the header (bindgen is installed here).
export PROCMON_NO_PKG_CONFIG=1 PROCMON_REQUIRE_BINDGEN=1

if ! command -v cargo >/dev/null; then
    echo "=== rust: no cargo on PATH: installing Debian's"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cargo >/dev/null
fi
cd "$root/bindings/rust"

echo "=== rust: $(cargo --version): build, test"
cargo build --offline --all-targets
cargo test --offline 2>&1 | tee "$work/test.log"
"$root/scripts/check-skips.py" "cargo:$work/test.log"  # ignored tests (strict in CI)

if cargo clippy --version >/dev/null 2>&1; then
    echo "=== rust: clippy -D warnings"
    cargo clippy --offline --all-targets -- -D warnings
else
    echo "=== rust: clippy is not part of this toolchain: skipped"
    "$root/scripts/check-skips.py" "step:rust-clippy:clippy is not part of $(cargo --version)"
fi

echo "=== rust: cargo doc, warnings are errors"
RUSTDOCFLAGS="-D warnings" cargo doc --offline --no-deps -q

if [ -x /usr/bin/cargo ] && [ "$(readlink -f "$(command -v cargo)")" != /usr/bin/cargo ]; then
    echo "=== rust: MSRV: $(/usr/bin/rustc --version) (Debian's), build and test"
    env PATH=/usr/bin:/bin CARGO_TARGET_DIR="$root/bindings/rust/target/msrv" cargo test --offline -q
    # Older clippy, other lints. An empty CARGO_HOME: cargo looks for
    # cargo-clippy in $CARGO_HOME/bin before PATH, where rustup's proxy would
    # run the newest clippy instead of Debian's.
    if [ -x /usr/bin/cargo-clippy ]; then
        echo "=== rust: MSRV clippy -D warnings ($(env PATH=/usr/bin:/bin CARGO_HOME="$work/cargo-home" cargo clippy --version))"
        env PATH=/usr/bin:/bin CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$root/bindings/rust/target/msrv" \
            cargo clippy --offline --all-targets -- -D warnings
    else
        echo "=== rust: MSRV clippy: Debian's rust-clippy is not installed: skipped"
        "$root/scripts/check-skips.py" "step:rust-clippy-msrv:rust-clippy is not installed (scripts/install-deps.sh)"
    fi
fi

echo "=== rust: link an installed libprocmon (PROCMON_DIR, then pkg-config)"
cmake -S "$root" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPROCMON_BUILD_TESTS=OFF \
      -DPROCMON_BUILD_BENCH=OFF -DPROCMON_BUILD_CLI=OFF -DPROCMON_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$work/build" >/dev/null
cmake --install "$work/build" --prefix "$work/prefix" >/dev/null
PROCMON_DIR="$work/prefix" CARGO_TARGET_DIR="$work/target" cargo run --offline -q --example ps >"$work/ps1.txt"
grep -q "^ *$$ " "$work/ps1.txt"  # this script is in the table
libdir=$(dirname "$(find "$work/prefix" -name procmon.pc)")
env -u PROCMON_NO_PKG_CONFIG PKG_CONFIG_PATH="$libdir" LD_LIBRARY_PATH="$(dirname "$libdir")" \
    CARGO_TARGET_DIR="$work/target-pc" cargo run --offline -q --example ps >"$work/ps2.txt"
grep -q "^ *$$ " "$work/ps2.txt"
deps=$(LD_LIBRARY_PATH="$(dirname "$libdir")" ldd "$work"/target-pc/debug/examples/ps)  # whole: no SIGPIPE under pipefail
grep -q "libprocmon.so.0 => $(dirname "$libdir")" <<<"$deps"
echo "ok: PROCMON_DIR (static) $(wc -l <"$work/ps1.txt") lines, pkg-config (shared) $(wc -l <"$work/ps2.txt") lines"
echo "rust: all passed"
