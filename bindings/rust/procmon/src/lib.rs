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
#![warn(missing_docs)]

mod context;
mod error;
mod events;
mod journal;
mod snapshot;

pub use context::{Context, EventSource, Options, Stats, System};
pub use error::{Error, ErrorKind, Result};
pub use events::{Event, EventTypes, ExitStatus, Latency, ProcessEvent, SubscribeOptions, Subscription, SubscriptionStats};
pub use journal::{Fsync, Journal, JournalOptions, JournalReader, JournalStats, ReadFrom, ReaderStats};
pub use snapshot::{Args, Fields, Ids, IoCounters, Iter, Process, Query, Snapshot};

/// The library's version, e.g. "0.2.0".
pub fn version() -> &'static str {
    // SAFETY: static text.
    unsafe { std::ffi::CStr::from_ptr(procmon_sys::procmon_version_string()) }.to_str().unwrap_or("")
}
