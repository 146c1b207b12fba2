//! The durable event journal: record a context's events (or your own) to a
//! directory, and read them back, also while they are written. Format and
//! guarantees: docs/journal.md of the procmon repository.
use std::collections::VecDeque;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::NonNull;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use procmon_sys as sys;

use crate::context::Context;
use crate::error::{check, get_sized, ErrorKind, Result};
use crate::events::{Event, ExitStatus, SubscribeOptions};

/// When the writer makes records durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// `fdatasync` every group commit before it counts as durable.
    Always,
    /// `fdatasync` at most this often.
    Interval(Duration),
    /// Leave it to the OS: survives the death of the process, not of the machine.
    Never,
}

/// How a [`Journal`] writes: builder methods, defaults as the C library's.
#[derive(Clone, Debug)]
pub struct JournalOptions {
    fsync: Fsync,
    queue: u32,
    segment_size: u64,
    max_size: u64,
    max_age: Option<Duration>,
    filter: SubscribeOptions,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions::new()
    }
}

impl JournalOptions {
    /// Fsync always, 64 MiB segments, no retention, the default event types.
    pub fn new() -> JournalOptions {
        JournalOptions { fsync: Fsync::Always, queue: 0, segment_size: 0, max_size: 0, max_age: None, filter: SubscribeOptions::new() }
    }
    /// The fsync policy.
    pub fn fsync(mut self, policy: Fsync) -> JournalOptions {
        self.fsync = policy;
        self
    }
    /// Events waiting for the writer (0 = the library's default).
    pub fn queue(mut self, capacity: u32) -> JournalOptions {
        self.queue = capacity;
        self
    }
    /// A segment is closed past this many bytes (0 = 64 MiB; at least 64 KiB).
    pub fn segment_size(mut self, bytes: u64) -> JournalOptions {
        self.segment_size = bytes;
        self
    }
    /// Retention: the oldest segments go while the journal is larger (at least two segments).
    pub fn max_size(mut self, bytes: u64) -> JournalOptions {
        self.max_size = bytes;
        self
    }
    /// Retention: segments closed longer ago than this go.
    pub fn max_age(mut self, age: Duration) -> JournalOptions {
        self.max_age = Some(age);
        self
    }
    /// Which of the context's events are recorded (as for [`Context::subscribe`]).
    pub fn filter(mut self, filter: SubscribeOptions) -> JournalOptions {
        self.filter = filter;
        self
    }
}

/// The writer's counters.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct JournalStats {
    /// The sequence number the next record gets.
    pub next_seq: u64,
    /// The last record made durable by the fsync policy (0 = none yet).
    pub durable_seq: u64,
    /// Records written since open.
    pub records: u64,
    /// Events journaled as lost (queue overflow, failed writes).
    pub lost: u64,
    /// Bytes written since open.
    pub bytes_written: u64,
    /// Group commits (one `write` each).
    pub commits: u64,
    /// `fdatasync` calls.
    pub fsyncs: u64,
    /// Failed writes or syncs; `last_error` says the last one's kind.
    pub write_errors: u64,
    /// The kind of the last failed write or sync, if any.
    pub last_error: Option<ErrorKind>,
    /// Segment files on disk now.
    pub segments: u64,
    /// Bytes on disk now.
    pub disk_bytes: u64,
    /// Segments removed by retention since open.
    pub segments_removed: u64,
    /// Cut from a torn tail at open.
    pub recovered_truncated_bytes: u64,
    /// CRC failures found at open (readers skip them).
    pub recovered_corrupt_records: u64,
    /// At open: names like a segment's that are not regular files
    /// (symlinks, FIFOs, sockets, directories, devices), left alone.
    pub skipped_files: u64,
}

/// A journal writer: owns its directory (one writer at a time, in any
/// process) until closed or dropped. `Send + Sync`: `append`, `sync` and
/// `stats` may be called from any thread.
pub struct Journal {
    raw: Option<NonNull<sys::procmon_journal>>,
}

