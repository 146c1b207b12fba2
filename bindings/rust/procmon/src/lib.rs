//! procmon: fast process snapshots and lifecycle events for Linux, safe
//! over procmon's C ABI (`procmon-sys`).
//!
//! ```
//! use procmon::{Context, Fields, Query};
//!
//! let ctx = Context::new()?;
//! for p in ctx.snapshot()?.iter() {
//!     println!("{} {:?} rss={:?}", p.pid(), p.name(), p.rss());
//! }
//! let me = ctx.query(&Query::new().pids(&[std::process::id() as i32]).fields(Fields::ALL))?;
//! assert_eq!(me.len(), 1);
//! # Ok::<(), procmon::Error>(())
//! ```
//!
//! Lifecycle events:
//!
//! ```no_run
//! use procmon::{Context, Event, SubscribeOptions};
//!
//! let ctx = Context::new()?;
//! for event in ctx.subscribe(&SubscribeOptions::new())? {
//!     match event? {
//!         Event::Exit { process, status, .. } => println!("{} exited: {:?}", process.pid, status),
//!         Event::Lost { count } => eprintln!("lost {} events", count),
//!         other => println!("{:?}", other),
//!     }
//! }
//! # Ok::<(), procmon::Error>(())
//! ```
//!
//! A durable journal of them, read back later or while it is written:
//!
//! ```no_run
//! use procmon::{Context, Journal, JournalOptions, JournalReader, ReadFrom};
//!
//! let ctx = Context::new()?;
//! let journal = Journal::open("/var/lib/mon/journal", Some(&ctx), &JournalOptions::new())?;
//! // ... later, or in another process:
//! for event in JournalReader::open("/var/lib/mon/journal", ReadFrom::Seq(1000))? {
//!     println!("{:?}", event?);
//! }
//! journal.close()?;
//! # Ok::<(), procmon::Error>(())
//! ```
//!
//! Threads: [`Context`] and [`Subscription`] are `Send` (one thread at a
//! time), [`Snapshot`] is `Send + Sync`, and a [`Process`] borrows from its
//! snapshot. Names and arguments are `&OsStr` / bytes, never lossily
//! converted.
//!
//! Records and events signal their process by identity, pid and start time
//! ([`Process::terminate`], [`Context::signal`]): a pid that another
//! process has since is never hit.
#![warn(missing_docs)]

/// `signal`, `terminate` and `kill` by identity, for a type whose private
/// `identity()` gives its pid and start ticks (a record, an event).
macro_rules! signal_methods {
    () => {
        /// Sends signal `sig` to this process, by its identity: never to
        /// another process that has its pid since; that, or an exit, is
        /// [`ErrorKind::Gone`](crate::ErrorKind::Gone). As
        /// [`Context::signal`](crate::Context::signal).
        pub fn signal(&self, ctx: &crate::Context, sig: i32) -> crate::Result<()> {
            let (pid, start_ticks) = self.identity();
            ctx.signal(pid, start_ticks, sig)
        }
        /// Sends SIGTERM (asks it to end), by identity: see `signal`.
        pub fn terminate(&self, ctx: &crate::Context) -> crate::Result<()> {
            self.signal(ctx, 15)
        }
        /// Sends SIGKILL (ends it at once), by identity: see `signal`.
        pub fn kill(&self, ctx: &crate::Context) -> crate::Result<()> {
            self.signal(ctx, 9)
        }
    };
}

mod context;
mod error;
mod events;
mod journal;
mod snapshot;

pub use context::{Context, DaemonStatus, EventSource, Options, Stats, System};
pub use error::{Error, ErrorKind, Result};
pub use events::{Event, EventTypes, ExitStatus, Latency, ProcessEvent, SubscribeOptions, Subscription, SubscriptionStats};
pub use journal::{Fsync, Journal, JournalOptions, JournalReader, JournalStats, ReadFrom, ReaderStats};
pub use snapshot::{Args, Fields, Ids, IoCounters, Iter, Process, Query, Snapshot};

/// The library's version, e.g. "0.4.0".
pub fn version() -> &'static str {
    // SAFETY: static text.
    unsafe { std::ffi::CStr::from_ptr(procmon_sys::procmon_version_string()) }.to_str().unwrap_or("")
}
