//! The examples as Unix tools: a reader that goes away, --help, unknown
//! flags. Runs the example binaries, built first (with the cargo running
//! this test, into its target directory: `cargo test --test examples`
//! alone does not build them, and would run stale ones).
use std::fs::File;
use std::os::unix::io::FromRawFd;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Once;

fn example(name: &str) -> Command {
    // this test is target/<profile dir>/deps/examples-<hash>
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo.args(["build", "--offline", "--examples", "-p", "procmon"]);
        match profile_dir.file_name().and_then(|p| p.to_str()) {
            Some("debug") | None => {}
            Some(profile) => {
                cargo.args(["--profile", profile]);
            }
        }
        let out = cargo.output().expect("run cargo");
        assert!(out.status.success(), "{:?}: {}", cargo, text(&out.stderr));
    });
    let path: PathBuf = profile_dir.join("examples").join(name);
    assert!(path.is_file(), "no {}", path.display());
    let mut cmd = Command::new(path);
    cmd.stdin(Stdio::null());
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A pipe whose reading end is already closed: every write to it fails
/// with EPIPE (as `ps | head` once head has its line, without the race).
fn pipe_without_reader() -> File {
    extern "C" {
        fn pipe2(fds: *mut i32, flags: i32) -> i32;
    }
    const O_CLOEXEC: i32 = 0o2000000; // no other test's child inherits it
    let mut fds = [-1; 2];
    // SAFETY: fds has room for the two descriptors, which we then own.
    assert_eq!(unsafe { pipe2(fds.as_mut_ptr(), O_CLOEXEC) }, 0);
    drop(unsafe { File::from_raw_fd(fds[0]) });
    unsafe { File::from_raw_fd(fds[1]) }
}

#[test]
fn ps_stops_quietly_when_its_reader_is_gone() {
    let out = example("ps").stdout(pipe_without_reader()).stderr(Stdio::piped()).output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "nothing on stderr, no panic");

    let ps = example("ps").get_program().to_owned();
    let out = Command::new("/bin/bash").args(["-c", "set -o pipefail; \"$0\" | head -1"]).arg(ps)
        .stderr(Stdio::piped()).output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 1);
    assert!(text(&out.stdout).contains("PID"));
}

fn run(name: &str, args: &[&str]) -> Output {
    example(name).args(args).output().unwrap()
}

#[test]
fn every_example_has_help_and_refuses_unknown_flags() {
    for (name, synopsis) in [("ps", "[NAME_GLOB]"), ("watch", "[SECONDS]"), ("bench", "[N [ROUNDS]]")] {
        for help in ["--help", "-h"] {
            let out = run(name, &[help]);
            assert!(out.status.success(), "{} {}: {:?}", name, help, out.status);
            let usage = format!("usage: {} {}\n", name, synopsis);
            assert!(text(&out.stdout).starts_with(&usage), "{} {}: {}", name, help, text(&out.stdout));
            assert!(text(&out.stdout).lines().count() > 1, "a description below the usage line");
        }
        let out = run(name, &["--no-such-flag"]);
        assert_eq!(out.status.code(), Some(2), "{}: {:?}", name, out.status);
        assert_eq!(text(&out.stdout), "");
        let err = text(&out.stderr);
        assert!(err.contains("unknown option --no-such-flag") && err.contains(&format!("usage: {} ", name)), "{}", err);
    }
    for (name, args) in [("ps", &["a", "b"][..]), ("watch", &["soon"][..]), ("bench", &["1", "x"][..])] {
        let out = run(name, args);
        assert_eq!(out.status.code(), Some(2), "{} {:?}: {:?}", name, args, out.status);
        assert!(text(&out.stderr).contains("usage:"), "{}", text(&out.stderr));
    }
}

#[test]
fn a_pattern_after_double_dash_may_start_with_a_dash() {
    let out = run("ps", &["--", "-no-such-process-*"]);
    assert!(out.status.success(), "{:?}: {}", out.status, text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 1, "the header alone: {}", text(&out.stdout));
    assert_eq!(text(&out.stderr), "0 processes\n");
}
