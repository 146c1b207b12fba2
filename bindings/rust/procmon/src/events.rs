//! Lifecycle events: subscriptions and the events they deliver.
use std::any::Any;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::ops::BitOr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::io::{AsRawFd, RawFd};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use procmon_sys as sys;

use crate::error::{check, get_sized, Error, ErrorKind, Result};
use crate::snapshot::{c_ptr, Args};

/// Event types to subscribe to. Lost events are always delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventTypes(u32);

impl EventTypes {
    /// A process started (fork).
    pub const START: EventTypes = EventTypes(sys::PROCMON_EVENT_START);
    /// A process executed a new program.
    pub const EXEC: EventTypes = EventTypes(sys::PROCMON_EVENT_EXEC);
    /// A process exited.
    pub const EXIT: EventTypes = EventTypes(sys::PROCMON_EVENT_EXIT);
    /// A process changed its uid or gid (netlink only).
    pub const UID: EventTypes = EventTypes(sys::PROCMON_EVENT_UID);
    /// A process renamed itself (netlink only).
    pub const COMM: EventTypes = EventTypes(sys::PROCMON_EVENT_COMM);
    /// START EXEC EXIT.
    pub const DEFAULT: EventTypes = EventTypes(sys::PROCMON_EVENTS_DEFAULT);
    /// Every type.
    pub const ALL: EventTypes = EventTypes(sys::PROCMON_EVENTS_ALL);
}

impl BitOr for EventTypes {
    type Output = EventTypes;
    fn bitor(self, rhs: EventTypes) -> EventTypes {
        EventTypes(self.0 | rhs.0)
    }
}

/// Filters and queue size of a subscription.
#[derive(Clone, Debug, Default)]
pub struct SubscribeOptions {
    events: Option<EventTypes>,
    name: Option<Vec<u8>>,
    cmdline: Option<Vec<u8>>,
    uid: Option<u32>,
    descendants_of: i32,
    queue: u32,
    threads: bool,
    undecidable: bool,
    from_seq: u64,
    history: bool,
}

pub(crate) struct RawSubscribeOptions {
    pub(crate) options: sys::procmon_subscribe_options,
    _patterns: [Option<CString>; 2],
}

impl SubscribeOptions {
    /// START, EXEC and EXIT of every process, default queue.
    pub fn new() -> SubscribeOptions {
        SubscribeOptions::default()
    }
    /// The event types.
    pub fn events(mut self, events: EventTypes) -> SubscribeOptions {
        self.events = Some(events);
        self
    }
    /// Only processes whose name matches this fnmatch(3) pattern: the name
    /// users see, as [`Query::name`](crate::Query::name).
    pub fn name(mut self, glob: impl AsRef<OsStr>) -> SubscribeOptions {
        self.name = Some(glob.as_ref().as_bytes().to_vec());
        self
    }
    /// Only processes whose command line matches this fnmatch(3) pattern,
    /// as [`Query::cmdline`](crate::Query::cmdline).
    pub fn cmdline(mut self, glob: impl AsRef<OsStr>) -> SubscribeOptions {
        self.cmdline = Some(glob.as_ref().as_bytes().to_vec());
        self
    }
    /// Only processes of this effective uid.
    pub fn uid(mut self, uid: u32) -> SubscribeOptions {
        self.uid = Some(uid);
        self
    }
    /// Only descendants of this pid (not itself).
    pub fn descendants_of(mut self, pid: i32) -> SubscribeOptions {
        self.descendants_of = pid;
        self
    }
    /// Events the queue holds (0 = 16,384; at least 2). When it is full,
    /// later events are counted and delivered as one [`Event::Lost`].
    pub fn queue(mut self, capacity: u32) -> SubscribeOptions {
        self.queue = capacity;
        self
    }
    /// Also thread starts and exits (netlink only).
    pub fn threads(mut self, on: bool) -> SubscribeOptions {
        self.threads = on;
        self
    }
    /// Also pass the events a filter cannot decide: those of a process gone
    /// before the field the filter needs could be read (flagged
    /// [`ProcessEvent::partial`]). Without it they are dropped, and counted
    /// in [`SubscriptionStats::undecidable`] either way.
    pub fn undecidable(mut self, pass: bool) -> SubscribeOptions {
        self.undecidable = pass;
        self
    }
    /// A context served by procmond only ([`Options::endpoint`](crate::Options::endpoint)):
    /// first every event of the daemon's journal whose sequence number is at
    /// least `seq`, then live ones, with no gap and no duplicate. A client
    /// that reconnects passes its last [`ProcessEvent::seq`] + 1. 0 (the
    /// default): live events only. On a local context: [`Unsupported`](crate::ErrorKind::Unsupported).
    pub fn from_seq(mut self, seq: u64) -> SubscribeOptions {
        self.from_seq = seq;
        self
    }
    /// A context served by procmond only: deliver the journal from
    /// [`from_seq`](SubscribeOptions::from_seq) up to its end as it was when
    /// the daemon got the request, then close (`next` reports
    /// [`Closed`](crate::ErrorKind::Closed) once all was taken).
    pub fn history(mut self, on: bool) -> SubscribeOptions {
        self.history = on;
        self
    }

