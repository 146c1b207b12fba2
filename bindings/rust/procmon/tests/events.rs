mod common;

use std::os::unix::io::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant, UNIX_EPOCH};

use common::wait_until;
use procmon::{Context, ErrorKind, Event, EventSource, EventTypes, ExitStatus, Options, ProcessEvent, SubscribeOptions, Subscription};

fn me() -> i32 {
    std::process::id() as i32
}

/// Events of pid until one for which `last` is true.
fn collect(sub: &mut Subscription, pid: i32, last: fn(&Event) -> bool) -> Vec<Event> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(e) = sub.next_timeout(Duration::from_millis(200)).unwrap() {
            if e.process().map(|p| p.pid) == Some(pid) {
                let done = last(&e);
                got.push(e);
                if done {
                    return got;
                }
            }
        }
    }
    panic!("no final event for {}; got {:?}", pid, got);
}

#[test]
fn a_child_that_execs_and_exits_with_5() {
    let ctx = Context::new().unwrap();
    let mut sub = ctx.subscribe(&SubscribeOptions::new().descendants_of(me())).unwrap();
    let mut child = Command::new("/bin/sh").args(["-c", "exit 5"]).spawn().unwrap();
    child.wait().unwrap();
    let events = collect(&mut sub, child.id() as i32, |e| matches!(e, Event::Exit { .. }));
    assert!(matches!(events[0], Event::Start(_)), "{:?}", events);
    assert!(matches!(events[1], Event::Exec(_)), "{:?}", events);
    match &events[2] {
        Event::Exit { process, status, .. } => {
            assert_eq!(process.ppid, me());
            if ctx.stats().unwrap().event_source == Some(EventSource::Netlink) {
                assert_eq!(*status, ExitStatus::Code(5));
            }
        }
        other => panic!("{:?}", other),
    }
    let seqs: Vec<u64> = events.iter().map(|e| e.process().unwrap().seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn stats_time_each_returned_event_by_stage() {
    let ctx = Context::new().unwrap();
    let mut sub = ctx.subscribe(&SubscribeOptions::new().descendants_of(me())).unwrap();
    let mut child = Command::new("/bin/sh").args(["-c", "exit 0"]).spawn().unwrap();
    child.wait().unwrap();
    collect(&mut sub, child.id() as i32, |e| matches!(e, Event::Exit { .. }));
    let st = sub.stats().unwrap();
    assert!(st.timed >= 3, "{:?}", st);
    for l in [st.latency_receive, st.latency_enrich, st.latency_deliver, st.latency_total] {
        assert!(l.p50 <= l.p99 && l.p99 <= l.max && l.max <= st.latency_total.max, "{:?}", st);
    }
    assert!(st.latency_total.p50 > Duration::ZERO);
}

#[test]
fn the_exec_event_carries_the_new_image() {
    let ctx = Context::new().unwrap();
    let mut sub = ctx.subscribe(&SubscribeOptions::new().events(EventTypes::EXEC).descendants_of(me())).unwrap();
    let mut child = Command::new("/bin/sleep").arg("0.1").spawn().unwrap();
    let events = collect(&mut sub, child.id() as i32, |e| matches!(e, Event::Exec(_)));
    child.wait().unwrap();
    match events.last().unwrap() {
        Event::Exec(p) => {
            assert_eq!(p.name, "sleep");
            assert_eq!(p.args().collect::<Vec<_>>(), ["/bin/sleep", "0.1"]);
            assert!(!p.partial);
        }
        other => panic!("{:?}", other),
    }
}

#[test]
fn a_stalled_subscription_reports_lost_with_the_count() {
    let ctx = Context::new().unwrap();
    let mut sub = ctx.subscribe(&SubscribeOptions::new().descendants_of(me()).queue(2)).unwrap();
    for _ in 0..10 {
        Command::new("/bin/true").status().unwrap();
    }
    wait_until("drops", || sub.stats().unwrap().dropped > 0);
    std::thread::sleep(Duration::from_millis(200));
    let mut lost = 0;
    let mut seen_lost = false;
    while let Some(e) = sub.next_timeout(Duration::from_millis(300)).unwrap() {
        if let Event::Lost { count } = e {
            lost += count;
            seen_lost = true;
        }
    }
    assert!(seen_lost);
    let stats = sub.stats().unwrap();
    assert_eq!(lost, stats.dropped);
    assert_eq!(stats.lost, stats.dropped);
}

#[test]
fn polling_source_and_the_fd_for_poll() {
    let ctx = Context::with_options(&Options::default().event_source(EventSource::Polling).poll_interval_ms(50)).unwrap();
    let mut sub = ctx.subscribe(&SubscribeOptions::new().descendants_of(me())).unwrap();
    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    extern "C" {
        fn poll(fds: *mut PollFd, n: u64, timeout: i32) -> i32;
    }
    let mut pfd = PollFd { fd: sub.as_raw_fd(), events: 1, revents: 0 };
    assert_eq!(unsafe { poll(&mut pfd, 1, 0) }, 0, "nothing waits yet");
    let mut child = Command::new("/bin/sleep").arg("0.4").spawn().unwrap();
    assert_eq!(unsafe { poll(&mut pfd, 1, 5000) }, 1, "readable once the start is queued");
    let mut events = collect(&mut sub, child.id() as i32, |e| matches!(e, Event::Start(_)));
    child.wait().unwrap(); // reaped: a zombie would still be a process to polling
    events.extend(collect(&mut sub, child.id() as i32, |e| matches!(e, Event::Exit { .. })));
    assert!(matches!(events.last().unwrap(), Event::Exit { status: ExitStatus::Unknown, .. }));
    assert_eq!(ctx.stats().unwrap().event_source, Some(EventSource::Polling));
}

#[test]
fn iteration_ends_when_the_context_closes() {
    let ctx = Context::new().unwrap();
    let mut sub = ctx.subscribe(&SubscribeOptions::new().name("no-such-name")).unwrap();
    drop(ctx);
    assert!(sub.next().is_none());
    assert_eq!(sub.next_timeout(Duration::from_millis(10)).unwrap_err().kind(), ErrorKind::Closed);
}

#[test]
fn subscriptions_move_between_threads() {
    let ctx = Context::new().unwrap();
    let mut sub = ctx.subscribe(&SubscribeOptions::new().descendants_of(me())).unwrap();
    let reader = std::thread::spawn(move || sub.next_timeout(Duration::from_secs(10)).unwrap().is_some());
    Command::new("/bin/true").status().unwrap();
    assert!(reader.join().unwrap());
}

#[test]
fn dispatch_stops_on_false_and_a_panic_never_crosses_c() {
    let ctx = Context::new().unwrap();
    let mut sub = ctx.subscribe(&SubscribeOptions::new().descendants_of(me())).unwrap();
    for _ in 0..3 {
        Command::new("/bin/true").status().unwrap();
    }
    wait_until("nine events", || sub.stats().unwrap().queue_depth >= 9);
    let mut seen = 0;
    assert_eq!(sub.dispatch(100, |_| {
        seen += 1;
        seen < 2
    }).unwrap(), 2);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sub.dispatch(100, |_| panic!("from the callback")).unwrap();
    }));
    assert!(panicked.is_err());
    let rest = sub.dispatch(100, |_| true).unwrap();
    assert!(rest >= 6, "{} events left after the panic", rest);
}

