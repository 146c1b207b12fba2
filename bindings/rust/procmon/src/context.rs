//! Context: one procmon context (cache, memory cap, event collector).
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::ptr::NonNull;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use procmon_sys as sys;

use crate::error::{check, get_sized, Error, ErrorKind, Result};
use crate::events::{SubscribeOptions, Subscription};
use crate::snapshot::{Query, Snapshot};

/// Where lifecycle events come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventSource {
    /// The netlink proc connector when permitted, else polling.
    Auto,
    /// Always diff snapshots at the poll interval.
    Polling,
    /// The netlink proc connector, or subscribing fails (`PermissionDenied`,
    /// `Unsupported`): no fallback to polling.
    Netlink,
}

/// The source `procmon_stats.source_name` names ("" before any
/// subscription: `None`), through the library's own table of names.
fn source_of(name: *const std::os::raw::c_char) -> Option<EventSource> {
    // SAFETY: name is the library's static text, or NULL.
    if name.is_null() || unsafe { *name } == 0 {
        return None;  // asking would leave an EINVAL in this thread's error slot
    }
    let mut value = 0;
    // SAFETY: as above
    if unsafe { sys::procmon_source_from_name(name, &mut value) } != sys::PROCMON_OK {
        return None;
    }
    match value {
        sys::PROCMON_SOURCE_NETLINK => Some(EventSource::Netlink),
        sys::PROCMON_SOURCE_POLLING => Some(EventSource::Polling),
        _ => None,
    }
}

/// A context's counters ([`Context::stats`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Stats {
    /// The memory cap in force, bytes.
    pub memory_cap: u64,
    /// Held now by snapshots, caches and queues.
    pub memory_used: u64,
    /// The most held so far.
    pub memory_peak: u64,
    /// Where the capped memory comes from: `"mimalloc arena"`, or `"system malloc: "`
    /// followed by the reason mimalloc is not used.
    pub allocator: &'static str,
    /// Successful snapshots.
    pub enumerations: u64,
    /// Records served from the identity cache, all snapshots.
    pub cache_hits: u64,
    /// Records read anew.
    pub cache_misses: u64,
    /// The running event source: `Netlink` or `Polling`, `None` before any
    /// subscription.
    pub event_source: Option<EventSource>,
    /// Why this source runs.
    pub event_source_reason: &'static str,
    /// Events the source produced.
    pub events_received: u64,
    /// Events queued to subscriptions.
    pub events_delivered: u64,
    /// Events full queues refused (each reported to its subscriber as Lost).
    pub events_dropped: u64,
}

/// The machine as a whole, as top's header shows it ([`Context::system`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct System {
    /// Online CPUs.
    pub cpus: u32,
    /// Memory installed (MemTotal), bytes.
    pub mem_total: u64,
    /// What can be had without swapping (MemAvailable).
    pub mem_available: u64,
    /// In use: `mem_total - mem_available`. Unlike a sum of rss, it counts
    /// a page shared by many processes once.
    pub mem_used: u64,
    /// Not used at all, not even as cache (MemFree).
    pub mem_free: u64,
    /// Swap space, bytes.
    pub swap_total: u64,
    /// Swap space unused.
    pub swap_free: u64,
    /// Load averages over 1, 5 and 15 minutes.
    pub load: [f64; 3],
    /// When the machine booted.
    pub boot_time: SystemTime,
    /// Processes now (threads not counted).
    pub processes: u64,
}

/// Options for [`Context::with_options`]; `Options::default()` is the
/// library's defaults.
#[derive(Clone, Debug)]
pub struct Options {
    raw: sys::procmon_options,
    proc_root: Option<CString>,
    endpoint: Option<CString>,
}

impl Default for Options {
    fn default() -> Options {
        // every library knows this version: it has been 1 since the first
        let raw = sys::options_init().unwrap_or_else(|code| panic!("procmon_options_init: {}", Error::last(code)));
        Options { raw, proc_root: None, endpoint: None }
    }
}