// SAFETY: the library allows append, sync and stats from any thread at once.
unsafe impl Send for Journal {}
unsafe impl Sync for Journal {}

impl Journal {
    /// Opens (creating it if missing) and recovers `dir`, and records
    /// `ctx`'s events passing the options' filter; with `ctx` None, only
    /// what [`Journal::append`] gives. Fails with [`ErrorKind::Locked`] when
    /// another writer has the directory.
    pub fn open(dir: impl AsRef<Path>, ctx: Option<&Context>, options: &JournalOptions) -> Result<Journal> {
        let dir = CString::new(dir.as_ref().as_os_str().as_bytes())
            .map_err(|_| crate::Error::new(sys::PROCMON_EINVAL, "the journal directory has a NUL byte"))?;
        let filter = options.filter.raw()?;
        let (fsync, interval) = match options.fsync {
            Fsync::Always => (sys::PROCMON_FSYNC_ALWAYS, 0),
            Fsync::Interval(d) => (sys::PROCMON_FSYNC_INTERVAL, d.as_millis().clamp(1, u32::MAX as u128) as u32),
            Fsync::Never => (sys::PROCMON_FSYNC_NEVER, 0),
        };
        let mut raw_options = sys::journal_options_init().map_err(crate::Error::last)?;
        raw_options.fsync = fsync;
        raw_options.fsync_interval_ms = interval;
        raw_options.queue_capacity = options.queue;
        raw_options.segment_bytes = options.segment_size;
        raw_options.max_bytes = options.max_size;
        raw_options.max_age_ms = options.max_age.map_or(0, |a| a.as_millis().clamp(1, u64::MAX as u128) as u64);
        raw_options.filter = &filter.options;
        let mut j = std::ptr::null_mut();
        let ctx = ctx.map_or(std::ptr::null_mut(), |c| c.as_raw());
        // SAFETY: the pointers are valid for the call; the library copies what it keeps.
        check(unsafe { sys::procmon_journal_open(&mut j, ctx, dir.as_ptr(), &raw_options) })?;
        Ok(Journal { raw: NonNull::new(j) })
    }

    fn ptr(&self) -> *mut sys::procmon_journal {
        self.raw.expect("journal used after close").as_ptr()
    }

    /// Queues events of your own (their `seq` is ignored: the journal
    /// numbers records itself). Waits while the queue is full.
    pub fn append(&self, events: &[Event]) -> Result<()> {
        let mut keep: Vec<[CString; 3]> = Vec::with_capacity(events.len());
        let mut raw: Vec<sys::procmon_event> = Vec::with_capacity(events.len());
        for e in events {
            // SAFETY: zero is valid for every field (pointers NULL).
            let mut r: sys::procmon_event = unsafe { std::mem::zeroed() };
            r.size = std::mem::size_of::<sys::procmon_event>() as u32;
            let nul_free = |s: &std::ffi::OsStr| CString::new(s.as_bytes().split(|&b| b == 0).next().unwrap_or(b"")).unwrap();
            match e {
                Event::Lost { count } => {
                    r.type_ = sys::PROCMON_EVENT_LOST;
                    r.lost = *count;
                    keep.push(Default::default());
                }
                _ => {
                    let p = e.process().expect("every other event has a process");
                    r.type_ = match e {
                        Event::Start(_) => sys::PROCMON_EVENT_START,
                        Event::Exec(_) => sys::PROCMON_EVENT_EXEC,
                        Event::Uid(_) => sys::PROCMON_EVENT_UID,
                        Event::Comm(_) => sys::PROCMON_EVENT_COMM,
                        _ => sys::PROCMON_EVENT_EXIT,
                    };
                    let nanos = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
                    r.pid = p.pid;
                    r.ppid = p.ppid;
                    r.uid = p.uid.unwrap_or(u32::MAX);
                    r.time_ns = nanos(p.time);
                    r.start_ticks = p.start_ticks;
                    r.start_time_ns = nanos(p.start_time);
                    r.flags = (if p.synthesized { sys::PROCMON_EVENT_FLAG_SYNTHESIZED } else { 0 })
                        | (if p.partial { sys::PROCMON_EVENT_FLAG_PARTIAL } else { 0 })
                        | (if p.thread { sys::PROCMON_EVENT_FLAG_THREAD } else { 0 });
                    r.exit_code = -1;
                    if let Event::Exit { status, lifetime, .. } = e {
                        r.lifetime_ns = lifetime.as_nanos() as u64;
                        match status {
                            ExitStatus::Code(c) => r.exit_code = *c,
                            ExitStatus::Signal(s) => r.exit_signal = *s,
                            ExitStatus::Unknown => r.flags |= sys::PROCMON_EVENT_FLAG_NO_STATUS,
                        }
                    }
                    r.argv = p.argv.as_ptr() as *const std::os::raw::c_char;
                    r.argv_len = p.argv.len();
                    r.argc = p.argv.iter().filter(|&&b| b == 0).count() as u32;
                    keep.push([nul_free(&p.name), nul_free(&p.exe), nul_free(&p.full_name)]);
                }
            }
            raw.push(r);
        }
        for (r, [name, exe, full_name]) in raw.iter_mut().zip(&keep) {
            r.name = name.as_ptr();
            r.exe = exe.as_ptr();
            r.full_name = full_name.as_ptr();
        }
        // SAFETY: the events and their strings live for the call; the library copies them.
        check(unsafe { sys::procmon_journal_append(self.ptr(), raw.as_ptr(), std::mem::size_of::<sys::procmon_event>(), raw.len()) })
    }

