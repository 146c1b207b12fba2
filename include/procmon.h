/*
 * procmon.h -- the one public header of libprocmon.
 *
 * procmon answers two questions about the processes of a machine, fast and in
 * bounded memory: which processes exist and what they are doing
 * (procmon_enumerate), and when one starts, execs or exits
 * (procmon_subscribe).
 *
 * The header is C89 plus <stdint.h>: C99's fixed-width integer types
 * (uint32_t, int64_t, ...) are the only C99 it uses, and GCC and Clang
 * provide <stdint.h> in C89 mode too. It compiles with -std=c89 -pedantic
 * and as C++, and reads top-down: export macro, versions, status codes and
 * errors, opaque handles, then one section per capability.
 *
 * Conventions (see docs/api.md):
 *  - Every fallible function returns int: PROCMON_OK (0) or a negative
 *    PROCMON_E* code. procmon_error_last() explains the last failure on the
 *    calling thread; it never detects one.
 *  - Results come back through the first parameter. What a function hands out
 *    through **out is released with that object's own _free/_close, which
 *    accept NULL. Pointers returned by getters are borrowed from their parent.
 *  - Input structs start with `unsigned int version`; initialise them with
 *    the matching *_INIT macro or *_init() function. The library reads only
 *    the fields of the version the caller declares, so a program built
 *    against an older header keeps working. Structs the library fills start
 *    with `uint32_t size` and only ever grow at the end; the caller says how
 *    large its struct is (out->size, or event_size for arrays of events) and
 *    the library never writes past it.
 *  - Constants are plain integer literals (no casts), so binding generators
 *    (bindgen, ctypes, cffi) can read them.
 *  - Threading is stated per function; the default is that one context is
 *    used by one thread at a time (docs/threading.md).
 */
#ifndef PROCMON_H
#define PROCMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ export */
#if defined(PROCMON_STATIC)
#  define PROCMON_API
#elif defined(_WIN32)
#  if defined(PROCMON_BUILDING)
#    define PROCMON_API __declspec(dllexport)
#  else
#    define PROCMON_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define PROCMON_API __attribute__((visibility("default")))
#else
#  define PROCMON_API
#endif

/* ----------------------------------------------------------------- version */
#define PROCMON_VERSION_MAJOR 0
#define PROCMON_VERSION_MINOR 4
#define PROCMON_VERSION_PATCH 0
#define PROCMON_VERSION_NUMBER 400 /* MAJOR * 10000 + MINOR * 100 + PATCH */
#define PROCMON_VERSION_STRING "0.4.0"

/* The library's PROCMON_VERSION_NUMBER, to compare with the header's.
 * Any thread. */
PROCMON_API unsigned int procmon_version(void);
/* The library's version as static text, e.g. "0.3.0". Any thread. */
PROCMON_API const char *procmon_version_string(void);

/* ---------------------------------------------------------- status codes */
/* X(name, value, text): one table, so names, values and texts cannot drift. */
#define PROCMON_STATUS_MAP(X)                                                   \
    X(OK,           0,  "success")                                              \
    X(EINVAL,      -1,  "invalid argument")                                     \
    X(ENOMEM,      -2,  "out of memory: the context's arena cap was reached")   \
    X(EPERM,       -3,  "permission denied")                                    \
    X(ENOENT,      -4,  "no such file, process or object")                      \
    X(EIO,         -5,  "input/output error")                                   \
    X(EAGAIN,      -6,  "resource temporarily unavailable, try again")          \
    X(ETIMEDOUT,   -7,  "timed out")                                            \
    X(ECLOSED,     -8,  "the object was closed")                                \
    X(EUNSUPPORTED,-9,  "not supported on this platform or build")              \
    X(EVERSION,    -10, "unsupported options struct version")                   \
    X(EUSER,       -11, "reserved for errors returned by user callbacks")       \
    X(EINTERNAL,   -12, "internal error in procmon (please report it)")         \
    X(EBUSY,       -13, "busy: not allowed from inside this object's own callback") \
    X(ENOSPC,      -14, "no space left on the device")                          \
    X(ELOCKED,     -15, "locked: another writer holds it")                      \
    X(EFORMAT,     -16, "not a procmon journal, or written by a newer format") \
    X(EINTR,       -17, "interrupted by a signal (since 0.3)")                \
    X(EPROTO,      -18, "the daemon broke the protocol, speaks another version of it, or went away (since 0.4)")

#define PROCMON_STATUS_ENUM_ENTRY_(name, value, text) PROCMON_##name = value,
typedef enum procmon_status {
    PROCMON_STATUS_MAP(PROCMON_STATUS_ENUM_ENTRY_)
    PROCMON_STATUS_LAST_ = -18
} procmon_status;
#undef PROCMON_STATUS_ENUM_ENTRY_

/* Static English text for a status code; never NULL ("unknown status code"
 * for a value not in the table). Any thread. */
PROCMON_API const char *procmon_strerror(int code);

/* Detail of the last failure on the calling thread. */
typedef struct procmon_error {
    int         code;       /* PROCMON_E* of the failed call, PROCMON_OK if none yet */
    int         sys_errno;  /* the OS errno behind it, 0 if none */
    const char *message;    /* names what failed, e.g. "open /proc/123/stat: Permission denied" */
} procmon_error;

/* The calling thread's last error; never NULL. Valid until the next procmon
 * call on this thread that fails. Only failing calls overwrite it: it
 * explains an error, it never detects one. Any thread (thread-local). */
PROCMON_API const procmon_error *procmon_error_last(void);

/* --------------------------------------------------------- opaque handles */
typedef struct procmon_ctx procmon_ctx;
typedef struct procmon_snapshot procmon_snapshot;
typedef struct procmon_subscription procmon_subscription;

/* ---------------------------------------------------------------- context */
#define PROCMON_OPTIONS_VERSION 2
#define PROCMON_DEFAULT_ARENA_CAP 67108864 /* 64 MiB */
#define PROCMON_MIN_ARENA_CAP     1048576  /* 1 MiB */
#define PROCMON_MAX_ARENA_CAP     1099511627776 /* 1 TiB (since 0.2; larger was never usable) */
#define PROCMON_MAX_THREADS       64       /* procmon_options.threads */
/* Contexts open at once in one process. A closed context stops counting
 * once its snapshots and subscriptions are freed too (they keep its memory
 * accounting alive). The limit holds with either allocator
 * (procmon_stats.allocator). */
#define PROCMON_MAX_CONTEXTS      64

/* Cache policy for per-process facts that rarely change (argv, exe, ids). */
#define PROCMON_CACHE_STATIC 0 /* default: cache per identity (pid, start
                                  time); re-read after an exec or on
                                  PROCMON_QUERY_REFRESH */
#define PROCMON_CACHE_NONE   1 /* re-read everything on every enumeration */

/* Where lifecycle events come from (procmon_subscribe). */
#define PROCMON_SOURCE_AUTO    0 /* the netlink proc connector when permitted, else polling */
#define PROCMON_SOURCE_POLLING 1 /* always diff snapshots at poll_interval_ms */
#define PROCMON_SOURCE_NETLINK 2 /* the netlink proc connector, or procmon_subscribe fails
                                    (EPERM, EUNSUPPORTED): no fallback (since 0.3) */

