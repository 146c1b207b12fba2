// The one seam between procmon and an operating system. Each OS implements
// ProcSource in src/platform/<os>/; everything above it is portable and sees
// only the raw facts below, already in portable units (ns, bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "core/arena.hpp"
#include "procmon.h"

namespace procmon::platform {

using Bytes = std::vector<char, ArenaBufferAllocator<char>>;  // read buffers: resize does not zero
using PidList = std::vector<int32_t, ArenaAllocator<int32_t>>;

// Outcome of one read about one process.
enum class Read {
    ok,
    gone,    // the process (or the file) no longer exists
    denied,  // the OS refused: permission
    failed,  // I/O error, or content that does not parse
};

// The cheap facts, read on every enumeration.
struct Stat {
    int32_t pid = 0, ppid = 0, pgid = 0, sid = 0, tty = 0;
    char state = '?';  // the OS's own letter, shown to users as it is
    procmon_state state_kind = PROCMON_STATE_UNKNOWN;  // its reading: all portable code asks this
    bool kernel_thread = false;
    char name[64] = {};        // NUL-terminated
    uint64_t start_ticks = 0;  // identity, with pid
    uint64_t start_boot_ns = 0;
    uint64_t start_time_ns = 0;  // wall clock
    uint64_t utime_ns = 0, stime_ns = 0;
    bool has_memory = false;
    uint64_t vms_bytes = 0, rss_bytes = 0;
    int32_t priority = 0, nice = 0;
    uint32_t threads = 0;
    uint64_t exec_key[4] = {};  // changes when the process execs (0 when unreadable)
    uint64_t argv_bytes = 0;    // size of the argument area, 0 when unknown
};

// Whether a user process read as `s` has let go of its memory image (it is
// exiting: the kernel drops the mm before the task turns zombie), so an
// empty argv read from it means gone, not empty. Kernel threads never had one.
inline bool image_released(const Stat &s) {
    const bool dead = s.state_kind == PROCMON_STATE_ZOMBIE || s.state_kind == PROCMON_STATE_DEAD;
    return !s.kernel_thread && (dead || (s.has_memory && s.vms_bytes == 0));
}

struct Status {
    int32_t pid = 0, tgid = 0;  // 0 when absent; tgid != pid: a thread, not a process
    bool has_ids = false;
    uint32_t uid = 0, euid = 0, suid = 0, gid = 0, egid = 0, sgid = 0;
    bool has_ctxsw = false;
    uint64_t voluntary = 0, nonvoluntary = 0;
};

// How much a process's main thread has run: equal values from two reads
// mean it did not run in between, so it cannot have exec'd or changed its
// name, ids or image (the polling pass skips it).
struct RunCount {
    uint64_t run_ns = 0, wait_ns = 0, slices = 0;
    bool operator==(const RunCount &) const = default;
};

struct Io {
    uint64_t rchar = 0, wchar = 0, syscr = 0, syscw = 0, read_bytes = 0, write_bytes = 0;
};

// Memory by how it is shared (Linux: /proc/<pid>/smaps_rollup), in bytes.
struct Smaps {
    uint64_t pss = 0, uss = 0, swap = 0;
};

// The machine as a whole, in bytes.
struct SystemInfo {
    uint32_t cpus = 0;
    uint64_t mem_total = 0, mem_available = 0, mem_free = 0, swap_total = 0, swap_free = 0;
    double load[3] = {};
    uint64_t boot_time_ns = 0;
};

class ProcSource {
public:
    // Opens the process table at `root` (Linux: a /proc tree). Status code;
    // sets the thread's error on failure.
    static int open(const char *root, Arena *arena, std::unique_ptr<ProcSource> &out);
    virtual ~ProcSource() = default;

    // All pids, ascending. Status code; sets the thread's error on failure.
    virtual int list_pids(PidList &out) = 0;
    // Now, in ns since boot, on the clock start times are measured against.
    virtual uint64_t boot_clock_ns() = 0;