    /// Waits until everything queued before this call is written and
    /// fdatasync'd (None: as long as it takes); returns the last durable
    /// sequence number.
    pub fn sync(&self, timeout: Option<Duration>) -> Result<u64> {
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        let mut durable = 0u64;
        check(unsafe { sys::procmon_journal_sync(self.ptr(), ms, &mut durable) })?;
        Ok(durable)
    }

    /// The writer's counters.
    pub fn stats(&self) -> Result<JournalStats> {
        // SAFETY: a sized struct of numbers; the journal is ours.
        let s = unsafe { get_sized(|s| sys::procmon_journal_stats_get(s, self.ptr())) }?;
        Ok(JournalStats {
            next_seq: s.next_seq,
            durable_seq: s.durable_seq,
            records: s.records,
            lost: s.lost,
            bytes_written: s.bytes_written,
            commits: s.commits,
            fsyncs: s.fsyncs,
            write_errors: s.write_errors,
            last_error: (s.last_error != 0).then(|| crate::Error::new(s.last_error, "").kind()),
            segments: s.segments,
            disk_bytes: s.disk_bytes,
            segments_removed: s.segments_removed,
            recovered_truncated_bytes: s.recovered_truncated_bytes,
            recovered_corrupt_records: s.recovered_corrupt_records,
            skipped_files: s.skipped_files,
        })
    }

    /// Stops recording, writes and fdatasyncs what is queued, and releases
    /// the directory; the error of a final write or sync that failed.
    pub fn close(mut self) -> Result<()> {
        match self.raw.take() {
            Some(j) => check(unsafe { sys::procmon_journal_close(j.as_ptr()) }),
            None => Ok(()),
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if let Some(j) = self.raw.take() {
            // SAFETY: we own it. A final write error is lost here: call close() to see it.
            unsafe { sys::procmon_journal_close(j.as_ptr()) };
        }
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").finish_non_exhaustive()
    }
}

/// Where a [`JournalReader`] starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFrom {
    /// The oldest record kept.
    Start,
    /// This sequence number (older ones gone show as one `Event::Lost`).
    Seq(u64),
    /// The first event at or after this time.
    Time(SystemTime),
}

/// A reader's counters.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ReaderStats {
    /// Records returned so far.
    pub records: u64,
    /// Runs of bytes skipped for a failed CRC or a bad length.
    pub corrupt_records: u64,
    /// Bytes skipped.
    pub corrupt_bytes: u64,
    /// Where the first skipped run was: its segment's first sequence number and byte offset.
    pub first_corrupt: Option<(u64, u64)>,
    /// Sequence numbers reported missing in `Event::Lost`.
    pub missing: u64,
    /// Names like a segment's that are not regular files (symlinks, FIFOs,
    /// sockets, directories, devices): never opened.
    pub skipped_files: u64,
}