/* The names of the sources, for procmon_source_name / procmon_source_from_name
 * and the stats (since 0.3): X(NAME, text), PROCMON_SOURCE_##NAME the value. */
#define PROCMON_SOURCE_MAP(X) \
    X(AUTO,    "auto")        \
    X(POLLING, "polling")     \
    X(NETLINK, "netlink")

typedef struct procmon_options {
    unsigned int version;         /* PROCMON_OPTIONS_VERSION */
    uint64_t     arena_cap_bytes; /* memory cap for snapshots, caches and event
                                     queues: 0 = PROCMON_DEFAULT_ARENA_CAP, else
                                     PROCMON_MIN_ARENA_CAP..PROCMON_MAX_ARENA_CAP */
    const char  *proc_root;       /* where /proc is; NULL = "/proc" (tests use fixture trees) */
    uint32_t     argv_cap_bytes;  /* max argv bytes kept per process; 0 = whole (the
                                     kernel's ARG_MAX); a cut argv is flagged */
    uint32_t     cache_policy;    /* PROCMON_CACHE_* */
    uint32_t     threads;         /* reader threads: 0 = automatic (CPUs, at most 4),
                                     1 = calling thread only, at most PROCMON_MAX_THREADS */
    /* events (procmon_subscribe) */
    uint32_t     event_source;    /* PROCMON_SOURCE_* */
    uint32_t     poll_interval_ms;/* polling source: 0 = 1000; backpressure may raise
                                     it up to 16 times this */
    uint32_t     high_watermark_percent; /* queue fill that slows polling; 0 = 75, at most 100 */
    uint32_t     low_watermark_percent;  /* queue fill that restores it; 0 = 25, below high */
    /* version 2 (since 0.4) */
    const char  *endpoint;        /* where the processes are read: NULL = the environment's
                                     PROCMON_ENDPOINT when set and not empty (read with
                                     secure_getenv: ignored by a setuid or setgid program),
                                     else this machine's proc_root; "" = this machine, whatever the
                                     environment says; else the Unix socket path of a
                                     procmond ("unix:" prefix allowed). A remote context
                                     ignores proc_root, argv_cap_bytes, cache_policy,
                                     threads, event_source and the polling fields: the
                                     daemon's configuration decides them */
} procmon_options;

#define PROCMON_OPTIONS_INIT { PROCMON_OPTIONS_VERSION, 0, NULL, 0, PROCMON_CACHE_STATIC, 0, \
                               PROCMON_SOURCE_AUTO, 0, 0, 0, NULL }

/* Fill *o with defaults for the given struct version.
 * Errors: EINVAL (o NULL), EVERSION (version unknown). Any thread. */
PROCMON_API int procmon_options_init(procmon_options *o, unsigned int version);

/* Open a context: reserves its memory arena, opens the proc root.
 * opts may be NULL for defaults. On success *out owns the context; release it
 * with procmon_close. Errors: EINVAL (a field outside its documented range),
 * EVERSION (opts->version newer than this library), ENOMEM (arena could not
 * be reserved, e.g. PROCMON_MAX_CONTEXTS are open), ENOENT/EPERM (proc
 * root), EUNSUPPORTED. Any thread. */
PROCMON_API int procmon_open(procmon_ctx **out, const procmon_options *opts);

/* Close a context; NULL is a no-op. Snapshots taken from it stay valid until
 * they are freed; its subscriptions are closed (their waits return
 * PROCMON_ECLOSED) and must still be released with procmon_unsubscribe.
 * Not while another thread enumerates or subscribes on the same context. */
PROCMON_API void procmon_close(procmon_ctx *ctx);

/* ------------------------------------------------------------ enumeration */

/* Field groups: a query asks for some, a record's `valid` says which were read. */
#define PROCMON_FIELD_BASIC    0x0001 /* pid ppid pgid sid tty state flags name start time: always read */
#define PROCMON_FIELD_CPU      0x0002 /* utime stime cpu_percent */
#define PROCMON_FIELD_MEMORY   0x0004 /* rss vms */
#define PROCMON_FIELD_SCHED    0x0008 /* threads nice priority */
#define PROCMON_FIELD_IDS      0x0010 /* real/effective/saved uid and gid */
#define PROCMON_FIELD_EXE      0x0020 /* exe */
#define PROCMON_FIELD_ARGV     0x0040 /* argv argv_len argc */
#define PROCMON_FIELD_CWD      0x0080 /* opt-in: cwd */
#define PROCMON_FIELD_FDS      0x0100 /* opt-in: fd_count */
#define PROCMON_FIELD_IO       0x0200 /* opt-in: io counters */
#define PROCMON_FIELD_CTXSW    0x0400 /* opt-in: context switches */
#define PROCMON_FIELD_CGROUP   0x0800 /* opt-in: cgroup path, container id */
#define PROCMON_FIELD_SMAPS    0x1000 /* opt-in: pss uss swap (smaps_rollup: walks the page
                                         tables, about 10x a default read) */

/* The groups' names (since 0.3): X(NAME, text), PROCMON_FIELD_##NAME the bit.
 * procmon_field_name / procmon_field_from_name read this table; the CLI and
 * the bindings take their names from it. */
#define PROCMON_FIELD_MAP(X) \
    X(BASIC,  "basic")       \
    X(CPU,    "cpu")         \
    X(MEMORY, "memory")      \
    X(SCHED,  "sched")       \
    X(IDS,    "ids")         \
    X(EXE,    "exe")         \
    X(ARGV,   "argv")        \
    X(CWD,    "cwd")         \
    X(FDS,    "fds")         \
    X(IO,     "io")          \
    X(CTXSW,  "ctxsw")       \
    X(CGROUP, "cgroup")      \
    X(SMAPS,  "smaps")

#define PROCMON_FIELDS_DEFAULT 0x007F /* BASIC CPU MEMORY SCHED IDS EXE ARGV */
#define PROCMON_FIELDS_ALL     0x1FFF /* DEFAULT and every opt-in group */

/* procmon_process.flags */
#define PROCMON_PROC_KTHREAD        0x1 /* a kernel thread */
#define PROCMON_PROC_ZOMBIE         0x2 /* exited, not yet reaped */
#define PROCMON_PROC_ARGV_TRUNCATED 0x4 /* argv was cut at argv_cap_bytes */

/* procmon_process.state_kind: a process's state, the same on every OS
 * (since 0.3). X(NAME, value, text): PROCMON_STATE_##NAME = value; the text
 * is psutil's status name. `state` keeps the OS's own letter beside it. */
#define PROCMON_STATE_MAP(X)                 \
    X(UNKNOWN,      0,  "unknown")           \
    X(RUNNING,      1,  "running")           \
    X(SLEEPING,     2,  "sleeping")          \
    X(DISK_SLEEP,   3,  "disk-sleep")        \
    X(STOPPED,      4,  "stopped")           \
    X(TRACING_STOP, 5,  "tracing-stop")      \
    X(ZOMBIE,       6,  "zombie")            \
    X(DEAD,         7,  "dead")              \
    X(WAKE_KILL,    8,  "wake-kill")         \
    X(WAKING,       9,  "waking")            \
    X(IDLE,         10, "idle")              \
    X(PARKED,       11, "parked")            \
    X(LOCKED,       12, "locked")            \
    X(WAITING,      13, "waiting")

