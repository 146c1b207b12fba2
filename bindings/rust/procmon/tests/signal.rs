//! Signals by identity: pid and start time, never a reused pid.
mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use common::{fixture_proc_root, wait_exec, Kid};
use procmon::{Context, ErrorKind, Event, EventTypes, Options, Query, Snapshot, SubscribeOptions};

const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

/// A child sleeping 30 s, a context, and a snapshot that has it.
fn sleeper() -> (Kid, Context, Snapshot) {
    let kid = Kid::spawn(Command::new("/bin/sleep").arg("30"));
    wait_exec(kid.pid(), "sleep");
    let ctx = Context::new().unwrap();
    let snap = ctx.query(&Query::new().pids(&[kid.pid()])).unwrap();
    (kid, ctx, snap)
}

#[test]
fn terminate_ends_a_child_with_sigterm() {
    let (mut kid, ctx, snap) = sleeper();
    let p = snap.find(kid.pid()).unwrap();
    p.terminate(&ctx).unwrap();
    assert_eq!(kid.0.wait().unwrap().signal(), Some(SIGTERM));
    // reaped: the identity is gone now, for the record and for the raw call
    assert_eq!(p.signal(&ctx, 0).unwrap_err().kind(), ErrorKind::Gone);
    assert_eq!(ctx.signal(p.pid(), p.start_ticks(), 0).unwrap_err().kind(), ErrorKind::Gone);
}

#[test]
fn another_start_time_is_gone_and_the_process_lives() {
    let (mut kid, ctx, snap) = sleeper();
    let p = snap.find(kid.pid()).unwrap();
    // as if the pid belonged to another process than the one seen
    let err = ctx.signal(p.pid(), p.start_ticks() + 1, SIGKILL).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Gone, "{}", err);
    assert_eq!(err.code(), procmon_sys::PROCMON_ENOENT);
    std::thread::sleep(Duration::from_millis(50));
    assert!(kid.0.try_wait().unwrap().is_none(), "the child must live on");
    p.signal(&ctx, 0).unwrap(); // its own identity: there
    assert_eq!(ctx.signal(p.pid(), p.start_ticks(), 65).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(ctx.signal(0, 0, 0).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn an_event_kills_the_process_it_is_about() {
    let ctx = Context::new().unwrap();
    let me = std::process::id() as i32;
    let mut sub = ctx.subscribe(&SubscribeOptions::new().events(EventTypes::EXEC).descendants_of(me).cmdline("*sleep 31")).unwrap();
    let mut kid = Kid::spawn(Command::new("/bin/sleep").arg("31"));
    let exec = loop {
        match sub.next_timeout(Duration::from_secs(10)).unwrap().expect("the exec of sleep 31") {
            Event::Exec(p) if p.pid == kid.pid() => break p,
            _ => {}
        }
    };
    exec.kill(&ctx).unwrap();
    assert_eq!(kid.0.wait().unwrap().signal(), Some(SIGKILL));
    assert_eq!(exec.terminate(&ctx).unwrap_err().kind(), ErrorKind::Gone);
}

#[test]
fn a_fixture_proc_root_cannot_signal() {
    let root = fixture_proc_root("signal", &[(100, 1)]);
    let ctx = Context::with_options(&Options::default().proc_root(&root)).unwrap();
    let snap = ctx.snapshot().unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    let err = snap.find(100).unwrap().terminate(&ctx).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{}", err);
}