/// Reads a journal in sequence order. A record's `seq` is the journal's
/// sequence number; a gap (a damaged record, or records gone to retention)
/// comes as [`Event::Lost`] with the number missing. As an `Iterator` it
/// ends at the end of what is written now; [`JournalReader::next_timeout`]
/// waits for a live writer. `Send`, one thread at a time.
pub struct JournalReader {
    raw: NonNull<sys::procmon_journal_reader>,
    batch: VecDeque<Event>,
}

// SAFETY: a reader may be used from any thread, one at a time.
unsafe impl Send for JournalReader {}

impl JournalReader {
    /// Opens `dir` for reading (no lock: a writer may be appending).
    pub fn open(dir: impl AsRef<Path>, from: ReadFrom) -> Result<JournalReader> {
        let dir = CString::new(dir.as_ref().as_os_str().as_bytes())
            .map_err(|_| crate::Error::new(sys::PROCMON_EINVAL, "the journal directory has a NUL byte"))?;
        let (from_seq, from_time_ns) = match from {
            ReadFrom::Start => (0, 0),
            ReadFrom::Seq(s) => (s, 0),
            ReadFrom::Time(t) => (0, t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)),
        };
        let options = sys::procmon_journal_read_options {
            version: sys::PROCMON_JOURNAL_READ_VERSION,
            reserved_: 0,
            from_seq,
            from_time_ns,
        };
        let mut r = std::ptr::null_mut();
        check(unsafe { sys::procmon_journal_reader_open(&mut r, dir.as_ptr(), &options) })?;
        Ok(JournalReader { raw: NonNull::new(r).expect("reader_open succeeded without a reader"), batch: VecDeque::new() })
    }

    fn fill(&mut self, timeout_ms: i32) -> Result<()> {
        const BATCH: usize = 256;
        let mut events: Vec<sys::procmon_event> = Vec::with_capacity(BATCH);
        let mut n = 0usize;
        check(unsafe {
            sys::procmon_journal_reader_next(
                self.raw.as_ptr(),
                events.as_mut_ptr(),
                std::mem::size_of::<sys::procmon_event>(),
                BATCH,
                &mut n,
                timeout_ms,
            )
        })?;
        // SAFETY: the library wrote the first n events in full.
        unsafe { events.set_len(n) };
        self.batch.extend(events.iter().map(Event::copy));
        Ok(())
    }

    /// The next record, waiting up to `timeout` for a writer to append one;
    /// `Ok(None)` when none came.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Event>> {
        if self.batch.is_empty() {
            self.fill(timeout.as_millis().min(i32::MAX as u128) as i32)?;
        }
        Ok(self.batch.pop_front())
    }

    /// The reader's counters.
    pub fn stats(&self) -> Result<ReaderStats> {
        // SAFETY: a sized struct of numbers; the reader is ours.
        let s = unsafe { get_sized(|s| sys::procmon_journal_reader_stats_get(s, self.raw.as_ptr())) }?;
        Ok(ReaderStats {
            records: s.records,
            corrupt_records: s.corrupt_records,
            corrupt_bytes: s.corrupt_bytes,
            first_corrupt: (s.corrupt_records > 0).then_some((s.first_corrupt_segment, s.first_corrupt_offset)),
            missing: s.missing,
            skipped_files: s.skipped_files,
        })
    }
}

impl Iterator for JournalReader {
    type Item = Result<Event>;
    /// The next record written so far, without waiting; None at the end.
    fn next(&mut self) -> Option<Result<Event>> {
        match self.next_timeout(Duration::ZERO) {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl Drop for JournalReader {
    fn drop(&mut self) {
        // SAFETY: we own it.
        unsafe { sys::procmon_journal_reader_close(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for JournalReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalReader").field("buffered", &self.batch.len()).finish_non_exhaustive()
    }
}