#define PROCMON_STATE_ENUM_ENTRY_(name, value, text) PROCMON_STATE_##name = value,
typedef enum procmon_state {
    PROCMON_STATE_MAP(PROCMON_STATE_ENUM_ENTRY_)
    PROCMON_STATE_LAST_ = 13
} procmon_state;
#undef PROCMON_STATE_ENUM_ENTRY_

/* One process. A plain struct, read it directly. Strings are NUL-terminated,
 * are never NULL (empty when not valid) and live as long as the snapshot. */
typedef struct procmon_process {
    uint32_t    size;          /* sizeof(procmon_process) of the library */
    uint32_t    flags;         /* PROCMON_PROC_* */
    uint64_t    valid;         /* PROCMON_FIELD_* groups actually read */
    int32_t     pid;
    int32_t     ppid;
    int32_t     pgid;
    int32_t     sid;
    int32_t     tty;           /* controlling terminal device number, 0 = none */
    char        state;         /* 'R' 'S' 'D' 'Z' 'T' 't' 'X' 'I' ... as the kernel says */
    char        reserved_[3];
    uint32_t    uid, euid, suid;
    uint32_t    gid, egid, sgid;
    const char *name;          /* kernel comm: up to 15 bytes for user processes (kernel
                                  threads may have more), any bytes but NUL; see
                                  full_name for the name users see */
    const char *exe;           /* executable path */
    const char *argv;          /* arguments, each NUL-terminated, back to back */
    size_t      argv_len;      /* bytes in argv, counting every terminating NUL */
    uint32_t    argc;          /* number of arguments in argv (empty ones count) */
    uint32_t    threads;
    uint64_t    start_ticks;   /* start time in clock ticks since boot (identity) */
    uint64_t    start_time_ns; /* start time, ns since the Unix epoch */
    uint64_t    utime_ns;      /* user CPU time */
    uint64_t    stime_ns;      /* system CPU time */
    double      cpu_percent;   /* 100 = one core busy; since this context last
                                  read this process (an enumeration that
                                  included it), or since the process started
                                  if none did (a single enumeration gives the
                                  lifetime average: take two, an interval
                                  apart, for top's figure) */
    uint64_t    rss_bytes;
    uint64_t    vms_bytes;
    int32_t     nice;
    int32_t     priority;
    /* opt-in groups */
    const char *cwd;
    uint32_t    fd_count;
    uint32_t    reserved2_;
    uint64_t    io_rchar, io_wchar, io_syscr, io_syscw, io_read_bytes, io_write_bytes;
    uint64_t    voluntary_ctxt_switches;
    uint64_t    nonvoluntary_ctxt_switches;
    const char *cgroup;        /* cgroup v2 path (or the v1 lines joined) */
    const char *container_id;  /* 64-hex id found in the cgroup path, "" if none */
    /* since 0.2 */
    const char *full_name;     /* BASIC: the name users see (psutil's rule): name, or when
                                  the kernel cut it at 15 bytes, the base name of argv[0]
                                  or else of exe when that starts with name (read for
                                  such processes whatever the query's fields). Name
                                  filters match it */
    double      mem_percent;   /* MEMORY: rss_bytes * 100 / the machine's total memory */
    uint64_t    pss_bytes;     /* SMAPS: proportional set size (shared pages divided
                                  among their sharers: sums to the machine's use) */
    uint64_t    uss_bytes;     /* SMAPS: unique set size (private pages: freed at exit) */
    uint64_t    swap_bytes;    /* SMAPS: swapped out */
    /* since 0.3 */
    uint32_t    state_kind;    /* BASIC: PROCMON_STATE_*, the portable reading of `state` */
    uint32_t    reserved3_;
    /* append only */
} procmon_process;

#define PROCMON_QUERY_VERSION 2
/* procmon_query.flags */
#define PROCMON_QUERY_REFRESH 0x1 /* ignore cached argv/exe/ids, re-read them */

typedef struct procmon_query {
    unsigned int   version;    /* PROCMON_QUERY_VERSION */
    uint64_t       fields;     /* PROCMON_FIELD_* bits (others: EINVAL); 0 = PROCMON_FIELDS_DEFAULT */
    const char    *name_glob;  /* fnmatch(3) pattern on full_name (the name users see,
                                  not the kernel's 15-byte cut); NULL = all. A malformed
                                  pattern (an unclosed '[', an unknown [:class:], a
                                  trailing '\\') is EINVAL, never "no match" */
    int64_t        uid;        /* effective uid to keep: -1 = all, else 0..4294967295 */
    const int32_t *pids;       /* keep only these pids (each > 0, any order, repeats
                                  allowed); NULL = all */
    size_t         pid_count;  /* entries in pids; 0 with pids non-NULL keeps none */
    uint32_t       flags;      /* PROCMON_QUERY_* */
    /* version 2 */
    const char    *cmdline_glob; /* fnmatch(3) pattern on the command line: argv joined by
                                  single spaces (the whole line: "*x*" finds x anywhere,
                                  as pgrep -f does). NULL = all; malformed: EINVAL. A
                                  process whose argv cannot be read does not match */
} procmon_query;

#define PROCMON_QUERY_INIT { PROCMON_QUERY_VERSION, 0, NULL, -1, NULL, 0, 0, NULL }

/* Fill *q with defaults (all processes, default fields).
 * Errors: EINVAL, EVERSION. Any thread. */
PROCMON_API int procmon_query_init(procmon_query *q, unsigned int version);

/* Take a snapshot of the processes matching q (NULL = defaults), sorted by
 * pid. A process that vanishes or refuses a read mid-way loses that record's
 * valid bits, or the record: never the enumeration.
 * On success *out owns the snapshot; release it with procmon_snapshot_free.
 * Errors: EINVAL, EVERSION, ENOMEM (arena cap reached; the context stays
 * usable), EIO (the proc root itself cannot be listed).
 * One thread at a time per context. */
PROCMON_API int procmon_enumerate(procmon_snapshot **out, procmon_ctx *ctx,
                                  const procmon_query *q);

/* Number of records; 0 for NULL. Any thread. */
PROCMON_API size_t procmon_snapshot_count(const procmon_snapshot *s);
/* Record i (borrowed, lives with s); NULL if s is NULL or i out of range. */
PROCMON_API const procmon_process *procmon_snapshot_at(const procmon_snapshot *s, size_t i);
/* Record of pid (borrowed), O(log n); NULL if absent. */
PROCMON_API const procmon_process *procmon_snapshot_find(const procmon_snapshot *s, int32_t pid);
/* Free a snapshot; NULL is a no-op. Any thread, even after procmon_close. */
PROCMON_API void procmon_snapshot_free(procmon_snapshot *s);

/* ----------------------------------------------------------------- system */
/* The machine as a whole, as top's header shows it. */
typedef struct procmon_system {
    uint32_t size;                /* set by the caller to sizeof(procmon_system) */
    uint32_t cpus;                /* online CPUs */
    uint64_t mem_total_bytes;     /* MemTotal */
    uint64_t mem_available_bytes; /* MemAvailable: what can be had without swapping */
    uint64_t mem_used_bytes;      /* mem_total_bytes - mem_available_bytes: what is in use
                                     (unlike a sum of rss, shared pages count once) */
    uint64_t mem_free_bytes;      /* MemFree: not used at all, not even as cache */
    uint64_t swap_total_bytes;
    uint64_t swap_free_bytes;
    double   load1, load5, load15;  /* load averages */
    uint64_t boot_time_ns;        /* when the machine booted, ns since the Unix epoch */
    uint64_t processes;           /* processes now (threads not counted) */
    /* append only */
} procmon_system;

