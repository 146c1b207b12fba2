//! Snapshots: every process at one moment, as records borrowed from it.
use std::collections::{HashMap, HashSet};
use std::ffi::{CStr, CString, OsStr};
use std::marker::PhantomData;
use std::ops::{BitOr, BitOrAssign};
use std::os::unix::ffi::OsStrExt;
use std::ptr::NonNull;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use procmon_sys as sys;

use crate::error::{Error, Result};

/// Field groups to read; a record's [`Process::fields`] says which were.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fields(u64);

impl Fields {
    /// pid ppid pgid sid tty state flags name start time: always read.
    pub const BASIC: Fields = Fields(sys::PROCMON_FIELD_BASIC as u64);
    /// CPU times and percentage.
    pub const CPU: Fields = Fields(sys::PROCMON_FIELD_CPU as u64);
    /// rss and vms.
    pub const MEMORY: Fields = Fields(sys::PROCMON_FIELD_MEMORY as u64);
    /// threads, nice, priority.
    pub const SCHED: Fields = Fields(sys::PROCMON_FIELD_SCHED as u64);
    /// real, effective and saved uid and gid.
    pub const IDS: Fields = Fields(sys::PROCMON_FIELD_IDS as u64);
    /// The executable's path.
    pub const EXE: Fields = Fields(sys::PROCMON_FIELD_EXE as u64);
    /// The arguments.
    pub const ARGV: Fields = Fields(sys::PROCMON_FIELD_ARGV as u64);
    /// Opt-in: working directory.
    pub const CWD: Fields = Fields(sys::PROCMON_FIELD_CWD as u64);
    /// Opt-in: open file descriptors.
    pub const FDS: Fields = Fields(sys::PROCMON_FIELD_FDS as u64);
    /// Opt-in: I/O counters.
    pub const IO: Fields = Fields(sys::PROCMON_FIELD_IO as u64);
    /// Opt-in: context switches.
    pub const CTXSW: Fields = Fields(sys::PROCMON_FIELD_CTXSW as u64);
    /// Opt-in: cgroup and container id.
    pub const CGROUP: Fields = Fields(sys::PROCMON_FIELD_CGROUP as u64);
    /// Opt-in: pss, uss and swap (smaps_rollup: walks the page tables,
    /// about ten times the cost of a default read).
    pub const SMAPS: Fields = Fields(sys::PROCMON_FIELD_SMAPS as u64);
    /// BASIC CPU MEMORY SCHED IDS EXE ARGV: every group but the opt-in ones.
    pub const DEFAULT: Fields = Fields(sys::PROCMON_FIELDS_DEFAULT as u64);
    /// Every group.
    pub const ALL: Fields = Fields(sys::PROCMON_FIELDS_ALL as u64);

    /// Whether every group of `other` is in `self`.
    pub fn contains(self, other: Fields) -> bool {
        self.0 & other.0 == other.0
    }
    /// The bits, as `PROCMON_FIELD_*`.
    pub fn bits(self) -> u64 {
        self.0
    }
}

impl BitOr for Fields {
    type Output = Fields;
    fn bitor(self, rhs: Fields) -> Fields {
        Fields(self.0 | rhs.0)
    }
}

impl BitOrAssign for Fields {
    fn bitor_assign(&mut self, rhs: Fields) {
        self.0 |= rhs.0;
    }
}

/// What a snapshot reads and which processes it keeps.
///
/// ```
/// use procmon::{Context, Fields, Query};
/// let ctx = Context::new()?;
/// let me = std::process::id() as i32;
/// let snap = ctx.query(&Query::new().fields(Fields::DEFAULT | Fields::CWD).pids(&[me]))?;
/// assert_eq!(snap.len(), 1);
/// assert!(snap.iter().next().unwrap().cwd().is_some());
/// # Ok::<(), procmon::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Query {
    fields: Option<Fields>,
    name: Option<Vec<u8>>,
    cmdline: Option<Vec<u8>>,
    uid: Option<u32>,
    pids: Option<Vec<i32>>,
    refresh: bool,
}

