//! A process table: `cargo run --example ps [NAME_GLOB]`.
mod common;

use std::process::ExitCode;

use procmon::{Context, Query};

fn main() -> ExitCode {
    let help = "Prints every process (or those whose name matches NAME_GLOB, an fnmatch(3) pattern)\n\
                with its parent, state, resident memory, CPU use and command line.";
    common::run("[NAME_GLOB]", help, 1, |operands, out| {
        let ctx = Context::new()?;
        let mut query = Query::new();
        if let Some(glob) = operands.into_iter().next() {
            query = query.name(glob);
        }
        let snap = ctx.query(&query)?;
        writeln!(out, "{:>7} {:>7} {:>5} {:>10} {:>6}  COMMAND", "PID", "PPID", "STATE", "RSS KiB", "CPU%")?;
        for p in snap.iter() {
            let args: Vec<String> = p.args().map(|a| a.map(|s| s.to_string_lossy().into_owned()).collect()).unwrap_or_default();
            let command = if args.is_empty() { format!("[{}]", p.name().to_string_lossy()) } else { args.join(" ") };
            writeln!(
                out,
                "{:>7} {:>7} {:>5} {:>10} {:>6.1}  {}",
                p.pid(),
                p.ppid(),
                p.state(),
                p.rss().map_or("-".to_string(), |r| (r / 1024).to_string()),
                p.cpu_percent().unwrap_or(0.0),
                command
            )?;
        }
        eprintln!("{} processes", snap.len());
        Ok(())
    })
}