#[test]
fn bad_subscribe_options_are_invalid_argument() {
    let ctx = Context::new().unwrap();
    for opts in [SubscribeOptions::new().queue(1), SubscribeOptions::new().name("[x"), SubscribeOptions::new().descendants_of(-3)] {
        assert_eq!(ctx.subscribe(&opts).err().unwrap().kind(), ErrorKind::InvalidArgument);
    }
}

#[test]
fn debug_shows_names_paths_and_arguments_as_text() {
    let p = ProcessEvent {
        pid: 42,
        ppid: 1,
        uid: Some(1000),
        seq: 7,
        time: UNIX_EPOCH,
        start_ticks: 99,
        start_time: UNIX_EPOCH,
        name: std::os::unix::ffi::OsStringExt::from_vec(b"caf\xe9".to_vec()),
        full_name: std::os::unix::ffi::OsStringExt::from_vec(b"caf\xe9".to_vec()),
        exe: "/usr/bin/prog".into(),
        argv: b"prog\0--flag=x y\0caf\xe9\n\0".to_vec(),
        synthesized: false,
        partial: false,
        thread: false,
    };
    let shown = format!("{:?}", Event::Exec(p));
    assert!(shown.starts_with("Exec(ProcessEvent { pid: 42, ppid: 1, uid: Some(1000), seq: 7,"), "{}", shown);
    assert!(shown.contains(r#"name: "caf\xE9", full_name: "caf\xE9", exe: "/usr/bin/prog", argv: ["prog", "--flag=x y", "caf\xE9\n"]"#), "{}", shown);
    assert!(shown.ends_with("synthesized: false, partial: false, thread: false })"), "{}", shown);
}

#[test]
fn a_command_line_filter_and_undecidable_events() {
    let ctx = Context::new().unwrap();
    let base = SubscribeOptions::new().descendants_of(me()).cmdline("/bin/sleep 0.3141");
    let mut sub = ctx.subscribe(&base).unwrap();
    let mut passing = ctx.subscribe(&base.undecidable(true)).unwrap();
    let mut child = Command::new("/bin/sleep").arg("0.3141").spawn().unwrap();
    Command::new("/bin/true").status().unwrap(); // filtered out
    let events = collect(&mut sub, child.id() as i32, |e| matches!(e, Event::Exit { .. }));
    child.wait().unwrap();
    // the start (still this test's argv) is filtered out; the exec and exit pass
    assert!(matches!(events[0], Event::Exec(_)), "{:?}", events);
    for e in &events {
        assert_eq!(e.process().unwrap().args().collect::<Vec<_>>(), ["/bin/sleep", "0.3141"], "{:?}", e);
    }
    collect(&mut passing, child.id() as i32, |e| matches!(e, Event::Exit { .. }));
    let st = sub.stats().unwrap();
    assert!(st.filtered >= 3 && st.undecidable <= st.filtered, "{:?}", st);
    assert!(format!("{:?}", st).contains("undecidable"));
    let e = ctx.subscribe(&SubscribeOptions::new().cmdline("[x")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}