pub(crate) struct RawQuery {
    pub(crate) query: sys::procmon_query,
    _patterns: [Option<CString>; 2],
    _pids: Option<Vec<i32>>,
}

/// A pattern as the library takes it; `what` names it in the error for a NUL byte.
fn pattern(glob: &Option<Vec<u8>>, what: &str) -> Result<Option<CString>> {
    match glob {
        Some(g) => CString::new(g.clone()).map(Some).map_err(|_| Error::new(sys::PROCMON_EINVAL, format!("{} contains NUL", what))),
        None => Ok(None),
    }
}

/// The pointer the library takes for an optional string.
pub(crate) fn c_ptr(s: &Option<CString>) -> *const std::os::raw::c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

impl Query {
    /// Every process, default fields.
    pub fn new() -> Query {
        Query::default()
    }
    /// The field groups to read.
    pub fn fields(mut self, fields: Fields) -> Query {
        self.fields = Some(fields);
        self
    }
    /// Only processes whose name matches this fnmatch(3) pattern: the name
    /// users see ([`Process::full_name`]), not the kernel's 15-byte cut.
    pub fn name(mut self, glob: impl AsRef<OsStr>) -> Query {
        self.name = Some(glob.as_ref().as_bytes().to_vec());
        self
    }
    /// Only processes whose command line (the arguments joined by single
    /// spaces) matches this fnmatch(3) pattern, as a whole: `"*serve*"`
    /// finds `serve` anywhere, as `pgrep -f` does. A process whose
    /// arguments cannot be read does not match.
    ///
    /// ```
    /// use procmon::{Context, Query};
    /// let ctx = Context::new()?;
    /// for p in &ctx.query(&Query::new().cmdline("*--serve *"))? {
    ///     println!("{} {:?}", p.pid(), p.args());
    /// }
    /// # Ok::<(), procmon::Error>(())
    /// ```
    pub fn cmdline(mut self, glob: impl AsRef<OsStr>) -> Query {
        self.cmdline = Some(glob.as_ref().as_bytes().to_vec());
        self
    }
    /// Only processes of this effective uid.
    pub fn uid(mut self, uid: u32) -> Query {
        self.uid = Some(uid);
        self
    }
    /// Only these pids.
    pub fn pids(mut self, pids: &[i32]) -> Query {
        self.pids = Some(pids.to_vec());
        self
    }
    /// Re-read what the identity cache holds (argv, exe, ids).
    pub fn refresh(mut self) -> Query {
        self.refresh = true;
        self
    }

    pub(crate) fn raw(&self) -> Result<RawQuery> {
        let name = pattern(&self.name, "name pattern")?;
        let cmdline = pattern(&self.cmdline, "command line pattern")?;
        let pids = self.pids.clone();
        let mut query = sys::query_init().map_err(Error::last)?;
        query.fields = self.fields.map_or(0, |f| f.0);
        query.name_glob = c_ptr(&name);
        query.cmdline_glob = c_ptr(&cmdline);
        query.uid = self.uid.map_or(-1, i64::from);
        if let Some(p) = &pids {
            query.pids = p.as_ptr();
            query.pid_count = p.len();
        }
        query.flags = if self.refresh { sys::PROCMON_QUERY_REFRESH } else { 0 };
        Ok(RawQuery { query, _patterns: [name, cmdline], _pids: pids })
    }
}

/// Every selected process at one moment, sorted by pid. Immutable: `Send`
/// and `Sync`, and valid after its [`Context`](crate::Context) is dropped.
pub struct Snapshot {
    raw: NonNull<sys::procmon_snapshot>,
    asked: Fields,
}

// SAFETY: an immutable snapshot may be read from any thread and freed from any thread.
unsafe impl Send for Snapshot {}
unsafe impl Sync for Snapshot {}