/* Fill *out (out->size must be set, at least 8; as procmon_stats_get) from
 * the context's proc root. Errors: EINVAL, EIO (meminfo or loadavg
 * unreadable). One thread at a time per context. */
PROCMON_API int procmon_system_get(procmon_system *out, procmon_ctx *ctx);

/* ---------------------------------------------------------------- signals */
/* Send signal sig (0 = only check that the process is there) to the process
 * with this identity: pid and start_ticks, as procmon_process and
 * procmon_event give them. A pid reused by another process since is never
 * hit: that is ENOENT, as for a process that exited. Race-free where the
 * kernel has pidfds (Linux 5.3); else the identity is checked just before
 * kill(2). Errors: EINVAL (pid <= 0, sig outside 0..64), ENOENT (no such
 * process, or the pid now belongs to another one), EPERM (not allowed to
 * signal it), EUNSUPPORTED (the context reads a proc root other than
 * /proc). Any thread. */
PROCMON_API int procmon_signal(procmon_ctx *ctx, int32_t pid, uint64_t start_ticks, int sig);

/* ------------------------------------------------------------------ stats */
typedef struct procmon_stats {
    uint32_t size;               /* set by the caller to sizeof(procmon_stats) */
    uint32_t reserved_;
    uint64_t arena_cap_bytes;    /* the cap in force */
    uint64_t arena_used_bytes;   /* held now by snapshots, caches and buffers */
    uint64_t arena_peak_bytes;   /* highest arena_used_bytes so far */
    uint64_t enumerations;       /* successful procmon_enumerate calls */
    uint64_t cache_entries;      /* processes with cached argv/exe/ids */
    uint64_t cache_hits;         /* records served from cache, all enumerations */
    uint64_t cache_misses;       /* records read anew, all enumerations */
    /* events */
    uint32_t event_source;       /* PROCMON_STATS_SOURCE_* */
    uint32_t poll_interval_ms;   /* polling: the interval in force now (backpressure raises it) */
    const char *source_reason;   /* why this source runs, static text; "" before any subscription */
    uint64_t events_received;    /* events the source produced (before filters) */
    uint64_t events_filtered;    /* event x subscription pairs a filter rejected */
    uint64_t events_delivered;   /* events enqueued to subscriptions */
    uint64_t events_dropped;     /* events a full subscription queue refused */
    uint64_t events_lost;        /* events the kernel dropped (netlink ENOBUFS), best count */
    uint64_t resyncs;            /* resynchronisations after a loss */
    uint64_t backpressure_activations; /* times polling slowed for a full queue */
    uint64_t backpressure_delay_ns;    /* last activation: high watermark crossed -> interval changed */
    uint64_t collector_cpu_ns;   /* CPU time of the event collector thread */
    uint64_t process_rss_bytes;  /* this process's resident memory */
    const char *allocator;       /* where arena blocks come from, static text:
                                    "mimalloc arena", or "system malloc: <why>"
                                    (libmimalloc.so.2 not loadable, a sanitizer
                                    build, or PROCMON_ALLOCATOR=system) */
    /* since 0.3 */
    const char *source_name;     /* the event source in force, static text: "netlink",
                                    "polling" (procmon_source_name of its PROCMON_SOURCE_*),
                                    "" before any subscription; never NULL */
    /* append only */
} procmon_stats;

#define PROCMON_STATS_SOURCE_NONE    0 /* no subscription yet */
#define PROCMON_STATS_SOURCE_NETLINK 1 /* the kernel pushes events: netlink, or (since 0.3)
                                          any push source; source_name names it */
#define PROCMON_STATS_SOURCE_POLLING 2

/* Fill *out (out->size must be set, at least 8; a smaller, older struct is
 * filled up to its size, and out->size then says how much was written).
 * Errors: EINVAL. One thread at a time per context. */
PROCMON_API int procmon_stats_get(procmon_stats *out, procmon_ctx *ctx);

/* ------------------------------------------------------------ lifecycle events */

/* procmon_event.type, and bits of procmon_subscribe_options.events */
#define PROCMON_EVENT_START 0x01 /* a process started (fork) */
#define PROCMON_EVENT_EXEC  0x02 /* a process executed a new program */
#define PROCMON_EVENT_EXIT  0x04 /* a process exited */
#define PROCMON_EVENT_UID   0x08 /* a process changed its uid or gid (netlink only) */
#define PROCMON_EVENT_COMM  0x10 /* a process renamed itself (netlink only) */
#define PROCMON_EVENT_LOST  0x20 /* events were lost; `lost` says how many. Always delivered */
/* The types' names (since 0.3): X(NAME, text), PROCMON_EVENT_##NAME the bit. */
#define PROCMON_EVENT_MAP(X) \
    X(START, "start")        \
    X(EXEC,  "exec")         \
    X(EXIT,  "exit")         \
    X(UID,   "uid")          \
    X(COMM,  "comm")         \
    X(LOST,  "lost")
#define PROCMON_EVENTS_DEFAULT 0x07 /* START EXEC EXIT */
#define PROCMON_EVENTS_ALL     0x3F /* every type above */

/* procmon_event.flags */
#define PROCMON_EVENT_FLAG_SYNTHESIZED 0x1 /* recovered by a resync, not seen as it happened */
#define PROCMON_EVENT_FLAG_PARTIAL     0x2 /* the process was gone before all of it could be read */
#define PROCMON_EVENT_FLAG_NO_STATUS   0x4 /* EXIT: exit code and signal are unknown (polling, resync) */
#define PROCMON_EVENT_FLAG_THREAD      0x8 /* a thread, not a process (PROCMON_SUBSCRIBE_THREADS) */
#define PROCMON_EVENT_FLAG_ARGV_TRUNCATED 0x10 /* argv was cut: a journal record holds at most
                                                  16 MiB (since 0.2) */

typedef struct procmon_event {
    uint32_t    size;          /* sizeof(procmon_event) of the library */
    uint32_t    type;          /* one PROCMON_EVENT_* */
    uint32_t    flags;         /* PROCMON_EVENT_FLAG_* */
    int32_t     pid;
    int32_t     ppid;
    uint32_t    uid;           /* effective uid, (uint32_t)-1 when unknown */
    uint64_t    seq;           /* increases by one per event of the context, before filters */
    uint64_t    time_ns;       /* when it happened, ns since the Unix epoch */
    uint64_t    start_ticks;   /* with pid, the identity (as procmon_process) */
    uint64_t    start_time_ns; /* wall clock */
    int32_t     exit_code;     /* EXIT: the status given to exit(), -1 if killed or unknown */
    int32_t     exit_signal;   /* EXIT: the signal that ended it, 0 if none */
    uint64_t    lifetime_ns;   /* EXIT: how long it lived */
    uint64_t    lost;          /* LOST: how many events were lost (0 = unknown) */
    const char *name;          /* strings: valid until the next procmon_subscription_next
                                  or procmon_dispatch on the subscription, or its release */
    const char *exe;
    const char *argv;          /* as procmon_process.argv */
    size_t      argv_len;
    uint32_t    argc;
    uint32_t    reserved_;
    /* since 0.2 */
    const char *full_name;     /* the name users see, as procmon_process.full_name ("" when
                                  name is "", never NULL) */
    /* append only */
} procmon_event;