    pub(crate) fn raw(&self) -> Result<RawSubscribeOptions> {
        // A NUL inside a pattern cuts it there; the library then checks what is left.
        let pattern = |p: &Option<Vec<u8>>| p.as_ref().map(|p| CString::new(p.split(|&b| b == 0).next().unwrap_or(b"")).unwrap());
        let (name, cmdline) = (pattern(&self.name), pattern(&self.cmdline));
        let mut options = sys::subscribe_options_init().map_err(Error::last)?;
        options.events = self.events.map_or(0, |e| e.0);
        options.name_glob = c_ptr(&name);
        options.cmdline_glob = c_ptr(&cmdline);
        options.uid = self.uid.map_or(-1, i64::from);
        options.descendants_of = self.descendants_of;
        options.queue_capacity = self.queue;
        options.flags = (if self.threads { sys::PROCMON_SUBSCRIBE_THREADS } else { 0 })
            | (if self.undecidable { sys::PROCMON_SUBSCRIBE_UNDECIDABLE } else { 0 })
            | (if self.history { sys::PROCMON_SUBSCRIBE_HISTORY } else { 0 });
        options.from_seq = self.from_seq;
        Ok(RawSubscribeOptions { options, _patterns: [name, cmdline] })
    }
}

/// What an event says of its process. `{:?}` shows the name, exe and
/// arguments as text (as `OsStr` does: bytes that are not UTF-8 escaped).
#[derive(Clone, PartialEq, Eq)]
pub struct ProcessEvent {
    /// Process id (thread id for thread events).
    pub pid: i32,
    /// Parent (the process, for thread events).
    pub ppid: i32,
    /// Effective uid, None when unknown.
    pub uid: Option<u32>,
    /// Increases by one per event of the context; on a context served by
    /// procmond, the daemon's journal sequence number (resume from it with
    /// [`SubscribeOptions::from_seq`]).
    pub seq: u64,
    /// When it happened.
    pub time: SystemTime,
    /// With pid, the identity (as [`Process::start_ticks`](crate::Process::start_ticks)).
    pub start_ticks: u64,
    /// When the process started.
    pub start_time: SystemTime,
    /// The process's name (comm): the kernel's, cut at 15 bytes.
    pub name: OsString,
    /// The name users see, as [`Process::full_name`](crate::Process::full_name).
    pub full_name: OsString,
    /// Its executable.
    pub exe: OsString,
    /// Its argument block: each argument NUL-terminated (see [`ProcessEvent::args`]).
    pub argv: Vec<u8>,
    /// Recovered by a resync, not seen as it happened.
    pub synthesized: bool,
    /// The process was gone before all of it could be read (name, exe, argv may be empty).
    pub partial: bool,
    /// A thread, not a process.
    pub thread: bool,
}

impl ProcessEvent {
    /// The arguments, each as `&OsStr`.
    pub fn args(&self) -> Args<'_> {
        Args::new(&self.argv)
    }

    fn identity(&self) -> (i32, u64) {
        (self.pid, self.start_ticks)
    }
    signal_methods!();
}