impl Snapshot {
    pub(crate) fn from_raw(raw: *mut sys::procmon_snapshot, fields: u64) -> Snapshot {
        Snapshot {
            raw: NonNull::new(raw).expect("procmon_enumerate succeeded without a snapshot"),
            asked: Fields(if fields == 0 { sys::PROCMON_FIELDS_DEFAULT as u64 } else { fields }),
        }
    }
    /// Number of processes.
    pub fn len(&self) -> usize {
        unsafe { sys::procmon_snapshot_count(self.raw.as_ptr()) }
    }
    /// Whether it holds no process.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The field groups that were asked for.
    pub fn fields(&self) -> Fields {
        self.asked
    }
    /// Record `i` (by pid order), if in range.
    pub fn get(&self, i: usize) -> Option<Process<'_>> {
        // SAFETY: the record lives as long as the snapshot, which the borrow ties it to.
        let p = unsafe { sys::procmon_snapshot_at(self.raw.as_ptr(), i) };
        unsafe { p.as_ref() }.map(Process::new)
    }
    /// The record of `pid`, in O(log n).
    pub fn find(&self, pid: i32) -> Option<Process<'_>> {
        let p = unsafe { sys::procmon_snapshot_find(self.raw.as_ptr(), pid) };
        unsafe { p.as_ref() }.map(Process::new)
    }
    /// Every record, in pid order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { snap: self, next: 0, end: self.len() }
    }

    /// The record of `pid`'s parent, if it is in the snapshot.
    pub fn parent(&self, pid: i32) -> Option<Process<'_>> {
        self.find(pid).and_then(|p| self.find(p.ppid()))
    }

    /// The processes whose parent is `pid`, in pid order.
    pub fn children(&self, pid: i32) -> Vec<Process<'_>> {
        self.iter().filter(|p| p.ppid() == pid && p.pid() != pid).collect()
    }

    /// `pid`'s children, their children, and so on (not `pid` itself),
    /// breadth first: the children in pid order, then the children of each
    /// of them in turn. Each process comes once, even where a pid reused
    /// while the snapshot was read makes the parent links a cycle.
    ///
    /// ```
    /// let ctx = procmon::Context::new()?;
    /// let snap = ctx.snapshot()?;
    /// let tree = snap.descendants(1);
    /// assert!(tree.iter().all(|p| p.pid() != 1));
    /// # Ok::<(), procmon::Error>(())
    /// ```
    pub fn descendants(&self, pid: i32) -> Vec<Process<'_>> {
        let mut by_parent: HashMap<i32, Vec<Process<'_>>> = HashMap::new();
        for p in self.iter() {
            by_parent.entry(p.ppid()).or_default().push(p);
        }
        let mut seen = HashSet::from([pid]);
        let mut out: Vec<Process<'_>> = Vec::new();
        let mut next = 0;
        let mut parent = pid;
        loop {
            for &child in by_parent.get(&parent).map_or(&[][..], |c| &c[..]) {
                if seen.insert(child.pid()) {
                    out.push(child);
                }
            }
            match out.get(next) {
                Some(p) => parent = p.pid(),
                None => return out,
            }
            next += 1;
        }
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        unsafe { sys::procmon_snapshot_free(self.raw.as_ptr()) }
    }
}

impl<'a> IntoIterator for &'a Snapshot {
    type Item = Process<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over a snapshot's records.
pub struct Iter<'a> {
    snap: &'a Snapshot,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Process<'a>;
    fn next(&mut self) -> Option<Process<'a>> {
        if self.next == self.end {
            return None;
        }
        self.next += 1;
        self.snap.get(self.next - 1)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.end - self.next, Some(self.end - self.next))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Real, effective and saved ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    /// Real id.
    pub real: u32,
    /// Effective id.
    pub effective: u32,
    /// Saved id.
    pub saved: u32,
}

/// I/O counters (`/proc/<pid>/io`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoCounters {
    /// Bytes read by read-like calls.
    pub rchar: u64,
    /// Bytes written by write-like calls.
    pub wchar: u64,
    /// Read calls.
    pub syscr: u64,
    /// Write calls.
    pub syscw: u64,
    /// Bytes fetched from storage.
    pub read_bytes: u64,
    /// Bytes sent to storage.
    pub write_bytes: u64,
}