#define PROCMON_SUBSCRIBE_VERSION 3
#define PROCMON_SUBSCRIBE_THREADS     0x1 /* also thread starts and exits (netlink only; not
                                             on a remote context: EUNSUPPORTED) */
#define PROCMON_SUBSCRIBE_UNDECIDABLE 0x2 /* also pass events the filters cannot decide */
#define PROCMON_SUBSCRIBE_HISTORY     0x4 /* remote context only (since 0.4): deliver the
                                             journal from from_seq up to its end as it was
                                             when the daemon got the request, then close
                                             (next returns ECLOSED once all was taken) */

/* Filters run before events are queued. When a filter needs a field that is
 * unknown (the process was gone before it could be read:
 * PROCMON_EVENT_FLAG_PARTIAL, or its uid unknown), the event is undecidable:
 * it is dropped and counted in procmon_subscription_stats.undecidable, or
 * passed with PROCMON_SUBSCRIBE_UNDECIDABLE. Nothing vanishes uncounted.
 * Options of version 1 (programs built against 0.1) keep 0.1's rule: such
 * events pass, flagged PARTIAL. */
#define PROCMON_QUEUE_DEFAULT 16384    /* procmon_subscribe_options.queue_capacity */
#define PROCMON_QUEUE_MIN     2        /* room for one event and the LOST after it */
#define PROCMON_QUEUE_MAX     16777216

typedef struct procmon_subscribe_options {
    unsigned int version;        /* PROCMON_SUBSCRIBE_VERSION */
    uint32_t     events;         /* PROCMON_EVENT_* bits (others: EINVAL); 0 = PROCMON_EVENTS_DEFAULT */
    const char  *name_glob;      /* fnmatch(3) on the name users see (as procmon_query's:
                                    the comm, or argv[0]'s or exe's base name when the
                                    comm was cut); NULL = all; malformed: EINVAL */
    int64_t      uid;            /* effective uid: -1 = all, else 0..4294967295 */
    int32_t      descendants_of; /* only this pid's descendants (not itself); 0 = all, < 0: EINVAL */
    uint32_t     queue_capacity; /* events the queue holds: 0 = PROCMON_QUEUE_DEFAULT, else
                                    PROCMON_QUEUE_MIN..PROCMON_QUEUE_MAX; each slot takes
                                    about 140 bytes of the context's arena
                                    (ENOMEM past its cap) */
    uint32_t     flags;          /* PROCMON_SUBSCRIBE_* */
    /* version 2 */
    const char  *cmdline_glob;   /* as procmon_query.cmdline_glob; NULL = all */
    /* version 3 (since 0.4) */
    uint64_t     from_seq;       /* remote context only: resume from the daemon's journal,
                                    delivering every event whose seq >= from_seq (a LOST
                                    first for those retention dropped), then live events,
                                    with no gap and no duplicate. 0 = live events only.
                                    Every event of a remote context has the daemon's
                                    journal sequence number as seq: a client that
                                    reconnects passes its last seq + 1. A local context
                                    has no journal to resume from: non-zero is EUNSUPPORTED */
} procmon_subscribe_options;

#define PROCMON_SUBSCRIBE_OPTIONS_INIT { PROCMON_SUBSCRIBE_VERSION, 0, NULL, -1, 0, 0, 0, NULL, 0 }

/* Fill *o with defaults. Errors: EINVAL, EVERSION. Any thread. */
PROCMON_API int procmon_subscribe_options_init(procmon_subscribe_options *o, unsigned int version);

/* Start receiving the context's lifecycle events that pass o's filters
 * (NULL = defaults) into a new bounded queue. The first subscription starts
 * the context's event collector (one thread); procmon_stats_get says which
 * source it uses and why. A full queue drops events and counts them; the
 * subscriber then receives a PROCMON_EVENT_LOST with the count: a slow
 * subscriber never blocks the collector or other subscribers.
 * On success *out owns the subscription; release it with procmon_unsubscribe.
 * Errors: EINVAL, EVERSION, ENOMEM, EIO; with PROCMON_SOURCE_NETLINK (since
 * 0.3) also EPERM (no CAP_NET_ADMIN on a kernel before 6.6) and EUNSUPPORTED,
 * the thread's error saying why. One thread at a time per context. */
PROCMON_API int procmon_subscribe(procmon_subscription **out, procmon_ctx *ctx,
                                  const procmon_subscribe_options *o);

/* Take up to max waiting events into events[0..*n_out). event_size is
 * sizeof(procmon_event) as the caller was compiled: each event is written
 * at that stride and up to that many bytes, and its `size` says how many,
 * so a program built against an older (smaller) procmon_event keeps working
 * with a newer library. At least 8 (the size and type fields).
 * Waits up to timeout_ms for the first: 0 = do not wait, -1 = forever, any
 * other negative value is EINVAL; *n_out = 0 and PROCMON_OK when the time
 * ran out. The strings in returned events stay valid until the next call on
 * this subscription. Errors: EINVAL, ECLOSED (the subscription or its
 * context was closed, also while waiting here), EBUSY (called from a
 * procmon_dispatch callback of the same subscription); EINTR with
 * *n_out = 0 only after procmon_subscription_wake (since 0.3: signals never
 * end this call).
 * One thread at a time per subscription. */
PROCMON_API int procmon_subscription_next(procmon_subscription *s, procmon_event *events, size_t event_size,
                                          size_t max, size_t *n_out, int timeout_ms);

/* Wait until events (or a PROCMON_EVENT_LOST) wait in s's queue, without
 * taking them: procmon_subscription_next or procmon_dispatch then does, at
 * once. Waits up to timeout_ms: 0 = just look, -1 = forever, any other
 * negative value is EINVAL. A signal that arrives for the calling thread
 * ends the wait with EINTR, so a caller with signal handlers to run (a
 * Python binding, say) runs them and calls again; the other calls here
 * wait through signals. Events that came meanwhile win: OK, not EINTR.
 * Errors: EINVAL, ETIMEDOUT (the time ran out, nothing waits), EINTR,
 * ECLOSED (the subscription or its context was closed, also while waiting
 * here), EIO (the OS refused the wait). procmon_subscription_wake also
 * ends it with EINTR.
 * One thread at a time per subscription, as procmon_subscription_next
 * (since 0.3). */
PROCMON_API int procmon_subscription_wait(procmon_subscription *s, int timeout_ms);

/* Since 0.3: ends the procmon_subscription_wait or procmon_subscription_next
 * waiting on s with PROCMON_EINTR (next: *n_out = 0), or, when none waits,
 * the next such call (also one with timeout 0). The wake is kept until one
 * call takes it, so a wake just before a thread starts to wait is not lost;
 * it wins over waiting events, which stay queued for the call after.
 * procmon_dispatch neither takes nor heeds it. While pending it also makes
 * procmon_subscription_fd readable. How another thread ends a blocked
 * waiter before procmon_unsubscribe (a binding's close()).
 * Errors: EINVAL (NULL). Any thread, also from a signal handler. */