impl std::fmt::Debug for ProcessEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // every field named: a new one does not compile until it is shown here
        let ProcessEvent {
            pid, ppid, uid, seq, time, start_ticks, start_time, name, full_name, exe, argv: _, synthesized, partial, thread,
        } = self;
        f.debug_struct("ProcessEvent")
            .field("pid", pid)
            .field("ppid", ppid)
            .field("uid", uid)
            .field("seq", seq)
            .field("time", time)
            .field("start_ticks", start_ticks)
            .field("start_time", start_time)
            .field("name", name)
            .field("full_name", full_name)
            .field("exe", exe)
            .field("argv", &self.args())
            .field("synthesized", synthesized)
            .field("partial", partial)
            .field("thread", thread)
            .finish()
    }
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called exit() with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// Not known (the polling source, or a resync, cannot see it).
    Unknown,
}

/// One lifecycle event. A `match` must handle [`Event::Lost`]: lost events
/// are reported, never dropped silently. The enum is exhaustive on purpose
/// (no `#[non_exhaustive]`, which would force a catch-all arm that could
/// swallow `Lost`); a new event type will come with a new major version.
///
/// ```compile_fail
/// use procmon::Event;
/// fn show(e: Event) {
///     match e { // error: `Event::Lost { .. }` not covered
///         Event::Start(p) | Event::Exec(p) | Event::Uid(p) | Event::Comm(p) => println!("{}", p.pid),
///         Event::Exit { process, .. } => println!("{} exited", process.pid),
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "an Event::Lost says events were lost; handle it"]
pub enum Event {
    /// A process started.
    Start(ProcessEvent),
    /// A process executed a new program: the event carries the new image.
    Exec(ProcessEvent),
    /// A process exited.
    Exit {
        /// The process.
        process: ProcessEvent,
        /// How it ended.
        status: ExitStatus,
        /// How long it lived.
        lifetime: Duration,
    },
    /// A process changed its uid or gid.
    Uid(ProcessEvent),
    /// A process renamed itself.
    Comm(ProcessEvent),
    /// The queue was full: this many events were lost (0 = unknown).
    Lost {
        /// How many.
        count: u64,
    },
}

impl Event {
    /// The process the event is about; None for [`Event::Lost`].
    pub fn process(&self) -> Option<&ProcessEvent> {
        match self {
            Event::Start(p) | Event::Exec(p) | Event::Uid(p) | Event::Comm(p) => Some(p),
            Event::Exit { process, .. } => Some(process),
            Event::Lost { .. } => None,
        }
    }

    /// Copies an event out of the library's memory (its strings live only
    /// until the next call on the subscription).
    pub(crate) fn copy(e: &sys::procmon_event) -> Event {
        let text = |p: *const std::os::raw::c_char| -> Vec<u8> {
            if p.is_null() {
                Vec::new()
            } else {
                unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
            }
        };
        if e.type_ == sys::PROCMON_EVENT_LOST {
            return Event::Lost { count: e.lost };
        }
        let argv = if e.argv.is_null() || e.argv_len == 0 {
            Vec::new()
        } else {
            unsafe { std::slice::from_raw_parts(e.argv as *const u8, e.argv_len) }.to_vec()
        };
        let p = ProcessEvent {
            pid: e.pid,
            ppid: e.ppid,
            uid: (e.uid != u32::MAX).then_some(e.uid),
            seq: e.seq,
            time: UNIX_EPOCH + Duration::from_nanos(e.time_ns),
            start_ticks: e.start_ticks,
            start_time: UNIX_EPOCH + Duration::from_nanos(e.start_time_ns),
            name: OsString::from_vec(text(e.name)),
            full_name: OsString::from_vec(text(e.full_name)),
            exe: OsString::from_vec(text(e.exe)),
            argv,
            synthesized: e.flags & sys::PROCMON_EVENT_FLAG_SYNTHESIZED != 0,
            partial: e.flags & sys::PROCMON_EVENT_FLAG_PARTIAL != 0,
            thread: e.flags & sys::PROCMON_EVENT_FLAG_THREAD != 0,
        };
        match e.type_ {
            sys::PROCMON_EVENT_START => Event::Start(p),
            sys::PROCMON_EVENT_EXEC => Event::Exec(p),
            sys::PROCMON_EVENT_UID => Event::Uid(p),
            sys::PROCMON_EVENT_COMM => Event::Comm(p),
            _ => {
                let status = if e.flags & sys::PROCMON_EVENT_FLAG_NO_STATUS != 0 {
                    ExitStatus::Unknown
                } else if e.exit_signal != 0 {
                    ExitStatus::Signal(e.exit_signal)
                } else {
                    ExitStatus::Code(e.exit_code)
                };
                Event::Exit { process: p, status, lifetime: Duration::from_nanos(e.lifetime_ns) }
            }
        }
    }
}