    // The per-process reads below run on several reader threads at once
    // (one slice of the pids each): they may touch only what the caller
    // passes and what never changes after open. `scratch` is the caller's
    // buffer, reused between calls.
    virtual Read stat(int32_t pid, Stat &out, Bytes &scratch) = 0;
    // Ids always; the context switch counters when want_ctxsw.
    virtual Read status(int32_t pid, bool want_ctxsw, Status &out, Bytes &scratch) = 0;
    virtual Read exe(int32_t pid, Bytes &out) = 0;
    virtual Read cwd(int32_t pid, Bytes &out) = 0;
    // NUL-separated arguments, each terminated; at most `cap` bytes when cap
    // is non-zero (then `truncated` says whether more existed). `expected`
    // is Stat::argv_bytes (0 = unknown): it lets the read stop early.
    virtual Read argv(int32_t pid, std::size_t cap, uint64_t expected, Bytes &out, bool &truncated) = 0;
    virtual Read fd_count(int32_t pid, uint32_t &out, Bytes &scratch) = 0;
    // Cheaper than stat (Linux: /proc/<pid>/schedstat, about half the
    // cost). Read::gone also when the OS does not keep the counts.
    virtual Read run_count(int32_t pid, RunCount &out, Bytes &scratch) = 0;
    virtual Read io(int32_t pid, Io &out, Bytes &scratch) = 0;
    // The cgroup path, and the container id found in it ("" when none).
    virtual Read cgroup(int32_t pid, Bytes &path, Bytes &container_id, Bytes &scratch) = 0;
    virtual Read smaps(int32_t pid, Smaps &out, Bytes &scratch) = 0;

    // The enumerating thread only (not the readers). Status code; sets the
    // thread's error on failure.
    virtual int system(SystemInfo &out) = 0;
    // Total memory in bytes, for mem_percent (0 when unknown). The
    // enumerating thread only.
    virtual uint64_t mem_total_bytes() = 0;

    // Sends sig to the process pid if it is still the one that started at
    // start_ticks. Status code (ENOENT: gone or reused, EPERM, EUNSUPPORTED
    // when this source does not read the live system); sets the thread's
    // error. Any thread.
    virtual int signal(int32_t pid, uint64_t start_ticks, int sig) = 0;
};

// Whether the process read as `st` has exited (or let go of its image, or
// its pid was reused) since: an empty argv read in between then means gone,
// not empty. Asked of empty argvs only, so its extra read is rare.
inline bool gone_since(ProcSource &source, int32_t pid, const Stat &st, Bytes &scratch) {
    Stat again;
    return source.stat(pid, again, scratch) != Read::ok || image_released(again) || again.start_ticks != st.start_ticks;
}

// Something a thread can wait on, opaque above this layer (POSIX: a file
// descriptor; Windows would hold a HANDLE). Default: none.
class WaitHandle {
public:
    WaitHandle() = default;
    static WaitHandle from_native(intptr_t native) { return WaitHandle(native); }
    intptr_t native() const { return native_; }
    bool valid() const { return native_ >= 0; }

private:
    explicit WaitHandle(intptr_t native) : native_(native) {}
    intptr_t native_ = -1;
};

// ------------------------------------------------------------ kernel events

// One process event as the OS reports it, before enrichment.
struct KernelEvent {
    enum Kind { forked, execed, exited, uid_changed, gid_changed, renamed } kind;
    int32_t pid = 0, tgid = 0;                // the task; a process when pid == tgid
    int32_t parent_pid = 0, parent_tgid = 0;  // fork: the parent; exit: the parent
    int32_t exit_code = -1, exit_signal = 0;  // exit: decoded wait status
    uint32_t id = 0;                          // uid/gid: the new effective id
    char comm[16] = {};                       // comm: the new name
    uint64_t time_ns = 0;                     // CLOCK_MONOTONIC at the event