PROCMON_API int procmon_subscription_wake(procmon_subscription *s);

/* A file descriptor that is readable while events wait or a
 * procmon_subscription_wake is pending (for epoll, asyncio, tokio); owned
 * by the subscription, do not read or close it. -1 for NULL.
 * Any thread. */
PROCMON_API int procmon_subscription_fd(const procmon_subscription *s);

/* Callback for procmon_dispatch: return 0 to go on, non-zero to stop. */
typedef int (*procmon_event_cb)(const procmon_event *event, void *payload);

/* Take up to max waiting events without waiting and call cb for each, on
 * this thread, in order. *n_out (may be NULL) says how many were passed.
 * The event passed to cb, and its strings, are valid only during that call.
 * Inside cb, procmon_subscription_next and procmon_dispatch on the same
 * subscription fail with EBUSY; procmon_unsubscribe of it is allowed, and
 * dispatch then returns ECLOSED without calling cb again.
 * Errors: EINVAL, ECLOSED, EBUSY, EUSER (cb returned non-zero: the events
 * after it stay queued). When it fails with EINVAL, EBUSY or ECLOSED before
 * the first event, cb is never called.
 * One thread at a time per subscription. */
PROCMON_API int procmon_dispatch(procmon_subscription *s, procmon_event_cb cb, void *payload,
                                 size_t max, size_t *n_out);

/* One stage's latency over the events timed (procmon_subscription_stats). */
typedef struct procmon_latency {
    uint64_t p50_ns;
    uint64_t p99_ns;
    uint64_t max_ns;
} procmon_latency;

typedef struct procmon_subscription_stats {
    uint32_t size;            /* set by the caller to sizeof(procmon_subscription_stats) */
    uint32_t queue_capacity;
    uint64_t queue_depth;     /* events waiting now */
    uint64_t received;        /* events that reached this subscription's filter */
    uint64_t filtered;        /* of those, rejected by the filter */
    uint64_t delivered;       /* enqueued */
    uint64_t dropped;         /* refused by the full queue */
    uint64_t lost;            /* counts reported to this subscriber in LOST events */
    /* Where the time goes between a process event and its return by
     * procmon_subscription_next or procmon_dispatch, over every event this
     * subscription returned (LOST excluded). Stages, each on CLOCK_MONOTONIC:
     *   receive: the kernel's event time -> the collector read it (netlink
     *            only: waking the collector, and events ahead in its batch);
     *   enrich:  read -> enriched and ready to queue (reading /proc; with
     *            polling, from the start of the pass);
     *   deliver: ready -> returned to the subscriber (filter, queue, the
     *            subscriber waking and calling next);
     *   total:   the kernel's event time (polling: the pass's start) ->
     *            returned.
     * p50 and p99 are upper bounds within 12.5% of the true value; max is
     * exact. All 0 until an event was timed. */
    uint64_t timed;           /* events timed below */
    procmon_latency latency_receive;
    procmon_latency latency_enrich;
    procmon_latency latency_deliver;
    procmon_latency latency_total;
    /* since 0.2 */
    uint64_t undecidable;     /* of filtered, events a filter could not decide (see
                                 PROCMON_SUBSCRIBE_UNDECIDABLE); with that flag, passed */
    /* append only */
} procmon_subscription_stats;

/* Errors: EINVAL. Any thread (counters are read without stopping the collector). */
PROCMON_API int procmon_subscription_stats_get(procmon_subscription_stats *out, const procmon_subscription *s);

/* Stop receiving and free the subscription; NULL is a no-op. Safe while
 * another thread waits in procmon_subscription_next on it (that call returns
 * PROCMON_ECLOSED), and after procmon_close. The last one stops the
 * collector thread. Calls that start after it returned are invalid. */
PROCMON_API void procmon_unsubscribe(procmon_subscription *s);



/* ----------------------------------------------------- daemon (since 0.4) */
/* A context opened with an endpoint (procmon_options.endpoint or
 * PROCMON_ENDPOINT) is served by procmond: procmon_enumerate,
 * procmon_subscribe, procmon_system_get, procmon_stats_get and
 * procmon_signal go to the daemon, which answers as a local context would,
 * within what its configuration lets this user see (a field the user may
 * not see comes back not valid, as a field that could not be read). These
 * two calls say how the daemon itself is doing. */

typedef struct procmon_daemon_status {
    uint32_t    size;               /* set by the caller to sizeof(procmon_daemon_status) */
    uint32_t    protocol_version;   /* the wire protocol spoken (docs/protocol.md) */
    const char *daemon_version;     /* procmond's library version, e.g. "0.4.0" */
    int32_t     daemon_pid;
    uint32_t    peer_uid;           /* who the daemon sees calling (SO_PEERCRED) */
    uint64_t    started_ns;         /* when it started, ns since the epoch */
    uint64_t    clients;            /* connections open now, this one included */
    uint64_t    subscriptions;      /* of them, streaming events */
    uint64_t    connections_total;  /* accepted since start */
    uint64_t    connections_refused;/* refused by authorization or limits since start */
    uint64_t    requests_total;     /* requests answered since start */
    uint64_t    events_delivered;   /* events sent to subscribers since start */
    uint64_t    events_dropped;     /* events slow subscribers lost (each got a LOST) */
    uint64_t    journal_next_seq;   /* the sequence number of the next event journaled */
    uint64_t    journal_durable_seq;
    uint64_t    journal_bytes;      /* on disk now */
    uint64_t    journal_segments;
    uint64_t    journal_lost;       /* events the journal writer itself lost */
    uint64_t    config_generation;  /* 1 at start, +1 per successful reload */
    uint64_t    config_loaded_ns;   /* when the config in force was loaded */
    uint64_t    config_reload_failures;
    const char *config_path;        /* "" when running on defaults */
    const char *source_name;        /* the daemon's event source ("netlink", "polling") */
    uint64_t    rss_bytes;          /* the daemon's resident memory */
    uint64_t    arena_used_bytes;   /* its context's arena */
    uint64_t    arena_cap_bytes;
    /* append only */
} procmon_daemon_status;

/* Strings stay valid until the next procmon_daemon_status_get on ctx or
 * its close. Errors: EINVAL, EUNSUPPORTED (a local context), EIO and
 * EPROTO (the daemon went away or misbehaved). One thread at a time per
 * context. */
PROCMON_API int procmon_daemon_status_get(procmon_daemon_status *out, procmon_ctx *ctx);

#define PROCMON_CLIENT_REQUESTS   1 /* asks for snapshots, stats, signals */
#define PROCMON_CLIENT_SUBSCRIBER 2 /* streams events */

typedef struct procmon_daemon_client {
    uint32_t size;            /* set by the library to what it wrote */
    uint32_t kind;            /* PROCMON_CLIENT_* */
    int32_t  pid;             /* the peer's, SO_PEERCRED */
    uint32_t uid;
    uint32_t gid;
    uint32_t reserved_;
    uint64_t connected_ns;    /* ns since the epoch */
    uint64_t requests;        /* requests answered on this connection */
    uint64_t events_delivered;
    uint64_t events_dropped;  /* lost because it read too slowly */
    uint64_t queue_depth;     /* journaled events not yet sent to it */
    uint64_t queue_capacity;  /* the lag it may fall behind before it loses events */
    uint64_t next_seq;        /* the next sequence number it will be sent */
    /* append only */
} procmon_daemon_client;