/// A subscription's counters.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct SubscriptionStats {
    /// Events the queue holds.
    pub queue_capacity: u32,
    /// Events waiting now.
    pub queue_depth: u64,
    /// Events that reached the filter.
    pub received: u64,
    /// Rejected by the filter.
    pub filtered: u64,
    /// Events a filter could not decide: dropped, among `filtered`, or
    /// passed with [`SubscribeOptions::undecidable`].
    pub undecidable: u64,
    /// Queued.
    pub delivered: u64,
    /// Refused by the full queue.
    pub dropped: u64,
    /// Counts reported in Lost events.
    pub lost: u64,
    /// Events timed below: those the library has returned (Lost excluded),
    /// including any this subscription holds in its batch.
    pub timed: u64,
    /// The kernel's event time to the collector reading it (netlink only).
    pub latency_receive: Latency,
    /// Read to enriched and ready to queue (with polling, from the pass's start).
    pub latency_enrich: Latency,
    /// Ready to returned by the library to this subscription.
    pub latency_deliver: Latency,
    /// The kernel's event time (polling: the pass's start) to returned.
    pub latency_total: Latency,
}

/// One stage's latency over the events timed. `p50` and `p99` are upper
/// bounds within 12.5% of the true value; `max` is exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest.
    pub max: Duration,
}

impl From<sys::procmon_latency> for Latency {
    fn from(l: sys::procmon_latency) -> Self {
        Latency {
            p50: Duration::from_nanos(l.p50_ns),
            p99: Duration::from_nanos(l.p99_ns),
            max: Duration::from_nanos(l.max_ns),
        }
    }
}

/// Events of one context that pass this subscription's filters, in order.
///
/// As an `Iterator` it waits for each event and ends when the subscription
/// or its context is closed; [`Subscription::next_timeout`] waits at most a
/// while. Its file descriptor ([`AsRawFd`]) is readable while events wait,
/// for mio, tokio or poll(2). Unsubscribes on drop. `Send`, not `Sync`: one
/// thread reads it at a time.
pub struct Subscription {
    raw: NonNull<sys::procmon_subscription>,
    batch: std::collections::VecDeque<Event>,
}

// SAFETY: a subscription may be used from any thread, one at a time.
unsafe impl Send for Subscription {}

const BATCH: usize = 64;

impl Subscription {
    pub(crate) fn from_raw(raw: *mut sys::procmon_subscription) -> Subscription {
        Subscription {
            raw: NonNull::new(raw).expect("procmon_subscribe succeeded without a subscription"),
            batch: std::collections::VecDeque::new(),
        }
    }

    fn fill(&mut self, timeout_ms: i32) -> Result<()> {
        let mut events: [std::mem::MaybeUninit<sys::procmon_event>; BATCH] =
            unsafe { std::mem::MaybeUninit::uninit().assume_init() };
        let mut n = 0usize;
        check(unsafe {
            sys::procmon_subscription_next(
                self.raw.as_ptr(),
                events.as_mut_ptr() as *mut sys::procmon_event,
                std::mem::size_of::<sys::procmon_event>(),
                BATCH,
                &mut n,
                timeout_ms,
            )
        })?;
        for e in &events[..n] {
            // SAFETY: the library wrote the first n events in full.
            self.batch.push_back(Event::copy(unsafe { e.assume_init_ref() }));
        }
        Ok(())
    }