impl Options {
    /// Memory cap for snapshots, caches and event queues, in bytes (0 = 64
    /// MiB, else at least 1 MiB). Past it a call fails with
    /// [`ErrorKind::OutOfMemory`](crate::ErrorKind::OutOfMemory).
    pub fn memory_cap(mut self, bytes: u64) -> Options {
        self.raw.arena_cap_bytes = bytes;
        self
    }
    /// Reader threads for a snapshot: 0 = automatic, 1 = the calling thread only.
    pub fn threads(mut self, n: u32) -> Options {
        self.raw.threads = n;
        self
    }
    /// Keep at most this many bytes of each argv (0 = all).
    pub fn argv_cap(mut self, bytes: u32) -> Options {
        self.raw.argv_cap_bytes = bytes;
        self
    }
    /// Cache argv, exe and ids per process identity between snapshots
    /// (default true).
    pub fn cache(mut self, on: bool) -> Options {
        self.raw.cache_policy = if on { sys::PROCMON_CACHE_STATIC } else { sys::PROCMON_CACHE_NONE };
        self
    }
    /// The event source.
    pub fn event_source(mut self, source: EventSource) -> Options {
        self.raw.event_source = match source {
            EventSource::Auto => sys::PROCMON_SOURCE_AUTO,
            EventSource::Polling => sys::PROCMON_SOURCE_POLLING,
            EventSource::Netlink => sys::PROCMON_SOURCE_NETLINK,
        };
        self
    }
    /// The polling source's interval in milliseconds (0 = 1000).
    pub fn poll_interval_ms(mut self, ms: u32) -> Options {
        self.raw.poll_interval_ms = ms;
        self
    }
    /// Where /proc is (tests use fixture trees).
    pub fn proc_root(mut self, dir: impl AsRef<OsStr>) -> Options {
        self.proc_root = CString::new(dir.as_ref().as_bytes()).ok();
        self
    }
    /// Ask procmond at this Unix socket path (`"unix:PATH"` too) instead of
    /// reading this machine; `""` reads this machine whatever
    /// `PROCMON_ENDPOINT` says. Not called: the library's rule, the socket
    /// `PROCMON_ENDPOINT` names when it is set and not empty, else this
    /// machine. The daemon's configuration then decides what the other
    /// options would. A daemon not reachable fails [`Context::with_options`]
    /// (`NotFound`: "is procmond running?", `PermissionDenied`, `Io`,
    /// [`Protocol`](crate::ErrorKind::Protocol)).
    pub fn endpoint(mut self, path: impl AsRef<OsStr>) -> Options {
        self.endpoint = CString::new(path.as_ref().as_bytes()).ok();
        self
    }
}

/// How procmond itself is doing ([`Context::daemon_status`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DaemonStatus {
    /// The wire protocol spoken.
    pub protocol_version: u32,
    /// procmond's library version, e.g. "0.4.0".
    pub daemon_version: String,
    /// Its process id.
    pub daemon_pid: i32,
    /// Who the daemon sees calling.
    pub peer_uid: u32,
    /// When it started.
    pub started: SystemTime,
    /// Connections open now, this one included.
    pub clients: u64,
    /// Of them, streaming events.
    pub subscriptions: u64,
    /// Events sent to subscribers since start.
    pub events_delivered: u64,
    /// Events slow subscribers lost.
    pub events_dropped: u64,
    /// The sequence number of the next event journaled.
    pub journal_next_seq: u64,
    /// The last one made durable.
    pub journal_durable_seq: u64,
    /// 1 at start, +1 per successful reload.
    pub config_generation: u64,
    /// The configuration file, "" on defaults.
    pub config_path: String,
    /// The daemon's event source ("netlink", "polling").
    pub source_name: String,
}