/* The daemon's connections (root, or a user its configuration lets read
 * the status of others, sees all; anyone else sees their own), up to max,
 * one every client_size bytes (sizeof(procmon_daemon_client)); *n_out
 * gets how many were written. Errors: EINVAL, EUNSUPPORTED (a local
 * context), EIO, EPROTO. One thread at a time per context. */
PROCMON_API int procmon_daemon_clients(procmon_ctx *ctx, procmon_daemon_client *out, size_t client_size,
                                       size_t max, size_t *n_out);

/* ------------------------------------------------------------------ names */
/* The library's words for its constants, read from the tables above
 * (PROCMON_FIELD_MAP, PROCMON_EVENT_MAP, PROCMON_SOURCE_MAP,
 * PROCMON_STATE_MAP), so the CLI, the bindings and programs print and parse
 * the same ones (since 0.3). Names are case-sensitive; a returned name is
 * static text, never freed. Every function here may be called from any
 * thread. */

/* The name of exactly one PROCMON_FIELD_* group bit ("cpu"); NULL for 0,
 * for several bits and for a bit the table does not hold. */
PROCMON_API const char *procmon_field_name(uint64_t field);
/* The bit of a group name into *out, or PROCMON_FIELDS_DEFAULT for
 * "default" and PROCMON_FIELDS_ALL for "all". Errors: EINVAL (name or out
 * NULL, or a name not in the table: the message lists the valid ones; *out
 * is left alone). */
PROCMON_API int procmon_field_from_name(const char *name, uint64_t *out);

/* The name of one PROCMON_EVENT_* type ("exec"); NULL for anything else. */
PROCMON_API const char *procmon_event_type_name(uint32_t type);
/* The PROCMON_EVENT_* bit of a type name into *out ("lost" included).
 * Errors: EINVAL (name or out NULL, or an unknown name: the message lists
 * the valid ones). */
PROCMON_API int procmon_event_type_from_name(const char *name, uint32_t *out);

/* The name of a PROCMON_SOURCE_* value ("netlink"); NULL for anything else. */
PROCMON_API const char *procmon_source_name(uint32_t source);
/* The PROCMON_SOURCE_* value of a source name into *out. Errors: EINVAL
 * (name or out NULL, or an unknown name: the message lists the valid ones). */
PROCMON_API int procmon_source_from_name(const char *name, uint32_t *out);

/* psutil's name of a PROCMON_STATE_* value ("sleeping", "disk-sleep");
 * NULL for a value the table does not hold. */
PROCMON_API const char *procmon_state_name(uint32_t state);
/* The PROCMON_STATE_* value of a state name into *out. Errors: EINVAL (name
 * or out NULL, or an unknown name: the message lists the valid ones). */
PROCMON_API int procmon_state_from_name(const char *name, uint32_t *out);

/* The login name of the user with this uid, NUL-terminated, into buf of
 * size bytes. The OS's user database is asked once per uid: the answer, a
 * name or "no such user", is remembered for the life of the process (users
 * rarely change, and a lookup may read files or ask a directory service).
 * Errors: ENOENT (no user has this uid: print the number, as ps and psutil
 * do), EINVAL (buf NULL, or size too small: the message says how many
 * bytes are needed; buf then holds "" when size > 0), EIO (the user
 * database could not be read; not remembered). */
PROCMON_API int procmon_user_name(uint32_t uid, char *buf, size_t size);

/* ---------------------------------------------------------------- journal */
/* A write-ahead journal of lifecycle events in a directory: segment files
 * of CRC-checked records whose sequence numbers increase by one across
 * segments and restarts. One writer per directory (flock); any number of
 * readers, in this or other processes, also while the writer appends.
 * Format and guarantees: docs/journal.md. */
typedef struct procmon_journal procmon_journal;
typedef struct procmon_journal_reader procmon_journal_reader;

#define PROCMON_JOURNAL_VERSION 1
#define PROCMON_FSYNC_ALWAYS   0 /* fdatasync every group commit before it counts as durable */
#define PROCMON_FSYNC_INTERVAL 1 /* fdatasync at most every fsync_interval_ms */
#define PROCMON_FSYNC_NEVER    2 /* leave it to the OS: survives a crash of this process, not of the machine */
#define PROCMON_JOURNAL_SEGMENT_DEFAULT 67108864 /* 64 MiB */
#define PROCMON_JOURNAL_SEGMENT_MIN     65536

typedef struct procmon_journal_options {
    unsigned int version;        /* PROCMON_JOURNAL_VERSION */
    uint32_t     fsync;          /* PROCMON_FSYNC_*; default ALWAYS */
    uint32_t     fsync_interval_ms; /* FSYNC_INTERVAL: 0 = 1000 */
    uint32_t     queue_capacity; /* events waiting for the writer: 0 = PROCMON_QUEUE_DEFAULT,
                                    else PROCMON_QUEUE_MIN..PROCMON_QUEUE_MAX */
    uint64_t     segment_bytes;  /* a segment is closed past this: 0 = PROCMON_JOURNAL_SEGMENT_DEFAULT,
                                    else at least PROCMON_JOURNAL_SEGMENT_MIN */
    uint64_t     max_bytes;      /* retention: the oldest segments go while the journal is
                                    larger; 0 = unlimited, else at least 2 * segment_bytes */
    uint64_t     max_age_ms;     /* retention: segments closed longer ago go; 0 = unlimited */
    const procmon_subscribe_options *filter; /* which of the context's events; NULL = defaults */
} procmon_journal_options;

#define PROCMON_JOURNAL_OPTIONS_INIT { PROCMON_JOURNAL_VERSION, PROCMON_FSYNC_ALWAYS, 0, 0, 0, 0, 0, NULL }

/* Fill *o with defaults. Errors: EINVAL, EVERSION. Any thread. */
PROCMON_API int procmon_journal_options_init(procmon_journal_options *o, unsigned int version);

/* Open dir (created if missing, one level) for writing, recover it (a torn
 * tail is cut back to the last whole record; a record whose CRC fails is
 * counted and left for readers to skip) and start a writer thread that
 * records ctx's events passing o->filter, as a subscriber of its own. ctx
 * may be NULL: then only procmon_journal_append feeds it. A new segment
 * starts at every open; sequence numbers continue from the last record.
 * The writer never blocks the collector: when it falls behind, the events
 * its queue drops are journaled as one LOST record with their count, and so
 * are events a failed write (ENOSPC, EIO) could not store; it retries and
 * resumes when the device lets it. Errors: EINVAL, EVERSION, ENOMEM, EIO,
 * ENOSPC, EPERM, ELOCKED (another writer has dir), EFORMAT (a segment that
 * is not procmon's, or of a newer format). One thread at a time per
 * context. */
PROCMON_API int procmon_journal_open(procmon_journal **out, procmon_ctx *ctx, const char *dir,
                                     const procmon_journal_options *o);

/* Queue n events (event_size as in procmon_subscription_next) for the
 * journal, copying them and their strings; seq is the journal's own, the
 * events' seq is ignored. Waits while the queue is full. Errors: EINVAL
 * (also an event whose name, exe and argv exceed the 16 MiB a record
 * holds: nothing of that call is queued), ECLOSED. Any thread. */
