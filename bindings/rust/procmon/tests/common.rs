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
