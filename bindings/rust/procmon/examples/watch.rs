//! Streams lifecycle events: `cargo run --example watch [SECONDS]` (default: until Ctrl-C).
mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use procmon::{Context, Event, ExitStatus, SubscribeOptions};

fn main() -> ExitCode {
    let help = "Prints process starts, execs and exits as they happen, for SECONDS or until interrupted.";
    common::run("[SECONDS]", help, 1, |operands, out| {
        let seconds: Option<u64> = common::number(&operands, 0, "SECONDS")?;
        let ctx = Context::new()?;
        let mut sub = ctx.subscribe(&SubscribeOptions::new())?;
        eprintln!("watching through the {}", ctx.stats()?.event_source_reason);
        let end = seconds.map(|s| Instant::now() + Duration::from_secs(s));
        loop {
            let left = end.map_or(Duration::from_secs(3600), |e| e.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return Ok(());
            }
            let event = match sub.next_timeout(left)? {
                Some(e) => e,
                None => continue,
            };
            match event {
                Event::Lost { count } => writeln!(out, "LOST  {} events", count)?,
                Event::Exit { process, status, lifetime } => {
                    let how = match status {
                        ExitStatus::Code(c) => format!("code {}", c),
                        ExitStatus::Signal(s) => format!("signal {}", s),
                        ExitStatus::Unknown => "status unknown".to_string(),
                    };
                    writeln!(out, "EXIT  {:>7} {:?} {} after {:.3} s", process.pid, process.name, how, lifetime.as_secs_f64())?
                }
                Event::Start(p) => writeln!(out, "START {:>7} {:?} (parent {})", p.pid, p.name, p.ppid)?,
                Event::Exec(p) => writeln!(out, "EXEC  {:>7} {:?}", p.pid, p.args().collect::<Vec<_>>())?,
                other => writeln!(out, "{:?}", other)?,
            }
        }
    })
}