PROCMON_API int procmon_journal_append(procmon_journal *j, const procmon_event *events, size_t event_size,
                                       size_t n);

/* Wait until everything queued before this call is written and fdatasync'd
 * (whatever the fsync policy), or timeout_ms passes (-1 = forever).
 * *durable_seq (may be NULL) gets the last durable sequence number.
 * Errors: EINVAL, ETIMEDOUT, ECLOSED, and the writer's last write error
 * (ENOSPC, EIO) when that is why the events are not durable. Any thread. */
PROCMON_API int procmon_journal_sync(procmon_journal *j, int timeout_ms, uint64_t *durable_seq);

typedef struct procmon_journal_stats {
    uint32_t size;             /* set by the caller to sizeof(procmon_journal_stats) */
    int32_t  last_error;       /* status code of the last failed write or sync, PROCMON_OK if none */
    uint64_t next_seq;         /* the sequence number of the next record */
    uint64_t durable_seq;      /* the last record made durable by the policy (0 = none yet) */
    uint64_t records;          /* written since open */
    uint64_t lost;             /* events journaled as lost (queue overflow, failed writes) */
    uint64_t bytes_written;
    uint64_t commits;          /* write() calls: each a group of records */
    uint64_t fsyncs;
    uint64_t write_errors;
    uint64_t segments;         /* on disk now */
    uint64_t disk_bytes;       /* on disk now */
    uint64_t segments_removed; /* by retention since open */
    uint64_t recovered_truncated_bytes; /* cut from a torn tail at open */
    uint64_t recovered_corrupt_records; /* CRC failures found at open (skipped by readers) */
    /* since 0.2 */
    uint64_t skipped_files;    /* at open: names like a segment's that are not regular files
                                  (symlinks, FIFOs, sockets, directories, devices), left alone */
    /* append only */
} procmon_journal_stats;

/* Errors: EINVAL. Any thread. */
PROCMON_API int procmon_journal_stats_get(procmon_journal_stats *out, const procmon_journal *j);

/* Stop recording, write and fdatasync what is queued, release the
 * directory and free j. Returns PROCMON_OK, or the status of a final write
 * or sync that failed (the journal is still released). NULL is a no-op. */
PROCMON_API int procmon_journal_close(procmon_journal *j);

#define PROCMON_JOURNAL_READ_VERSION 1
typedef struct procmon_journal_read_options {
    unsigned int version;   /* PROCMON_JOURNAL_READ_VERSION */
    uint32_t     reserved_;
    uint64_t     from_seq;  /* first sequence number wanted (0 = the oldest kept) */
    uint64_t     from_time_ns; /* and no event before this (ns since the epoch; 0 = any) */
} procmon_journal_read_options;

#define PROCMON_JOURNAL_READ_OPTIONS_INIT { PROCMON_JOURNAL_READ_VERSION, 0, 0, 0 }

/* Open dir for reading (no lock: a writer may be appending). Errors:
 * EINVAL, EVERSION, ENOENT, EPERM, EIO, EFORMAT, ENOMEM. */
PROCMON_API int procmon_journal_reader_open(procmon_journal_reader **out, const char *dir,
                                            const procmon_journal_read_options *o);

/* The next records as events, in sequence order, up to max, with seq the
 * journal's sequence number; strings valid until the next call. A gap left
 * by records that failed their CRC (or went to retention while reading)
 * comes as a LOST event (flag SYNTHESIZED) with the number of sequence
 * numbers missing. At the end, waits up to timeout_ms for more (0 = not at
 * all, -1 = forever: follow a live writer); *n_out = 0 when none came.
 * Errors: EINVAL, EIO, EFORMAT, ENOMEM; EINTR with *n_out = 0 only after
 * procmon_journal_reader_wake (since 0.3). One thread at a time per reader. */
PROCMON_API int procmon_journal_reader_next(procmon_journal_reader *r, procmon_event *events, size_t event_size,
                                            size_t max, size_t *n_out, int timeout_ms);

typedef struct procmon_journal_reader_stats {
    uint32_t size;                /* set by the caller */
    uint32_t reserved_;
    uint64_t records;             /* returned so far */
    uint64_t corrupt_records;     /* runs of bytes skipped for a failed CRC or a bad length */
    uint64_t corrupt_bytes;
    uint64_t first_corrupt_segment; /* first sequence number of the segment holding the first, 0 if none */
    uint64_t first_corrupt_offset;  /* its byte offset in that segment */
    uint64_t missing;             /* sequence numbers reported missing in LOST events */
    /* since 0.2 */
    uint64_t skipped_files;       /* names like a segment's that are not regular files
                                     (symlinks, FIFOs, sockets, directories, devices), never opened */
    /* append only */
} procmon_journal_reader_stats;

/* Errors: EINVAL. */
PROCMON_API int procmon_journal_reader_stats_get(procmon_journal_reader_stats *out,
                                                 const procmon_journal_reader *r);

/* Since 0.3: a file descriptor that becomes readable when the journal
 * directory changes (new records may wait), for epoll, asyncio, tokio; it
 * stays readable until the next procmon_journal_reader_next or
 * procmon_journal_reader_wait, which then look. After it turned readable,
 * call next until it returns fewer than max: records left unread when next
 * stopped at max do not make it readable again (as an edge-triggered epoll:
 * read until there is no more). Owned by the reader: do not
 * read or close it. -1 for NULL, or when the reader cannot watch the
 * directory (then poll: call next with a timeout now and then). Any thread. */
PROCMON_API int procmon_journal_reader_fd(const procmon_journal_reader *r);

/* Since 0.3: wait until procmon_journal_reader_next with timeout 0 would
 * return at least one event (a record or a LOST), or timeout_ms passes
 * (0 = just look, -1 = forever). Returns PROCMON_OK; ETIMEDOUT when the
 * time ran out; EINTR when a signal arrived for the calling thread while
 * waiting (a handler that lets it: check your signals and call again);
 * EINVAL for NULL or timeout_ms < -1; and the errors of
 * procmon_journal_reader_next. What it found is kept for the next call of
 * procmon_journal_reader_next. procmon_journal_reader_wake also ends it
 * with EINTR. One thread at a time per reader (with next). */
PROCMON_API int procmon_journal_reader_wait(procmon_journal_reader *r, int timeout_ms);

/* Since 0.3: ends the procmon_journal_reader_wait or
 * procmon_journal_reader_next waiting on r with PROCMON_EINTR (next:
 * *n_out = 0), or, when none waits, the next such call (also one with
 * timeout 0). The wake is kept until one call takes it, so a wake just
 * before a thread starts to wait is not lost; records found ahead stay for
 * the call after. It does not make procmon_journal_reader_fd readable.
 * How another thread ends a blocked reader before
 * procmon_journal_reader_close. Errors: EINVAL (NULL).
 * Any thread, also from a signal handler. */
PROCMON_API int procmon_journal_reader_wake(procmon_journal_reader *r);

/* NULL is a no-op. */
PROCMON_API void procmon_journal_reader_close(procmon_journal_reader *r);

#ifdef __cplusplus
}
#endif

#endif /* PROCMON_H */