/// One process, borrowed from its snapshot: it cannot outlive it.
///
/// ```compile_fail
/// let ctx = procmon::Context::new().unwrap();
/// let first = {
///     let snap = ctx.snapshot().unwrap();
///     snap.get(0).unwrap() // borrowed from `snap`, which ends here
/// };
/// println!("{}", first.pid());
/// ```
///
/// Getters of a field group return `None` when that group was not read
/// (not asked for, or not readable, such as another user's exe without
/// privilege): never a 0 that looks like data.
#[derive(Clone, Copy)]
pub struct Process<'snap> {
    p: &'snap sys::procmon_process,
    _snap: PhantomData<&'snap Snapshot>,
}

fn text(p: *const std::os::raw::c_char) -> &'static [u8] {
    if p.is_null() {
        b""
    } else {
        // SAFETY: the library's strings are NUL-terminated; the caller ties the lifetime.
        unsafe { CStr::from_ptr(p) }.to_bytes()
    }
}

impl<'snap> Process<'snap> {
    fn new(p: &'snap sys::procmon_process) -> Process<'snap> {
        Process { p, _snap: PhantomData }
    }
    fn has(&self, f: Fields) -> bool {
        self.p.valid & f.0 != 0
    }
    fn bytes(&self, p: *const std::os::raw::c_char) -> &'snap OsStr {
        OsStr::from_bytes(text(p))
    }

