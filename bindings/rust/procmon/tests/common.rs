//! Children that are always reaped, and waiting helpers.
#![allow(dead_code)]
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Kid(pub Child);

impl Kid {
    pub fn spawn(cmd: &mut Command) -> Kid {
        Kid(cmd.stdin(Stdio::null()).stdout(Stdio::null()).spawn().expect("spawn a child"))
    }
    pub fn pid(&self) -> i32 {
        self.0.id() as i32
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn wait_until<F: FnMut() -> bool>(what: &str, mut done: F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {}", what);
}

/// Until pid runs a program whose path ends in `tail` (after fork it is still us).
pub fn wait_exec(pid: i32, tail: &str) {
    wait_until(&format!("pid {} to exec {}", pid, tail), || {
        std::fs::read_link(format!("/proc/{}/exe", pid)).map(|p| p.to_string_lossy().ends_with(tail)).unwrap_or(false)
    });
}

/// Until pid has exec'd anything (its exe is no longer this test binary).
pub fn wait_execed(pid: i32) {
    let me = std::fs::read_link("/proc/self/exe").unwrap();
    wait_until(&format!("pid {} to exec", pid), || {
        std::fs::read_link(format!("/proc/{}/exe", pid)).map(|p| p != me).unwrap_or(false)
    });
}

/// A proc root (for `Options::proc_root`) in a new temporary directory,
/// with a process of each (pid, ppid), named p<pid>.
pub fn fixture_proc_root(tag: &str, processes: &[(i32, i32)]) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("procmon-rs-{}-{}", tag, std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("stat"), "cpu  1 2 3 4\nbtime 1700000000\nprocesses 3\n").unwrap();
    std::fs::write(root.join("uptime"), "1000.50 1900.00\n").unwrap();
    for &(pid, ppid) in processes {
        let dir = root.join(pid.to_string());
        std::fs::create_dir(&dir).unwrap();
        let stat = format!("{} (p{}) S {} {} {} 0 -1 4194560 100 0 10 0 150 50 0 0 20 0 1 0 5 170000000 2500 \
                            18446744073709551615 4194304 4198400 140737488351232{}\n", pid, pid, ppid, pid, pid, " 0".repeat(24));
        std::fs::write(dir.join("stat"), stat).unwrap();
    }
    root
}
