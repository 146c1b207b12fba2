//! Finds libprocmon to link, in this order:
//! 1. `PROCMON_DIR`: an installation prefix (its `lib*/libprocmon.a` is
//!    linked statically, else `libprocmon.so`);
//! 2. `pkg-config procmon` (the command, when installed and it knows
//!    procmon; set `PROCMON_NO_PKG_CONFIG=1` to skip it);
//! 3. the repository this crate sits in: the library is built with CMake
//!    into `OUT_DIR` and linked statically.
//!
//! No crates.io dependency: only the `cmake` and `pkg-config` commands.
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PROCMON_DIR");
    println!("cargo:rerun-if-env-changed=PROCMON_NO_PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    if let Ok(dir) = env::var("PROCMON_DIR") {
        from_prefix(Path::new(&dir));
    } else if env::var_os("PROCMON_NO_PKG_CONFIG").is_none() && from_pkg_config() {
    } else {
        from_source();
    }
}

fn from_prefix(prefix: &Path) {
    for libdir in ["lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu"] {
        let dir = prefix.join(libdir);
        if dir.join("libprocmon.a").is_file() {
            link_static(&dir);
            println!("cargo:include={}", prefix.join("include").display());
            return;
        }
        if dir.join("libprocmon.so").exists() {
            println!("cargo:rustc-link-search=native={}", dir.display());
            println!("cargo:rustc-link-lib=dylib=procmon");
            println!("cargo:include={}", prefix.join("include").display());
            return;
        }
    }
    panic!(
        "PROCMON_DIR={} has no lib/libprocmon.a or lib/libprocmon.so (install procmon there with \
         `cmake --install BUILD --prefix DIR`)",
        prefix.display()
    );
}

fn from_pkg_config() -> bool {
    let run = |args: &[&str]| -> Option<String> {
        let out = Command::new("pkg-config").args(args).output().ok()?;
        if out.status.success() {
            String::from_utf8(out.stdout).ok()
        } else {
            None
        }
    };
    let libs = match run(&["--libs", "procmon"]) {
        Some(libs) => libs,
        None => return false,
    };
    for flag in libs.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={}", lib);
        }
    }
    if let Some(cflags) = run(&["--cflags-only-I", "procmon"]) {
        if let Some(dir) = cflags.split_whitespace().find_map(|f| f.strip_prefix("-I")) {
            println!("cargo:include={}", dir);
        }
    }
    true
}

fn from_source() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let repo = manifest.join("../../..");
    if !repo.join("include/procmon.h").is_file() {
        panic!(
            "procmon not found: install it (then `pkg-config procmon` finds it), set PROCMON_DIR to \
             its prefix, or build this crate inside the procmon repository"
        );
    }
    let repo = repo.canonicalize().unwrap();
    for part in ["CMakeLists.txt", "include", "src", "cmake"] {
        println!("cargo:rerun-if-changed={}", repo.join(part).display());
    }
    let build = PathBuf::from(env::var("OUT_DIR").unwrap()).join("libprocmon");
    let ninja = Command::new("ninja").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    let mut configure = Command::new("cmake");
    configure.arg("-S").arg(&repo).arg("-B").arg(&build).args([
        "-DCMAKE_BUILD_TYPE=Release",
        "-DPROCMON_BUILD_TESTS=OFF",
        "-DPROCMON_BUILD_BENCH=OFF",
        "-DPROCMON_BUILD_CLI=OFF",
        "-DPROCMON_BUILD_EXAMPLES=OFF",
    ]);
    if ninja && !build.join("CMakeCache.txt").exists() {
        configure.args(["-G", "Ninja"]);
    }
    run(configure, "configure libprocmon with CMake (Debian: apt install cmake g++ libmimalloc-dev)");
    let mut compile = Command::new("cmake");
    compile.arg("--build").arg(&build).args(["--target", "procmon_static", "--parallel"]);
    if let Ok(jobs) = env::var("NUM_JOBS") {
        compile.arg(jobs);
    }
    run(compile, "build libprocmon");
    link_static(&build);
    println!("cargo:include={}", repo.join("include").display());
}

fn link_static(dir: &Path) {
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=procmon");
    // the core is C++; mimalloc is dlopen'ed at run time (no link needed)
    println!("cargo:rustc-link-lib=dylib=stdc++");
    println!("cargo:rustc-link-lib=dylib=dl");
}

fn run(mut cmd: Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| panic!("{}: cannot run {:?}: {}", what, cmd, e));
    if !status.success() {
        panic!("{}: {:?} failed with {}", what, cmd, status);
    }
}