    /// The field groups read for this record.
    pub fn fields(&self) -> Fields {
        Fields(self.p.valid)
    }
    /// Process id.
    pub fn pid(&self) -> i32 {
        self.p.pid
    }
    /// Parent's process id.
    pub fn ppid(&self) -> i32 {
        self.p.ppid
    }
    /// Process group id.
    pub fn pgid(&self) -> i32 {
        self.p.pgid
    }
    /// Session id.
    pub fn sid(&self) -> i32 {
        self.p.sid
    }
    /// The kernel's state letter ('R', 'S', 'D', 'Z', ...).
    pub fn state(&self) -> char {
        self.p.state as u8 as char
    }
    /// The state, the same on every OS, in psutil's words: "running",
    /// "sleeping", "disk-sleep", "zombie", ... ("unknown" when the OS's
    /// state has no portable reading). The library's own table names it.
    pub fn status(&self) -> &'static str {
        // SAFETY: static text of the library, or NULL for a value its table lacks
        let name = unsafe { sys::procmon_state_name(self.p.state_kind) };
        if name.is_null() {
            return "unknown";
        }
        // SAFETY: as above, NUL-terminated
        unsafe { CStr::from_ptr(name) }.to_str().unwrap_or("unknown")
    }
    /// The kernel's name (comm): any bytes but NUL, at most 15 for user
    /// processes. See [`Process::full_name`] for the name users see.
    pub fn name(&self) -> &'snap OsStr {
        self.bytes(self.p.name)
    }
    /// The name users see (psutil's rule): [`name`](Process::name), or
    /// when the kernel cut it at 15 bytes, the base name of argv\[0\] or
    /// else of the exe when that starts with the name. What
    /// [`Query::name`] matches. Equals `name` when argv and exe were not read.
    pub fn full_name(&self) -> &'snap OsStr {
        if self.p.full_name.is_null() {
            self.name()
        } else {
            self.bytes(self.p.full_name)
        }
    }
    /// Start time in clock ticks since boot: with the pid, the identity.
    pub fn start_ticks(&self) -> u64 {
        self.p.start_ticks
    }
    /// When it started.
    pub fn start_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.p.start_time_ns)
    }
    /// A kernel thread.
    pub fn is_kernel_thread(&self) -> bool {
        self.p.flags & sys::PROCMON_PROC_KTHREAD != 0
    }
    /// Exited, not yet reaped.
    pub fn is_zombie(&self) -> bool {
        self.p.flags & sys::PROCMON_PROC_ZOMBIE != 0
    }
    /// The executable's path.
    pub fn exe(&self) -> Option<&'snap OsStr> {
        self.has(Fields::EXE).then(|| self.bytes(self.p.exe))
    }
    /// The arguments, exactly as the process has them (no lossy UTF-8).
    pub fn args(&self) -> Option<Args<'snap>> {
        self.has(Fields::ARGV).then(|| Args::new(self.argv_bytes().unwrap_or(b"")))
    }
    /// The argument block: each argument NUL-terminated, back to back.
    pub fn argv_bytes(&self) -> Option<&'snap [u8]> {
        if !self.has(Fields::ARGV) || self.p.argv.is_null() {
            return self.has(Fields::ARGV).then(|| &b""[..]);
        }
        // SAFETY: argv_len bytes at argv, living with the snapshot.
        Some(unsafe { std::slice::from_raw_parts(self.p.argv as *const u8, self.p.argv_len) })
    }
    /// argv was cut at the context's argv cap.
    pub fn argv_truncated(&self) -> bool {
        self.p.flags & sys::PROCMON_PROC_ARGV_TRUNCATED != 0
    }
    /// User ids.
    pub fn uids(&self) -> Option<Ids> {
        self.has(Fields::IDS).then_some(Ids { real: self.p.uid, effective: self.p.euid, saved: self.p.suid })
    }
    /// Group ids.
    pub fn gids(&self) -> Option<Ids> {
        self.has(Fields::IDS).then_some(Ids { real: self.p.gid, effective: self.p.egid, saved: self.p.sgid })
    }
    /// User and system CPU time.
    pub fn cpu_times(&self) -> Option<(Duration, Duration)> {
        self.has(Fields::CPU).then(|| (Duration::from_nanos(self.p.utime_ns), Duration::from_nanos(self.p.stime_ns)))
    }
    /// CPU use since the context's previous snapshot (100 = one core), or
    /// since the process started if that one did not see it.
    pub fn cpu_percent(&self) -> Option<f64> {
        self.has(Fields::CPU).then_some(self.p.cpu_percent)
    }
    /// Resident memory, bytes.
    pub fn rss(&self) -> Option<u64> {
        self.has(Fields::MEMORY).then_some(self.p.rss_bytes)
    }
    /// Virtual memory, bytes.
    pub fn vms(&self) -> Option<u64> {
        self.has(Fields::MEMORY).then_some(self.p.vms_bytes)
    }
    /// Resident memory in percent of the machine's total memory.
    pub fn mem_percent(&self) -> Option<f64> {
        self.has(Fields::MEMORY).then_some(self.p.mem_percent)
    }
    /// Proportional set size, bytes: shared pages divided among the
    /// processes sharing them, so that it sums to the machine's use
    /// (opt-in [`Fields::SMAPS`]).
    pub fn pss(&self) -> Option<u64> {
        self.has(Fields::SMAPS).then_some(self.p.pss_bytes)
    }
    /// Unique set size, bytes: private pages, freed when it exits (opt-in
    /// [`Fields::SMAPS`]).
    pub fn uss(&self) -> Option<u64> {
        self.has(Fields::SMAPS).then_some(self.p.uss_bytes)
    }
    /// Swapped out, bytes (opt-in [`Fields::SMAPS`]).
    pub fn swap(&self) -> Option<u64> {
        self.has(Fields::SMAPS).then_some(self.p.swap_bytes)
    }
    /// Number of threads.
    pub fn threads(&self) -> Option<u32> {
        self.has(Fields::SCHED).then_some(self.p.threads)
    }
    /// Nice value.
    pub fn nice(&self) -> Option<i32> {
        self.has(Fields::SCHED).then_some(self.p.nice)
    }
    /// Working directory (opt-in [`Fields::CWD`]).
    pub fn cwd(&self) -> Option<&'snap OsStr> {
        self.has(Fields::CWD).then(|| self.bytes(self.p.cwd))
    }
    /// Open file descriptors (opt-in [`Fields::FDS`]).
    pub fn fd_count(&self) -> Option<u32> {
        self.has(Fields::FDS).then_some(self.p.fd_count)
    }
    /// I/O counters (opt-in [`Fields::IO`]).
    pub fn io(&self) -> Option<IoCounters> {
        let p = self.p;
        self.has(Fields::IO).then_some(IoCounters {
            rchar: p.io_rchar,
            wchar: p.io_wchar,
            syscr: p.io_syscr,
            syscw: p.io_syscw,
            read_bytes: p.io_read_bytes,
            write_bytes: p.io_write_bytes,
        })
    }
    /// Voluntary and involuntary context switches (opt-in [`Fields::CTXSW`]).
    pub fn context_switches(&self) -> Option<(u64, u64)> {
        self.has(Fields::CTXSW).then_some((self.p.voluntary_ctxt_switches, self.p.nonvoluntary_ctxt_switches))
    }
    /// cgroup path (opt-in [`Fields::CGROUP`]).
    pub fn cgroup(&self) -> Option<&'snap OsStr> {
        self.has(Fields::CGROUP).then(|| self.bytes(self.p.cgroup))
    }
    /// Container id found in the cgroup path (opt-in [`Fields::CGROUP`]; None if none).
    pub fn container_id(&self) -> Option<&'snap OsStr> {
        let id = self.bytes(self.p.container_id);
        (self.has(Fields::CGROUP) && !id.is_empty()).then_some(id)
    }
    /// The raw record, for fields this crate does not wrap.
    pub fn as_raw(&self) -> &'snap sys::procmon_process {
        self.p
    }

    fn identity(&self) -> (i32, u64) {
        (self.pid(), self.start_ticks())
    }
    signal_methods!();
}