    // exec: the new image as the source saw it at the event, when it can
    // (netlink cannot; a source in the kernel could). The tracker then takes
    // these instead of reading them later, when the process may be gone.
    // They point into the source's buffer, valid until its next receive().
    enum Carried : uint32_t { carries_exe = 1u << 0, carries_argv = 1u << 1, carries_cwd = 1u << 2 };
    uint32_t carried = 0;  // Carried bits: which of the below are set
    const char *exe = nullptr;
    std::size_t exe_len = 0;
    const char *argv = nullptr;  // NUL-separated arguments, each terminated
    std::size_t argv_len = 0;
    const char *cwd = nullptr;  // no event reports a cwd yet: carried for when one does
    std::size_t cwd_len = 0;
};
using KernelEvents = std::vector<KernelEvent, ArenaAllocator<KernelEvent>>;

// A push source of process events (Linux: the netlink proc connector).
class EventSource {
public:
    // What the engine says of one push source in procmon_stats.source_reason:
    // static text, as the stats hand it out.
    struct Reasons {
        const char *running;      // it runs
        const char *denied;       // polling instead: EPERM
        const char *unavailable;  // polling instead: any other refusal
        const char *broken;       // polling instead: it failed while running
    };
    // One push source this OS offers.
    struct Kind {
        uint32_t source;  // its PROCMON_SOURCE_* value
        Reasons reasons;
        int (*open)(std::unique_ptr<EventSource> &out);
    };
    // The push sources of this OS, best first: what PROCMON_SOURCE_AUTO
    // tries, in this order, before it polls.
    static const Kind *kinds(std::size_t &n);
    static const Kind *find(uint32_t source);  // nullptr: not a push source here

    // Opens the push source `source` (a PROCMON_SOURCE_*). PROCMON_OK, or
    // the status code with the thread's error explaining why it cannot run
    // here (EPERM without the privilege it needs, EUNSUPPORTED).
    static int open(uint32_t source, std::unique_ptr<EventSource> &out);
    virtual ~EventSource() = default;

    virtual WaitHandle handle() const = 0;  // ready when events wait

    enum class Recv {
        ok,       // events appended (possibly none)
        lost,     // the kernel dropped events: `lost` of them (0 = unknown)
        failed,   // the source is broken (thread's error set)
    };
    // Reads what is waiting without blocking. Strings the events carry stay
    // valid until the next call.
    virtual Recv receive(KernelEvents &out, uint64_t &lost) = 0;
};

// ------------------------------------------------------- the event thread's needs

enum class Clock {
    monotonic,   // kernel event timestamps
    realtime,    // wall clock, what events report
    boottime,    // what process start times count from
    thread_cpu,  // CPU time of the calling thread
};
int64_t now_ns(Clock c);

// This process's resident memory in bytes, 0 when unknown.
uint64_t self_rss_bytes();

// What a daemon reports of itself (Prometheus's process_* metrics); each 0
// when unknown.
struct SelfResources {
    uint64_t cpu_ns = 0;  // user and system, all threads
    uint64_t rss_bytes = 0, virtual_bytes = 0;
    uint64_t open_files = 0;        // descriptors (Windows: handles) open now
    uint64_t open_files_limit = 0;  // the soft limit; UINT64_MAX: none
};
SelfResources self_resources();

// The soft limit on open files of the process pid; 0 when it cannot be read
// or there is none.
uint64_t open_files_limit(int32_t pid);

// Nanoseconds in one unit of procmon_process.start_ticks (Linux: a clock
// tick since boot, on the boot clock); 0 when unknown.
uint64_t ns_per_start_tick();

// The environment variable `name`, or null when it is unset, and also when
// this process runs setuid or setgid (where the OS can tell): then the
// environment is the caller's, who must not choose what the program trusts.
const char *secure_environment(const char *name);

// A wake-up one thread gives another: handle() is ready from the first wake()
// until drain() (Linux: an eventfd). Any thread may wake; wake() is
// async-signal-safe.
class Waker {
public:
    Waker();
    ~Waker();
    Waker(const Waker &) = delete;
    Waker &operator=(const Waker &) = delete;
    bool ok() const { return handle_.valid(); }
    WaitHandle handle() const { return handle_; }
    void wake();
    void drain();

private:
    WaitHandle handle_;
};

enum class Wait {
    ready,        // at least one handle is ready
    timed_out,    // timeout_ms passed
    interrupted,  // a signal arrived for this thread
    failed,       // the OS refused the wait (errno set)
};

// Waits until one of the n handles is ready (invalid ones are ignored) or
// timeout_ms pass (-1: forever, 0: just look).
Wait wait_any(const WaitHandle *handles, std::size_t n, int timeout_ms);
inline Wait wait_any(std::initializer_list<WaitHandle> handles, int timeout_ms) {
    return wait_any(handles.begin(), handles.size(), timeout_ms);
}

}  // namespace procmon::platform
