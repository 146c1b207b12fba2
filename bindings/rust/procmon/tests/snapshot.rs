mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use common::{fixture_proc_root, wait_exec, wait_execed, wait_until, Kid};
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

/// sh -> (cat, sh -> (cat, cat)), all reading the pipe through: closing
/// its end makes each cat, then each sh, exit and be reaped by its parent.
struct Tree(std::process::Child);

impl Tree {
    fn spawn() -> Tree {
        let child = Command::new("/bin/sh")
            .args(["-c", "cat | /bin/sh -c 'cat | cat'"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Tree(child)
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

#[test]
fn children_descendants_and_parent_of_a_spawned_tree() {
    let tree = Tree::spawn();
    let root = tree.0.id() as i32;
    let ctx = Context::new().unwrap();
    let cats = |snap: &Snapshot| snap.descendants(root).iter().filter(|p| p.name() == "cat").count();
    wait_until("three cats under the tree", || cats(&ctx.snapshot().unwrap()) == 3);
    let snap = ctx.snapshot().unwrap();
    let names = |ps: &[procmon::Process]| -> Vec<String> { ps.iter().map(|p| p.name().to_string_lossy().into_owned()).collect() };

    let children = snap.children(root);
    assert_eq!(children.len(), 2, "{:?}", children);
    let inner = *children.iter().find(|p| p.name() == "sh").expect("the inner sh");
    assert!(children.iter().all(|p| p.ppid() == root));
    assert!(children.windows(2).all(|w| w[0].pid() < w[1].pid()), "pid order");

    let all = snap.descendants(root);
    assert_eq!(all.len(), 4, "{:?}", all);
    let mut sorted = names(&all);
    sorted.sort();
    assert_eq!(sorted, ["cat", "cat", "cat", "sh"]);
    let first: Vec<i32> = all[..2].iter().map(|p| p.pid()).collect();
    assert_eq!(first, children.iter().map(|p| p.pid()).collect::<Vec<_>>(), "breadth first");
    assert!(all[2..].iter().all(|p| p.ppid() == inner.pid()));
    assert_eq!(snap.children(inner.pid()).len(), 2);
    assert_eq!(snap.descendants(inner.pid()).len(), 2);
    assert!(snap.descendants(all[3].pid()).is_empty());

    assert_eq!(snap.parent(all[3].pid()).map(|p| p.pid()), Some(inner.pid()));
    assert_eq!(snap.parent(inner.pid()).map(|p| p.pid()), Some(root));
    assert!(snap.parent(i32::MAX).is_none());
    assert!(snap.descendants(1).iter().any(|p| p.pid() == root), "under init, or a subreaper under it");
    assert!(snap.descendants(i32::MAX).is_empty());
}

#[test]
fn descendants_stop_at_a_cycle_of_parents() {
    // pids 100 and 200 each other's parent, as pid reuse during a snapshot can make them
    let root = fixture_proc_root("cycle", &[(100, 200), (200, 100), (300, 200)]);
    let ctx = Context::with_options(&Options::default().proc_root(&root)).unwrap();
    let snap = ctx.query(&Query::new().fields(Fields::BASIC)).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(snap.iter().map(|p| (p.pid(), p.ppid())).collect::<Vec<_>>(), [(100, 200), (200, 100), (300, 200)]);
    let pids = |v: Vec<procmon::Process>| v.iter().map(|p| p.pid()).collect::<Vec<_>>();
    assert_eq!(pids(snap.descendants(100)), [200, 300]);
    assert_eq!(pids(snap.descendants(200)), [100, 300]);
    assert_eq!(pids(snap.children(200)), [100, 300]);
    assert_eq!(snap.parent(100).map(|p| p.pid()), Some(200));
}

#[test]
fn full_name_and_cmdline_filters_see_past_the_15_byte_comm() {
    let dir = std::env::temp_dir().join(format!("procmon-rs-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("a_very_long_program_name_for_procmon");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("/bin/sleep", &link).unwrap();
    let kid = Kid::spawn(Command::new(&link).arg("30"));
    wait_until("the long-named exec", || std::fs::read(format!("/proc/{}/comm", kid.pid())).map_or(false, |c| c.starts_with(b"a_very")));
    let ctx = Context::new().unwrap();
    let snap = ctx.query(&Query::new().pids(&[kid.pid()])).unwrap();
    let p = snap.find(kid.pid()).unwrap();
    assert_eq!(p.name(), "a_very_long_pro");
    assert_eq!(p.full_name(), "a_very_long_program_name_for_procmon");
    assert!(format!("{:?}", p).contains(r#"full_name: "a_very_long_program_name_for_procmon""#));

    let found = |q: Query| ctx.query(&q).unwrap().find(kid.pid()).is_some();
    assert!(found(Query::new().name("a_very_long_program_name_for_*")), "name filters match full_name");
    let line = format!("{} 30", link.display());
    assert!(found(Query::new().cmdline(&line)), "the whole command line");
    assert!(found(Query::new().cmdline("*_name_for_procmon 3*")));
    assert!(!found(Query::new().cmdline("*_name_for_procmon")), "anchored at the end, as shell patterns are");
    assert!(!found(Query::new().cmdline("a_very*")), "anchored at the start");
    let e = ctx.query(&Query::new().cmdline("[unclosed")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    drop(kid);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn memory_figures_and_the_machine() {
    let ctx = Context::new().unwrap();
    let system = ctx.system().unwrap();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kib: u64 = meminfo.lines().next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(system.mem_total, total_kib * 1024);
    assert_eq!(system.mem_used, system.mem_total - system.mem_available);
    assert!(system.mem_free <= system.mem_total && system.swap_free <= system.swap_total);
    assert!(system.cpus >= 1 && system.processes >= 1);
    assert!(system.load.iter().all(|l| *l >= 0.0));
    assert!(system.boot_time < std::time::SystemTime::now());

    let me = std::process::id() as i32;
    let snap = ctx.query(&Query::new().pids(&[me])).unwrap();
    let p = snap.get(0).unwrap();
    assert!(p.pss().is_none() && p.uss().is_none() && p.swap().is_none(), "SMAPS is opt-in");
    let percent = p.rss().unwrap() as f64 * 100.0 / system.mem_total as f64;
    assert!((p.mem_percent().unwrap() - percent).abs() < 1e-9 * 100.0, "{:?} vs {}", p.mem_percent(), percent);
    assert!(ctx.query(&Query::new().fields(Fields::CPU).pids(&[me])).unwrap().get(0).unwrap().mem_percent().is_none());

    let snap = ctx.query(&Query::new().fields(Fields::DEFAULT | Fields::SMAPS).pids(&[me])).unwrap();
    let p = snap.get(0).unwrap();
    let (pss, uss) = (p.pss().unwrap(), p.uss().unwrap());
    assert!(uss > 0 && uss <= pss && pss <= p.rss().unwrap() + 4096 * 16, "uss {} pss {} rss {:?}", uss, pss, p.rss());
    assert!(p.swap().is_some() && Fields::ALL.contains(Fields::SMAPS) && !Fields::DEFAULT.contains(Fields::SMAPS));
}

#[test]
fn status_is_the_librarys_portable_name_of_the_state() {
    let kid = Kid::spawn(Command::new("/bin/sleep").arg("60"));
    wait_exec(kid.pid(), "sleep");
    let ctx = Context::new().unwrap();
    wait_until("sleep to sleep", || {
        let snap = ctx.query(&Query::new().pids(&[kid.pid()])).unwrap();
        let p = snap.find(kid.pid()).unwrap();
        p.state() == 'S' && p.status() == "sleeping"
    });
    let snap = ctx.snapshot().unwrap();
    let me = snap.find(std::process::id() as i32).unwrap();
    assert!(["running", "sleeping"].contains(&me.status()), "{} ({})", me.status(), me.state());
}