/// Every field, groups not read as `None`; names, paths and arguments as
/// text (as `OsStr` shows them: bytes that are not UTF-8 escaped).
impl std::fmt::Debug for Process<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid())
            .field("ppid", &self.ppid())
            .field("pgid", &self.pgid())
            .field("sid", &self.sid())
            .field("state", &self.state())
            .field("name", &self.name())
            .field("full_name", &self.full_name())
            .field("start_ticks", &self.start_ticks())
            .field("start_time", &self.start_time())
            .field("kernel_thread", &self.is_kernel_thread())
            .field("zombie", &self.is_zombie())
            .field("exe", &self.exe())
            .field("argv", &self.args())
            .field("argv_truncated", &self.argv_truncated())
            .field("uids", &self.uids())
            .field("gids", &self.gids())
            .field("cpu_times", &self.cpu_times())
            .field("cpu_percent", &self.cpu_percent())
            .field("rss", &self.rss())
            .field("vms", &self.vms())
            .field("mem_percent", &self.mem_percent())
            .field("pss", &self.pss())
            .field("uss", &self.uss())
            .field("swap", &self.swap())
            .field("threads", &self.threads())
            .field("nice", &self.nice())
            .field("cwd", &self.cwd())
            .field("fd_count", &self.fd_count())
            .field("io", &self.io())
            .field("context_switches", &self.context_switches())
            .field("cgroup", &self.cgroup())
            .field("container_id", &self.container_id())
            .finish()
    }
}

/// The arguments of a process, each as `&OsStr`; `{:?}` shows them as a
/// list of text.
#[derive(Clone)]
pub struct Args<'a> {
    rest: &'a [u8],
}

impl<'a> Args<'a> {
    pub(crate) fn new(block: &'a [u8]) -> Args<'a> {
        Args { rest: block }
    }
}

impl std::fmt::Debug for Args<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a OsStr;
    fn next(&mut self) -> Option<&'a OsStr> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.iter().position(|&b| b == 0).unwrap_or(self.rest.len());
        let arg = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or(b"");
        Some(OsStr::from_bytes(arg))
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("len", &self.len()).field("fields", &self.asked).finish()
    }
}
