mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use common::{wait_exec, wait_execed, wait_until, Kid};
use procmon::{Context, ErrorKind, Fields, Options, Query, Snapshot};

#[test]
fn finds_itself_with_pid_ppid_and_argv() {
    let ctx = Context::new().unwrap();
    let snap = ctx.snapshot().unwrap();
    let me = snap.find(std::process::id() as i32).expect("this process");
    assert_eq!(me.pid(), std::process::id() as i32);
    assert_eq!(me.ppid() as u32, std::os::unix::process::parent_id());
    let args: Vec<&OsStr> = me.args().unwrap().collect();
    let expected: Vec<std::ffi::OsString> = std::env::args_os().collect();
    assert_eq!(args, expected.iter().map(|a| a.as_os_str()).collect::<Vec<_>>());
    assert_eq!(me.exe().unwrap(), std::fs::read_link("/proc/self/exe").unwrap().as_os_str());
    assert!(snap.len() > 1 && snap.iter().len() == snap.len());
    let pids: Vec<i32> = snap.iter().map(|p| p.pid()).collect();
    assert!(pids.windows(2).all(|w| w[0] < w[1]), "sorted by pid");
    assert!(snap.find(i32::MAX).is_none());
}

#[test]
fn a_non_utf8_argument_round_trips_its_bytes() {
    let odd = OsStr::from_bytes(b"caf\xe9 \xff\xfe and a ) paren\nnewline");
    let kid = Kid::spawn(Command::new("/bin/sh").args(["-c", "sleep 60; :", "sh"]).arg(odd));
    wait_execed(kid.pid());
    let ctx = Context::new().unwrap();
    // exe changes early in execve, the argument area is set up a moment later
    wait_until("the new argv", || {
        let snap = ctx.query(&Query::new().pids(&[kid.pid()]).refresh()).unwrap();
        let n = snap.find(kid.pid()).and_then(|p| p.args()).map_or(0, |a| a.count());
        n == 5
    });
    let snap = ctx.query(&Query::new().pids(&[kid.pid()])).unwrap();
    let p = snap.find(kid.pid()).unwrap();
    let args: Vec<&OsStr> = p.args().unwrap().collect();
    assert_eq!(args, [OsStr::new("/bin/sh"), OsStr::new("-c"), OsStr::new("sleep 60; :"), OsStr::new("sh"), odd]);
    assert_eq!(p.argv_bytes().unwrap(), &b"/bin/sh\0-c\0sleep 60; :\0sh\0caf\xe9 \xff\xfe and a ) paren\nnewline\0"[..]);
    // {:?} shows text, as OsStr does, not lists of bytes
    let shown = format!("{:?}", p);
    let argv = r#"argv: Some(["/bin/sh", "-c", "sleep 60; :", "sh", "caf\xE9 \xFF\xFE and a ) paren\nnewline"])"#;
    assert!(shown.contains(argv), "{}", shown);
    assert!(shown.contains(r#"name: "sh""#) && shown.contains(r#"exe: Some("/"#), "{}", shown);
    assert!(shown.contains(&format!("pid: {}, ppid: {}", kid.pid(), std::process::id())), "{}", shown);
}

#[test]
fn groups_not_read_are_none() {
    let ctx = Context::new().unwrap();
    let me = std::process::id() as i32;
    let snap = ctx.query(&Query::new().fields(Fields::CPU).pids(&[me])).unwrap();
    let p = snap.get(0).unwrap();
    assert!(p.cpu_times().is_some() && p.cpu_percent().is_some());
    assert!(p.exe().is_none() && p.args().is_none() && p.uids().is_none() && p.rss().is_none());
    assert!(p.threads().is_none() && p.cwd().is_none() && p.io().is_none() && p.cgroup().is_none());
    assert!(p.fields().contains(Fields::CPU) && !p.fields().contains(Fields::EXE));
    let all = ctx.query(&Query::new().fields(Fields::ALL).pids(&[me])).unwrap();
    let p = all.get(0).unwrap();
    assert_eq!(p.cwd().unwrap(), std::env::current_dir().unwrap().as_os_str());
    assert!(p.fd_count().unwrap() > 0 && p.io().unwrap().rchar > 0 && p.rss().unwrap() > 0);
    assert_eq!(p.uids().unwrap().effective, unsafe_geteuid());
}

fn unsafe_geteuid() -> u32 {
    extern "C" {
        fn geteuid() -> u32;
    }
    // SAFETY: geteuid cannot fail
    unsafe { geteuid() }
}

#[test]
fn filters_by_name_and_uid() {
    let kid = Kid::spawn(Command::new("/bin/sleep").arg("60"));
    wait_exec(kid.pid(), "sleep");
    let ctx = Context::new().unwrap();
    let named = ctx.query(&Query::new().name("sle?p")).unwrap();
    assert!(named.find(kid.pid()).is_some());
    assert!(named.iter().all(|p| p.name() == "sleep"));
    let mine = ctx.query(&Query::new().uid(unsafe_geteuid())).unwrap();
    assert!(mine.iter().all(|p| p.uids().unwrap().effective == unsafe_geteuid()));
}

#[test]
fn snapshots_are_send_and_sync_and_outlive_their_context() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let snap: Snapshot = Context::new().unwrap().snapshot().unwrap(); // the context is gone
    send_sync(&snap);
    let me = std::process::id() as i32;
    let found = std::thread::scope(|s| s.spawn(|| snap.find(me).map(|p| p.pid())).join().unwrap());
    assert_eq!(found, Some(me));
    let ctx = Context::new().unwrap();
    std::thread::spawn(move || drop(ctx.snapshot().unwrap())).join().unwrap(); // Context is Send
}

#[test]
fn errors_map_to_their_kinds() {
    let ctx = Context::new().unwrap();
    let e = ctx.query(&Query::new().name("[unclosed")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("name_glob"), "{}", e);
    assert_eq!(e.code(), -1);
    let e = Context::with_options(&Options::default().proc_root("/nonexistent/proc")).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("/nonexistent/proc"));
    let e = Context::with_options(&Options::default().memory_cap(1000)).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = ctx.query(&Query::new().pids(&[0])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn out_of_memory_then_usable() {
    let big = "x".repeat(120 * 1024);
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "sleep 60; :", "sh"]);
    for _ in 0..10 {
        cmd.arg(&big);
    }
    let kid = Kid::spawn(&mut cmd);
    wait_execed(kid.pid());
    let ctx = Context::with_options(&Options::default().memory_cap(1 << 20)).unwrap();
    let mut err = None;
    wait_until("the 1.2 MB argv to exceed the 1 MiB cap", || {
        match ctx.query(&Query::new().fields(Fields::ARGV).pids(&[kid.pid()])) {
            Err(e) => {
                err = Some(e);
                true
            }
            Ok(_) => false,
        }
    });
    assert_eq!(err.unwrap().kind(), ErrorKind::OutOfMemory);
    let me = std::process::id() as i32;
    assert!(ctx.query(&Query::new().pids(&[me])).unwrap().find(me).is_some(), "usable after ENOMEM");
    assert!(ctx.stats().unwrap().memory_peak <= 1 << 20);
}