/// One procmon context: its identity cache, memory cap and event collector.
///
/// Closed on drop. Snapshots and subscriptions taken from it stay valid after
/// that (a subscription then reports [`Closed`](crate::ErrorKind::Closed)).
///
/// `Send` but not `Sync`: a context is used by one thread at a time
/// (`docs/threading.md`), so it can move to another thread but not be shared:
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// let ctx = procmon::Context::new().unwrap();
/// shared(&ctx); // Context is not Sync
/// ```
pub struct Context {
    raw: NonNull<sys::procmon_ctx>,
}

// SAFETY: the C context may be used from any thread, one at a time; without
// Sync, Rust's borrow rules give exactly that.
unsafe impl Send for Context {}

impl Context {
    /// A context with the default options.
    ///
    /// ```
    /// let ctx = procmon::Context::new()?;
    /// let snap = ctx.snapshot()?;
    /// assert!(snap.find(std::process::id() as i32).is_some());
    /// # Ok::<(), procmon::Error>(())
    /// ```
    pub fn new() -> Result<Context> {
        Context::with_options(&Options::default())
    }

    /// A context with these options.
    pub fn with_options(options: &Options) -> Result<Context> {
        let mut raw = options.raw;
        raw.proc_root = options.proc_root.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        raw.endpoint = options.endpoint.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        let mut ctx = std::ptr::null_mut();
        // SAFETY: raw is a valid options struct of this header's version; proc_root and endpoint outlive the call.
        check(unsafe { sys::procmon_open(&mut ctx, &raw) })?;
        NonNull::new(ctx).map(|raw| Context { raw }).ok_or_else(|| Error::new(sys::PROCMON_EINTERNAL, "procmon_open returned NULL"))
    }

    /// Every process now, with the default fields.
    pub fn snapshot(&self) -> Result<Snapshot> {
        self.query(&Query::new())
    }

    /// The processes the query selects, with its fields.
    pub fn query(&self, q: &Query) -> Result<Snapshot> {
        let raw = q.raw()?;
        let mut snap = std::ptr::null_mut();
        // SAFETY: ctx is open; raw borrows from q for the call.
        check(unsafe { sys::procmon_enumerate(&mut snap, self.raw.as_ptr(), &raw.query) })?;
        Ok(Snapshot::from_raw(snap, raw.query.fields))
    }

    /// Start receiving lifecycle events that pass the options' filters.
    pub fn subscribe(&self, options: &SubscribeOptions) -> Result<Subscription> {
        let raw = options.raw()?;
        let mut sub = std::ptr::null_mut();
        // SAFETY: ctx is open; raw borrows from options for the call.
        check(unsafe { sys::procmon_subscribe(&mut sub, self.raw.as_ptr(), &raw.options) })?;
        Ok(Subscription::from_raw(sub))
    }