    /// The next event, waiting up to `timeout`; `Ok(None)` when it ran out.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let ctx = procmon::Context::new()?;
    /// let mut sub = ctx.subscribe(&procmon::SubscribeOptions::new())?;
    /// while let Some(event) = sub.next_timeout(Duration::from_secs(1))? {
    ///     println!("{:?}", event);
    /// }
    /// # Ok::<(), procmon::Error>(())
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Event>> {
        if self.batch.is_empty() {
            let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
            self.fill(ms)?;
        }
        Ok(self.batch.pop_front())
    }

    /// Calls `f` for each waiting event (at most `max`), without waiting;
    /// returns how many. `f` returns true to go on, false to stop. A panic in
    /// `f` stops the dispatch and resumes after the C library has returned:
    /// it never unwinds through C.
    pub fn dispatch<F: FnMut(Event) -> bool>(&mut self, max: usize, mut f: F) -> Result<usize> {
        let mut n = 0;
        while n < max {
            match self.batch.pop_front() {
                Some(e) => {
                    n += 1;
                    if !f(e) {
                        return Ok(n);
                    }
                }
                None => break,
            }
        }
        struct Payload<'a> {
            f: &'a mut dyn FnMut(Event) -> bool,
            panic: Option<Box<dyn Any + Send>>,
        }
        unsafe extern "C" fn trampoline(e: *const sys::procmon_event, payload: *mut std::os::raw::c_void) -> i32 {
            let payload = &mut *(payload as *mut Payload);
            let event = Event::copy(&*e);
            match panic::catch_unwind(AssertUnwindSafe(|| (payload.f)(event))) {
                Ok(true) => 0,
                Ok(false) => 1,
                Err(p) => {
                    payload.panic = Some(p);
                    1
                }
            }
        }
        let mut payload = Payload { f: &mut f, panic: None };
        let mut done = 0usize;
        let rc = unsafe {
            sys::procmon_dispatch(
                self.raw.as_ptr(),
                Some(trampoline),
                &mut payload as *mut Payload as *mut std::os::raw::c_void,
                max - n,
                &mut done,
            )
        };
        if let Some(p) = payload.panic {
            panic::resume_unwind(p);
        }
        if rc != sys::PROCMON_EUSER {
            check(rc)?;
        }
        Ok(n + done)
    }

    /// Counters of this subscription.
    pub fn stats(&self) -> Result<SubscriptionStats> {
        // SAFETY: a sized struct of numbers; the subscription is ours.
        let s = unsafe { get_sized(|s| sys::procmon_subscription_stats_get(s, self.raw.as_ptr())) }?;
        Ok(SubscriptionStats {
            queue_capacity: s.queue_capacity,
            queue_depth: s.queue_depth + self.batch.len() as u64,
            received: s.received,
            filtered: s.filtered,
            undecidable: s.undecidable,
            delivered: s.delivered,
            dropped: s.dropped,
            lost: s.lost,
            timed: s.timed,
            latency_receive: s.latency_receive.into(),
            latency_enrich: s.latency_enrich.into(),
            latency_deliver: s.latency_deliver.into(),
            latency_total: s.latency_total.into(),
        })
    }
}

impl Iterator for Subscription {
    type Item = Result<Event>;
    /// Waits for the next event; `None` once the subscription or its context is closed.
    fn next(&mut self) -> Option<Result<Event>> {
        if self.batch.is_empty() {
            match self.fill(-1) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Closed => return None,
                Err(e) => return Some(Err(e)),
            }
        }
        self.batch.pop_front().map(Ok)
    }
}

impl AsRawFd for Subscription {
    /// Readable while events wait. Owned by the subscription: do not read or close it.
    fn as_raw_fd(&self) -> RawFd {
        unsafe { sys::procmon_subscription_fd(self.raw.as_ptr()) }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        unsafe { sys::procmon_unsubscribe(self.raw.as_ptr()) }
    }
}


impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("fd", &self.as_raw_fd()).field("buffered", &self.batch.len()).finish()
    }
}
