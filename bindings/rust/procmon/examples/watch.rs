//! Streams lifecycle events: `cargo run --example watch [SECONDS]` (default: until Ctrl-C).
use std::time::{Duration, Instant};

use procmon::{Context, Event, ExitStatus, SubscribeOptions};

fn main() -> procmon::Result<()> {
    let seconds: Option<u64> = std::env::args().nth(1).and_then(|s| s.parse().ok());
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
            Event::Lost { count } => println!("LOST  {} events", count),
            Event::Exit { process, status, lifetime } => {
                let how = match status {
                    ExitStatus::Code(c) => format!("code {}", c),
                    ExitStatus::Signal(s) => format!("signal {}", s),
                    ExitStatus::Unknown => "status unknown".to_string(),
                };
                println!("EXIT  {:>7} {:?} {} after {:.3} s", process.pid, process.name, how, lifetime.as_secs_f64());
            }
            Event::Start(p) => println!("START {:>7} {:?} (parent {})", p.pid, p.name, p.ppid),
            Event::Exec(p) => println!("EXEC  {:>7} {:?}", p.pid, p.args().collect::<Vec<_>>()),
            other => println!("{:?}", other),
        }
    }
}