    /// The context's counters.
    pub fn stats(&self) -> Result<Stats> {
        // SAFETY: a sized struct, zero valid for every field (pointers NULL); ctx is open.
        let s = unsafe { get_sized(|s| sys::procmon_stats_get(s, self.raw.as_ptr())) }?;
        let text = |p: *const std::os::raw::c_char| -> &'static str {
            // SAFETY: the library's static text, or NULL
            if p.is_null() { "" } else { unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap_or("") }
        };
        Ok(Stats {
            memory_cap: s.arena_cap_bytes,
            memory_used: s.arena_used_bytes,
            memory_peak: s.arena_peak_bytes,
            allocator: text(s.allocator),
            enumerations: s.enumerations,
            cache_hits: s.cache_hits,
            cache_misses: s.cache_misses,
            event_source: source_of(s.source_name),
            event_source_reason: text(s.source_reason),
            events_received: s.events_received,
            events_delivered: s.events_delivered,
            events_dropped: s.events_dropped,
        })
    }

    /// The machine's CPUs, memory, swap, load and boot time (from the
    /// context's proc root).
    ///
    /// ```
    /// let sys = procmon::Context::new()?.system()?;
    /// assert!(sys.cpus >= 1 && sys.mem_used <= sys.mem_total);
    /// # Ok::<(), procmon::Error>(())
    /// ```
    pub fn system(&self) -> Result<System> {
        // SAFETY: a sized struct of numbers; ctx is open.
        let s = unsafe { get_sized(|s| sys::procmon_system_get(s, self.raw.as_ptr())) }?;
        Ok(System {
            cpus: s.cpus,
            mem_total: s.mem_total_bytes,
            mem_available: s.mem_available_bytes,
            mem_used: s.mem_used_bytes,
            mem_free: s.mem_free_bytes,
            swap_total: s.swap_total_bytes,
            swap_free: s.swap_free_bytes,
            load: [s.load1, s.load5, s.load15],
            boot_time: UNIX_EPOCH + Duration::from_nanos(s.boot_time_ns),
            processes: s.processes,
        })
    }

    /// Sends signal `sig` (0: only check that the process is there) to the
    /// process with this identity: `pid` and `start_ticks` as a
    /// [`Process`](crate::Process) or [`ProcessEvent`](crate::ProcessEvent)
    /// gives them (their `signal`, `terminate` and `kill` call this). A pid
    /// reused by another process since is never hit: that is
    /// [`ErrorKind::Gone`], as for a process that exited.
    ///
    /// Errors: [`Gone`](ErrorKind::Gone),
    /// [`PermissionDenied`](ErrorKind::PermissionDenied),
    /// [`InvalidArgument`](ErrorKind::InvalidArgument) (pid <= 0, sig
    /// outside 0..=64), [`Unsupported`](ErrorKind::Unsupported) (a context
    /// reading a proc root other than /proc).
    ///
    /// ```no_run
    /// use procmon::{Context, ErrorKind, Query};
    /// let ctx = Context::new()?;
    /// for p in &ctx.query(&Query::new().name("stuck-worker"))? {
    ///     match p.terminate(&ctx) {
    ///         Err(e) if e.kind() == ErrorKind::Gone => {} // exited meanwhile
    ///         other => other?,
    ///     }
    /// }
    /// # Ok::<(), procmon::Error>(())
    /// ```
    pub fn signal(&self, pid: i32, start_ticks: u64, sig: i32) -> Result<()> {
        // SAFETY: ctx is open; the call takes only values.
        check(unsafe { sys::procmon_signal(self.raw.as_ptr(), pid, start_ticks, sig) })
            .map_err(|e| if e.kind() == ErrorKind::NotFound { e.with_kind(ErrorKind::Gone) } else { e })
    }

    /// How procmond is doing, on a context it serves
    /// ([`Unsupported`](ErrorKind::Unsupported) on a local one).
    pub fn daemon_status(&self) -> Result<DaemonStatus> {
        // SAFETY: a sized struct, zero valid for every field (pointers NULL); ctx is open.
        let s = unsafe { get_sized(|s| sys::procmon_daemon_status_get(s, self.raw.as_ptr())) }?;
        let text = |p: *const std::os::raw::c_char| -> String {
            // SAFETY: the library's text, valid until the next status call on this context
            if p.is_null() { String::new() } else { unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned() }
        };
        Ok(DaemonStatus {
            protocol_version: s.protocol_version,
            daemon_version: text(s.daemon_version),
            daemon_pid: s.daemon_pid,
            peer_uid: s.peer_uid,
            started: UNIX_EPOCH + Duration::from_nanos(s.started_ns),
            clients: s.clients,
            subscriptions: s.subscriptions,
            events_delivered: s.events_delivered,
            events_dropped: s.events_dropped,
            journal_next_seq: s.journal_next_seq,
            journal_durable_seq: s.journal_durable_seq,
            config_generation: s.config_generation,
            config_path: text(s.config_path),
            source_name: text(s.source_name),
        })
    }

    /// The raw handle, for calls this crate does not wrap. Valid while `self` is.
    pub fn as_raw(&self) -> *mut sys::procmon_ctx {
        self.raw.as_ptr()
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: we own it; nothing uses it after this.
        unsafe { sys::procmon_close(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("raw", &self.raw).finish()
    }
}
