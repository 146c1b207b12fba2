//! The crate's overhead over the C API: `cargo run --release --example bench [N] [ROUNDS]`.
//!
//! Holds N idle processes (cat on a pipe), then, interleaved round by round,
//! enumerates them with the C API directly (procmon-sys) and through the
//! crate, each reading pid, name, rss and argv length of every record, on a
//! warm context (as a monitor does) and a cold one (open, enumerate, close).
//! Prints medians and the crate's overhead in percent of the C figure.
mod common;

use std::ffi::CStr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Instant;

use procmon::{Context, Query};
use procmon_sys as sys;

fn c_api(ctx: *mut sys::procmon_ctx) -> (usize, u64) {
    let q = sys::query_init().expect("procmon_query_init");
    let mut snap = std::ptr::null_mut();
    assert_eq!(unsafe { sys::procmon_enumerate(&mut snap, ctx, &q) }, sys::PROCMON_OK);
    let n = unsafe { sys::procmon_snapshot_count(snap) };
    let mut sum = 0u64;
    for i in 0..n {
        let p = unsafe { &*sys::procmon_snapshot_at(snap, i) };
        let name = unsafe { CStr::from_ptr(p.name) }.to_bytes().len() as u64;
        let rss = if p.valid & sys::PROCMON_FIELD_MEMORY as u64 != 0 { p.rss_bytes } else { 0 };
        sum = sum.wrapping_add(p.pid as u64 + name + rss + p.argv_len as u64);
    }
    unsafe { sys::procmon_snapshot_free(snap) };
    (n, sum)
}

fn crate_api(ctx: &Context) -> (usize, u64) {
    let snap = ctx.query(&Query::new()).unwrap();
    let mut sum = 0u64;
    for p in snap.iter() {
        let name = p.name().len() as u64;
        let argv = p.argv_bytes().map_or(0, |a| a.len()) as u64;
        sum = sum.wrapping_add(p.pid() as u64 + name + p.rss().unwrap_or(0) + argv);
    }
    (snap.len(), sum)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The idle processes: their stdin closed (cat then exits) and reaped on
/// drop, also when the run stops early.
struct Kids(Vec<Child>);

impl Drop for Kids {
    fn drop(&mut self) {
        for k in &mut self.0 {
            drop(k.stdin.take());
        }
        for k in &mut self.0 {
            let _ = k.wait();
        }
    }
}

fn main() -> ExitCode {
    let help = "Holds N idle processes (default 1000) and times ROUNDS enumerations (default 31) of them\n\
                through the C API and through the crate.";
    common::run("[N [ROUNDS]]", help, 2, |operands, out| {
        let n: usize = common::number(&operands, 0, "N")?.unwrap_or(1000);
        let rounds: usize = common::number(&operands, 1, "ROUNDS")?.unwrap_or(31);
        let start = Instant::now();
        let _kids = Kids((0..n)
            .map(|_| Command::new("/bin/cat").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().expect("spawn cat"))
            .collect());
        writeln!(out, "{} idle processes (spawned in {:.1} s), {} rounds interleaved, procmon {}", n,
                 start.elapsed().as_secs_f64(), rounds, procmon::version())?;

        let crate_ctx = Context::new().unwrap();
        let mut c_ctx = std::ptr::null_mut();
        assert_eq!(unsafe { sys::procmon_open(&mut c_ctx, std::ptr::null()) }, sys::PROCMON_OK);
        let (mut cw, mut rw, mut cc, mut rc) = (vec![], vec![], vec![], vec![]);
        let mut procs = 0;
        c_api(c_ctx);
        crate_api(&crate_ctx);
        let time = |f: &mut dyn FnMut() -> usize, samples: &mut Vec<f64>| -> usize {
            let t = Instant::now();
            let k = f();
            samples.push(t.elapsed().as_secs_f64() * 1e3);
            k
        };
        for _ in 0..rounds {
            procs = time(&mut || c_api(c_ctx).0, &mut cw);
            time(&mut || crate_api(&crate_ctx).0, &mut rw);
            time(&mut || {
                let mut ctx = std::ptr::null_mut();
                unsafe { sys::procmon_open(&mut ctx, std::ptr::null()) };
                let k = c_api(ctx).0;
                unsafe { sys::procmon_close(ctx) };
                k
            }, &mut cc);
            time(&mut || crate_api(&Context::new().unwrap()).0, &mut rc);
        }
        unsafe { sys::procmon_close(c_ctx) };
        writeln!(out, "{:<28} {:>6} {:>10} {:>10}", "variant", "procs", "median ms", "vs C API")?;
        for (name, c, r) in [("warm", cw, rw), ("cold", cc, rc)] {
            let (c, r) = (median(c), median(r));
            writeln!(out, "{:<28} {:>6} {:>10.3} {:>10}", format!("C API, {}", name), procs, c, "1.000")?;
            writeln!(out, "{:<28} {:>6} {:>10.3} {:>9.3}x  (overhead {:+.1}%)", format!("procmon crate, {}", name), procs, r,
                     r / c, (r / c - 1.0) * 100.0)?;
        }
        Ok(())
    })
}
