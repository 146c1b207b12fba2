// procmon._procmon: the private extension under the `procmon` package. Thin
// over the C ABI in procmon.h (nothing from the C++ core), it owns the C
// handles and copies what Python keeps; the package around it adds the
// psutil-shaped API, iteration and asyncio.
//
// Locks and the GIL: a Context and a Subscription each have a mutex that
// serialises calls on them, as docs/threading.md requires. The order is
// always mutex, then GIL: a thread releases the GIL before it takes a mutex,
// so two threads can never wait on each other.
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <optional>
#include <utility>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "procmon.h"

namespace py = pybind11;

namespace {

// ------------------------------------------------------------ errors

// The status code's name in procmon.h, "EPERM" for PROCMON_EPERM.
const char *status_code_name(int code) {
#define PM_STATUS_CASE(name, value, text) \
    case value: return #name;
    switch (code) { PROCMON_STATUS_MAP(PM_STATUS_CASE) }
#undef PM_STATUS_CASE
    return "UNKNOWN";
}

// procmon._errors.from_library: the exception classes are Python's (with
// psutil's signatures); it picks the class for a status code. Set at import,
// never freed (module lifetime).
py::object *error_factory = nullptr;

// Raises the exception for `code` with `message`. GIL held.
[[noreturn]] void raise(int code, const std::string &message, int sys_errno = 0) {
    py::object exc = (*error_factory)(code, status_code_name(code), message, sys_errno);
    PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(exc.ptr())), exc.ptr());
    throw py::error_already_set();
}

// The library's error of the call that just failed on this thread. The
// error slot is thread-local, so it must be read on the thread of the call
// (the GIL may be re-taken in between, the thread is the same).
struct Failure {
    int code;
    int sys_errno;
    std::string message;
};
Failure last_failure(int rc) {
    const procmon_error *e = procmon_error_last();
    return {rc, e->sys_errno, e->code == rc && e->message[0] ? e->message : procmon_strerror(rc)};
}
[[noreturn]] void raise(const Failure &f) { raise(f.code, f.message, f.sys_errno); }

// ------------------------------------------------------------ values

py::str fs_text(const char *s, std::size_t n) {  // like os.fsdecode: bytes that are not UTF-8 survive
    PyObject *o = PyUnicode_DecodeFSDefaultAndSize(s, static_cast<Py_ssize_t>(n));
    if (o == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(o);
}
py::str fs_text(const char *s) { return fs_text(s, std::strlen(s)); }

py::list argv_list(const char *argv, std::size_t len) {
    py::list out;
    for (std::size_t at = 0; at < len;) {
        const std::size_t n = ::strnlen(argv + at, len - at);
        out.append(fs_text(argv + at, n));
        at += n + 1;
    }
    return out;
}

const char *status_name(char state) {  // psutil's STATUS_* strings
    switch (state) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "disk-sleep";
    case 'T': return "stopped";
    case 't': return "tracing-stop";
    case 'Z': return "zombie";
    case 'X':
    case 'x': return "dead";
    case 'K': return "wake-kill";
    case 'W': return "waking";
    case 'I': return "idle";
    case 'P': return "parked";
    default: return "unknown";
    }
}

// uid -> user name, as psutil: the name, else the uid as text. GIL held.
py::str user_name(uint32_t uid) {
    static std::unordered_map<uint32_t, py::object> *cache = new std::unordered_map<uint32_t, py::object>();
    auto it = cache->find(uid);
    if (it != cache->end()) return it->second;
    struct passwd pw, *found = nullptr;
    std::vector<char> buf(4096);
    py::str name;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr)
        name = fs_text(found->pw_name);
    else
        name = py::str(std::to_string(uid));
    cache->emplace(uid, name);
    return name;
}

struct Types {  // psutil-shaped named tuples, made once at import
    py::object pmem, pfullmem, pcputimes, puids, pgids, pio, pctxsw;
};
Types *types = nullptr;

// ------------------------------------------------------------ context

// A counter of a stats struct `s` into the dict `d`, under the same name.
#define PM_COPY(field) d[#field] = s.field

struct Context {
    procmon_ctx *ctx = nullptr;
    std::mutex mutex;  // one call at a time on the context
    std::atomic<bool> closed{false};  // set by close_context; read by any thread without the mutex

    ~Context() {
        if (ctx) procmon_close(ctx);
    }
    // The context, or Closed. Caller holds `mutex`.
    procmon_ctx *get() {
        if (ctx == nullptr) {
            py::gil_scoped_acquire gil;
            raise(PROCMON_ECLOSED, "the Monitor is closed");
        }
        return ctx;
    }
};

// Runs `call` with the GIL released and the context's mutex held.
template <class F>
auto locked(Context &c, F &&call) {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(c.mutex);
    return call(c.get());
}

// Runs `call` as `locked` does and raises the library's error if it failed:
// read on this same thread after the GIL is back (the error slot is
// thread-local, and nothing else ran on this thread in between).
template <class F>
void checked(Context &c, F &&call) {
    const int rc = locked(c, std::forward<F>(call));
    if (rc != PROCMON_OK) raise(last_failure(rc));
}

std::shared_ptr<Context> open_context(uint64_t arena_cap, uint32_t threads, uint32_t argv_cap, bool cache, bool polling,
                                      uint32_t poll_interval_ms, std::optional<std::string> proc_root) {
    auto c = std::make_shared<Context>();
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.arena_cap_bytes = arena_cap;
    o.threads = threads;
    o.argv_cap_bytes = argv_cap;
    o.cache_policy = cache ? PROCMON_CACHE_STATIC : PROCMON_CACHE_NONE;
    o.event_source = polling ? PROCMON_SOURCE_POLLING : PROCMON_SOURCE_AUTO;
    o.poll_interval_ms = poll_interval_ms;
    o.proc_root = proc_root ? proc_root->c_str() : nullptr;
    int rc = procmon_open(&c->ctx, &o);
    if (rc != PROCMON_OK) raise(last_failure(rc));
    return c;
}

py::dict context_stats(Context &c) {
    procmon_stats s{};
    s.size = sizeof s;
    checked(c, [&](procmon_ctx *ctx) { return procmon_stats_get(&s, ctx); });
    py::dict d;
    PM_COPY(arena_cap_bytes);
    PM_COPY(arena_used_bytes);
    PM_COPY(arena_peak_bytes);
    PM_COPY(allocator);
    PM_COPY(enumerations);
    PM_COPY(cache_entries);
    PM_COPY(cache_hits);
    PM_COPY(cache_misses);
    d["event_source"] = s.event_source == PROCMON_STATS_SOURCE_NETLINK   ? "netlink"
                        : s.event_source == PROCMON_STATS_SOURCE_POLLING ? "polling"
                                                                         : "none";
    PM_COPY(source_reason);
    PM_COPY(poll_interval_ms);
    PM_COPY(events_received);
    PM_COPY(events_filtered);
    PM_COPY(events_delivered);
    PM_COPY(events_dropped);
    PM_COPY(events_lost);
    PM_COPY(resyncs);
    PM_COPY(collector_cpu_ns);
    PM_COPY(process_rss_bytes);
    return d;
}

// The machine as procmon_system_get reads it, under the C names.
py::dict context_system(Context &c) {
    procmon_system s{};
    s.size = sizeof s;
    checked(c, [&](procmon_ctx *ctx) { return procmon_system_get(&s, ctx); });
    py::dict d;
    PM_COPY(cpus);
    PM_COPY(mem_total_bytes);
    PM_COPY(mem_available_bytes);
    PM_COPY(mem_used_bytes);
    PM_COPY(mem_free_bytes);
    PM_COPY(swap_total_bytes);
    PM_COPY(swap_free_bytes);
    PM_COPY(load1);
    PM_COPY(load5);
    PM_COPY(load15);
    PM_COPY(boot_time_ns);
    PM_COPY(processes);
    return d;
}

// procmon_signal: sig to the process with this identity, never to a reused pid.
void signal_process(Context &c, int32_t pid, uint64_t start_ticks, int sig) {
    checked(c, [&](procmon_ctx *ctx) { return procmon_signal(ctx, pid, start_ticks, sig); });
}

void close_context(Context &c) {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.ctx) procmon_close(c.ctx);
    c.ctx = nullptr;
    c.closed = true;
}

// ------------------------------------------------------------ snapshots

// A pid argument: any int (TypeError for anything else, as for a list
// index); nullopt for one no process can have. GIL held.
std::optional<int32_t> pid_arg(const py::handle &pid) {
    const Py_ssize_t v = PyNumber_AsSsize_t(pid.ptr(), nullptr);  // clamps an int that does not fit
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (v < 0 || v > INT32_MAX) return std::nullopt;
    return static_cast<int32_t>(v);
}

struct Snapshot {
    procmon_snapshot *snap = nullptr;
    uint64_t fields = 0;
    ~Snapshot() { procmon_snapshot_free(snap); }  // any thread, even after the context closed
    std::size_t size() const { return procmon_snapshot_count(snap); }
    const procmon_process *at(std::size_t i) const { return procmon_snapshot_at(snap, i); }
};

// One record, borrowed from a snapshot that it keeps alive.
struct Record {
    std::shared_ptr<Snapshot> snap;
    const procmon_process *p;
    bool has(uint64_t group) const { return (p->valid & group) != 0; }
};

using Getter = py::object (*)(const Record &);
#define PM_GROUP(g) if (!r.has(PROCMON_FIELD_##g)) return py::none()

py::object g_pid(const Record &r) { return py::int_(r.p->pid); }
py::object g_ppid(const Record &r) { return py::int_(r.p->ppid); }
py::object g_name(const Record &r) { return fs_text(r.p->full_name); }  // the library applies psutil's rule
py::object g_exe(const Record &r) { PM_GROUP(EXE); return fs_text(r.p->exe); }
py::object g_cmdline(const Record &r) { PM_GROUP(ARGV); return argv_list(r.p->argv, r.p->argv_len); }
py::object g_cmdline_bytes(const Record &r) {
    PM_GROUP(ARGV);
    py::list out;
    for (std::size_t at = 0; at < r.p->argv_len;) {
        const std::size_t n = ::strnlen(r.p->argv + at, r.p->argv_len - at);
        out.append(py::bytes(r.p->argv + at, n));
        at += n + 1;
    }
    return out;
}
py::object g_username(const Record &r) { PM_GROUP(IDS); return user_name(r.p->uid); }
py::object g_uids(const Record &r) { PM_GROUP(IDS); return types->puids(r.p->uid, r.p->euid, r.p->suid); }
py::object g_gids(const Record &r) { PM_GROUP(IDS); return types->pgids(r.p->gid, r.p->egid, r.p->sgid); }
py::object g_status(const Record &r) { return py::str(status_name(r.p->state)); }
py::object g_create_time(const Record &r) { return py::float_(static_cast<double>(r.p->start_time_ns) / 1e9); }
py::object g_cpu_times(const Record &r) {
    PM_GROUP(CPU);
    return types->pcputimes(static_cast<double>(r.p->utime_ns) / 1e9, static_cast<double>(r.p->stime_ns) / 1e9);
}
py::object g_cpu_percent(const Record &r) { PM_GROUP(CPU); return py::float_(r.p->cpu_percent); }
py::object g_memory_info(const Record &r) { PM_GROUP(MEMORY); return types->pmem(r.p->rss_bytes, r.p->vms_bytes); }
py::object g_memory_percent(const Record &r) { PM_GROUP(MEMORY); return py::float_(r.p->mem_percent); }
py::object g_memory_full_info(const Record &r) {
    if (!r.has(PROCMON_FIELD_MEMORY) || !r.has(PROCMON_FIELD_SMAPS)) return py::none();
    const procmon_process &p = *r.p;
    return types->pfullmem(p.rss_bytes, p.vms_bytes, p.uss_bytes, p.pss_bytes, p.swap_bytes);
}
py::object g_num_threads(const Record &r) { PM_GROUP(SCHED); return py::int_(r.p->threads); }
py::object g_nice(const Record &r) { PM_GROUP(SCHED); return py::int_(r.p->nice); }
py::object g_cwd(const Record &r) { PM_GROUP(CWD); return fs_text(r.p->cwd); }
py::object g_num_fds(const Record &r) { PM_GROUP(FDS); return py::int_(r.p->fd_count); }
py::object g_io_counters(const Record &r) {
    PM_GROUP(IO);
    const procmon_process &p = *r.p;
    return types->pio(p.io_syscr, p.io_syscw, p.io_read_bytes, p.io_write_bytes, p.io_rchar, p.io_wchar);
}
py::object g_num_ctx_switches(const Record &r) {
    PM_GROUP(CTXSW);
    return types->pctxsw(r.p->voluntary_ctxt_switches, r.p->nonvoluntary_ctxt_switches);
}
py::object g_cgroup(const Record &r) { PM_GROUP(CGROUP); return fs_text(r.p->cgroup); }
py::object g_container_id(const Record &r) {
    PM_GROUP(CGROUP);
    return r.p->container_id[0] ? py::object(py::str(r.p->container_id)) : py::none();
}
#undef PM_GROUP

// psutil's attribute names, in psutil's order; the package lists them as
// procmon.ATTRS. procmon-only extras come last.
struct Attr {
    const char *name;
    uint64_t fields;  // the field groups it needs read (name: argv for psutil's rule, else comm)
    Getter get;
    const char *doc;
};
const std::vector<Attr> &getters() {
    static const std::vector<Attr> table = {
        {"pid", PROCMON_FIELD_BASIC, g_pid, "Process id."},
        {"ppid", PROCMON_FIELD_BASIC, g_ppid, "Parent's process id."},
        {"name", PROCMON_FIELD_BASIC, g_name, "The name users see (psutil's): comm, or argv[0]'s or exe's base name when the kernel cut comm at 15 bytes."},
        {"exe", PROCMON_FIELD_EXE, g_exe, "Executable path; None unless the 'exe' field was read."},
        {"cmdline", PROCMON_FIELD_ARGV, g_cmdline, "Arguments as str (undecodable bytes as surrogate escapes, like os.fsdecode)."},
        {"username", PROCMON_FIELD_IDS, g_username, "Real user's name (the uid as text if it has none)."},
        {"uids", PROCMON_FIELD_IDS, g_uids, "puids(real, effective, saved)."},
        {"gids", PROCMON_FIELD_IDS, g_gids, "pgids(real, effective, saved)."},
        {"status", PROCMON_FIELD_BASIC, g_status, "psutil's status string: 'running', 'sleeping', 'zombie', ..."},
        {"create_time", PROCMON_FIELD_BASIC, g_create_time, "Start time, seconds since the epoch."},
        {"cpu_times", PROCMON_FIELD_CPU, g_cpu_times, "pcputimes(user, system) in seconds."},
        {"cpu_percent", PROCMON_FIELD_CPU, g_cpu_percent, "CPU use since the Monitor's previous snapshot (100 = one core)."},
        {"memory_info", PROCMON_FIELD_MEMORY, g_memory_info, "pmem(rss, vms) in bytes."},
        {"memory_percent", PROCMON_FIELD_MEMORY, g_memory_percent, "rss as a percentage of the machine's memory."},
        {"memory_full_info", PROCMON_FIELD_MEMORY | PROCMON_FIELD_SMAPS, g_memory_full_info,
         "pfullmem(rss, vms, uss, pss, swap) in bytes (opt-in field 'smaps': walks the page tables)."},
        {"num_threads", PROCMON_FIELD_SCHED, g_num_threads, "Number of threads."},
        {"nice", PROCMON_FIELD_SCHED, g_nice, "Nice value."},
        {"cwd", PROCMON_FIELD_CWD, g_cwd, "Working directory (opt-in field 'cwd')."},
        {"num_fds", PROCMON_FIELD_FDS, g_num_fds, "Open file descriptors (opt-in field 'fds')."},
        {"io_counters", PROCMON_FIELD_IO, g_io_counters, "pio(...) as psutil (opt-in field 'io')."},
        {"num_ctx_switches", PROCMON_FIELD_CTXSW, g_num_ctx_switches, "pctxsw(voluntary, involuntary) (opt-in 'ctxsw')."},
        {"cmdline_bytes", PROCMON_FIELD_ARGV, g_cmdline_bytes, "Arguments as bytes, exactly as the process has them."},
        {"cgroup", PROCMON_FIELD_CGROUP, g_cgroup, "cgroup path (opt-in field 'cgroup')."},
        {"container_id", PROCMON_FIELD_CGROUP, g_container_id, "Container id found in the cgroup path, else None."},
    };
    return table;
}

std::vector<std::pair<py::str, Getter>> resolve(const std::optional<std::vector<std::string>> &attrs) {
    std::vector<std::pair<py::str, Getter>> out;
    if (!attrs) {
        for (const Attr &a : getters()) out.emplace_back(py::str(a.name), a.get);
        return out;
    }
    for (const std::string &a : *attrs) {
        Getter found = nullptr;
        for (const Attr &known : getters())
            if (a == known.name) found = known.get;
        if (found == nullptr) raise(PROCMON_EINVAL, "invalid attr name '" + a + "' (procmon.ATTRS lists the valid ones)");
        out.emplace_back(py::str(a), found);
    }
    return out;
}

py::dict as_dict(const Record &r, const std::vector<std::pair<py::str, Getter>> &attrs) {
    py::dict d;
    for (auto &[name, get] : attrs) d[name] = get(r);
    return d;
}

std::shared_ptr<Snapshot> enumerate(Context &c, uint64_t fields, std::optional<std::string> name,
                                    std::optional<std::string> cmdline, int64_t uid,
                                    std::optional<std::vector<int32_t>> pids, bool refresh) {
    auto s = std::make_shared<Snapshot>();
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = fields;
    q.name_glob = name ? name->c_str() : nullptr;
    q.cmdline_glob = cmdline ? cmdline->c_str() : nullptr;
    q.uid = uid;
    if (pids) {
        q.pids = pids->data();
        q.pid_count = pids->size();
    }
    q.flags = refresh ? PROCMON_QUERY_REFRESH : 0;
    checked(c, [&](procmon_ctx *ctx) { return procmon_enumerate(&s->snap, ctx, &q); });
    s->fields = fields ? fields : PROCMON_FIELDS_DEFAULT;
    return s;
}

// Columns for to_numpy()/to_arrays(): name -> (array typecode, bytes).
py::list columns(const Snapshot &s) {
    const std::size_t n = s.size();
    struct Col {
        const char *name;
        char code;  // array module typecode
        std::size_t width;
        void (*put)(const procmon_process &, void *);
    };
    static const Col cols[] = {
        {"pid", 'i', 4, [](const procmon_process &p, void *o) { std::memcpy(o, &p.pid, 4); }},
        {"ppid", 'i', 4, [](const procmon_process &p, void *o) { std::memcpy(o, &p.ppid, 4); }},
        {"uid", 'I', 4, [](const procmon_process &p, void *o) { std::memcpy(o, &p.euid, 4); }},
        {"num_threads", 'I', 4, [](const procmon_process &p, void *o) { std::memcpy(o, &p.threads, 4); }},
        {"nice", 'i', 4, [](const procmon_process &p, void *o) { std::memcpy(o, &p.nice, 4); }},
        {"rss", 'Q', 8, [](const procmon_process &p, void *o) { std::memcpy(o, &p.rss_bytes, 8); }},
        {"vms", 'Q', 8, [](const procmon_process &p, void *o) { std::memcpy(o, &p.vms_bytes, 8); }},
        {"cpu_user", 'd', 8, [](const procmon_process &p, void *o) { double v = static_cast<double>(p.utime_ns) / 1e9; std::memcpy(o, &v, 8); }},
        {"cpu_system", 'd', 8, [](const procmon_process &p, void *o) { double v = static_cast<double>(p.stime_ns) / 1e9; std::memcpy(o, &v, 8); }},
        {"cpu_percent", 'd', 8, [](const procmon_process &p, void *o) { std::memcpy(o, &p.cpu_percent, 8); }},
        {"create_time", 'd', 8, [](const procmon_process &p, void *o) { double v = static_cast<double>(p.start_time_ns) / 1e9; std::memcpy(o, &v, 8); }},
        {"valid", 'Q', 8, [](const procmon_process &p, void *o) { std::memcpy(o, &p.valid, 8); }},
        {"state", 'b', 1, [](const procmon_process &p, void *o) { std::memcpy(o, &p.state, 1); }},
    };
    py::list out;
    std::string buf;
    for (const Col &c : cols) {
        buf.resize(n * c.width);
        for (std::size_t i = 0; i < n; ++i) c.put(*s.at(i), buf.data() + i * c.width);
        out.append(py::make_tuple(c.name, std::string(1, c.code), py::bytes(buf)));
    }
    // Text as fixed-width fields as wide as the longest value (numpy's S<width>,
    // NUL-padded): name is the name users see, as Record.name; comm the kernel's.
    using Text = const char *procmon_process::*;
    for (auto [name, member] : {std::pair<const char *, Text>{"name", &procmon_process::full_name},
                                std::pair<const char *, Text>{"comm", &procmon_process::name}}) {
        std::size_t width = 1;
        for (std::size_t i = 0; i < n; ++i) width = std::max(width, std::strlen(s.at(i)->*member));
        buf.assign(n * width, '\0');
        for (std::size_t i = 0; i < n; ++i) std::memcpy(buf.data() + i * width, s.at(i)->*member, std::strlen(s.at(i)->*member));
        out.append(py::make_tuple(name, "S" + std::to_string(width), py::bytes(buf)));
    }
    return out;
}

// ------------------------------------------------------------ events

// The end of a wait of `timeout` seconds from now, as the package passes
// it: None (also inf, or more than a year) is never; negative is now; NaN
// raises (the package checks all of it first). Made with the GIL held.
class Deadline {
    using clock = std::chrono::steady_clock;
    std::optional<clock::time_point> at_;

  public:
    explicit Deadline(std::optional<double> timeout) {
        if (timeout && std::isnan(*timeout)) raise(PROCMON_EINVAL, "timeout is NaN");
        if (timeout && *timeout <= 365.0 * 86400)
            at_ = clock::now() + std::chrono::duration_cast<clock::duration>(
                                     std::chrono::duration<double>(std::max(0.0, *timeout)));
    }
    bool forever() const { return !at_; }
    bool passed() const { return at_ && clock::now() >= *at_; }
    // Milliseconds left, rounded up, in 0..cap; cap when it never ends.
    int ms_left(int cap) const {
        if (!at_) return cap;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*at_ - clock::now()).count();
        return static_cast<int>(std::clamp<long long>(left, 0, cap));
    }
};

struct Event {
    procmon_event e{};
    std::string name, exe, argv, full_name;  // copies: the library's strings live only until the next call
};

// Names of event types and field groups, as the Python API spells them.
constexpr std::pair<const char *, uint32_t> kEventTypes[] = {
    {"start", PROCMON_EVENT_START}, {"exec", PROCMON_EVENT_EXEC}, {"exit", PROCMON_EVENT_EXIT},
    {"uid", PROCMON_EVENT_UID},     {"comm", PROCMON_EVENT_COMM}, {"lost", PROCMON_EVENT_LOST},
};
constexpr std::pair<const char *, uint64_t> kFieldGroups[] = {
    {"basic", PROCMON_FIELD_BASIC}, {"cpu", PROCMON_FIELD_CPU},     {"memory", PROCMON_FIELD_MEMORY},
    {"sched", PROCMON_FIELD_SCHED}, {"ids", PROCMON_FIELD_IDS},     {"exe", PROCMON_FIELD_EXE},
    {"argv", PROCMON_FIELD_ARGV},   {"cwd", PROCMON_FIELD_CWD},     {"fds", PROCMON_FIELD_FDS},
    {"io", PROCMON_FIELD_IO},       {"ctxsw", PROCMON_FIELD_CTXSW}, {"cgroup", PROCMON_FIELD_CGROUP},
    {"smaps", PROCMON_FIELD_SMAPS},
};

const char *event_type_name(uint32_t t) {
    for (auto &[name, bit] : kEventTypes)
        if (bit == t) return name;
    return "unknown";
}

Event copy_event(const procmon_event &e) {
    Event out;
    out.e = e;
    out.name = e.name;
    out.exe = e.exe;
    out.argv.assign(e.argv, e.argv_len);
    out.full_name = e.full_name;
    out.e.name = out.e.exe = out.e.argv = out.e.full_name = nullptr;
    return out;
}

struct Subscription {
    std::shared_ptr<Context> ctx;  // keeps the context open while we are
    procmon_subscription *sub = nullptr;
    std::mutex mutex;              // one call at a time; held across procmon_* calls only
    std::atomic<std::thread::id> dispatching{};  // the thread inside dispatch(), if any
    std::atomic<bool> closed{false};
    int wake = -1;                 // eventfd: close() wakes waiters before it frees `sub`
    std::vector<procmon_event> batch;

    ~Subscription() {
        if (sub) procmon_unsubscribe(sub);
        if (wake >= 0) ::close(wake);
    }

    void check_not_in_dispatch(const char *what) {
        if (dispatching.load() == std::this_thread::get_id())
            raise(PROCMON_EBUSY, std::string(what) + ": not allowed inside this subscription's dispatch callback");
    }

    // Up to `max` events; waits up to `timeout` seconds for the first (None:
    // forever). The GIL is released while waiting, and signals (Ctrl-C) are
    // handled as they arrive.
    std::vector<Event> next(std::size_t max, std::optional<double> timeout) {
        check_not_in_dispatch("next");
        if (max == 0) raise(PROCMON_EINVAL, "max must be at least 1");
        const Deadline deadline(timeout);
        std::vector<Event> out;
        for (;;) {
            std::optional<Failure> failed;
            int fd = -1;
            {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lock(mutex);
                if (closed) {
                    failed = Failure{PROCMON_ECLOSED, 0, "the subscription is closed"};
                } else {
                    batch.resize(std::min<std::size_t>(max, 4096));
                    std::size_t n = 0;
                    int rc = procmon_subscription_next(sub, batch.data(), sizeof(procmon_event), batch.size(), &n, 0);
                    if (rc != PROCMON_OK) failed = last_failure(rc);
                    out.reserve(n);
                    for (std::size_t i = 0; i < n; ++i) out.push_back(copy_event(batch[i]));
                    fd = procmon_subscription_fd(sub);
                }
            }
            if (failed) raise(*failed);
            if (!out.empty()) return out;
            const int left_ms = deadline.forever() ? -1 : deadline.ms_left(1 << 30);
            if (left_ms == 0) return out;
            int r;
            {
                py::gil_scoped_release nogil;
                struct pollfd fds[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
                r = ::poll(fds, 2, left_ms);
            }
            if (r < 0 && errno == EINTR && PyErr_CheckSignals() != 0) throw py::error_already_set();
        }
    }

    // Calls cb(event) for up to `max` waiting events, without waiting;
    // returns how many. An exception in cb stops it and propagates.
    std::size_t dispatch(const py::function &cb, std::size_t max) {
        check_not_in_dispatch("dispatch");
        struct Payload {
            const py::function *cb;
            std::optional<py::error_already_set> error;
        } payload{&cb, std::nullopt};
        auto trampoline = [](const procmon_event *e, void *p) -> int {
            auto *pl = static_cast<Payload *>(p);
            try {
                py::object stop = (*pl->cb)(py::cast(copy_event(*e)));
                return stop.is_none() || !py::bool_(stop) ? 0 : 1;  // a true result stops, as in C
            } catch (py::error_already_set &err) {
                pl->error = std::move(err);
                return 1;
            }
        };
        std::size_t n = 0;
        int rc;
        {
            py::gil_scoped_release nogil;
            mutex.lock();
        }
        std::unique_lock<std::mutex> lock(mutex, std::adopt_lock);
        if (closed) raise(PROCMON_ECLOSED, "the subscription is closed");
        dispatching = std::this_thread::get_id();
        rc = procmon_dispatch(sub, trampoline, &payload, max, &n);
        dispatching = std::thread::id{};
        std::optional<Failure> failed;
        if (rc != PROCMON_OK && rc != PROCMON_EUSER) failed = last_failure(rc);
        lock.unlock();
        if (payload.error) throw std::move(*payload.error);
        if (failed && !(failed->code == PROCMON_ECLOSED && closed)) raise(*failed);
        return n;
    }

    void close() {
        if (closed.exchange(true)) return;
        uint64_t one = 1;
        [[maybe_unused]] ssize_t w = ::write(wake, &one, sizeof one);  // waiters in poll() wake and see `closed`
        if (dispatching.load() == std::this_thread::get_id()) {  // from the callback: we hold the mutex
            procmon_unsubscribe(sub);
            sub = nullptr;
            return;
        }
        py::gil_scoped_release nogil;
        std::lock_guard<std::mutex> lock(mutex);
        procmon_unsubscribe(sub);
        sub = nullptr;
    }

    // Closed by close(), or by closing its Monitor (the library's waits then
    // return ECLOSED; the descriptor stays the subscription's until close()).
    bool is_closed() const { return closed.load() || ctx->closed.load(); }

    int fileno() {
        if (is_closed()) raise(PROCMON_ECLOSED, closed ? "the subscription is closed" : "its Monitor is closed");
        return procmon_subscription_fd(sub);
    }

    py::dict stats() {
        procmon_subscription_stats s{};
        s.size = sizeof s;
        std::optional<Failure> failed;
        auto read = [&] {
            if (closed) failed = Failure{PROCMON_ECLOSED, 0, "the subscription is closed"};
            else if (int rc = procmon_subscription_stats_get(&s, sub); rc != PROCMON_OK) failed = last_failure(rc);
        };
        if (dispatching.load() == std::this_thread::get_id()) {
            read();  // from our own dispatch callback, which holds the mutex
        } else {
            py::gil_scoped_release nogil;
            std::lock_guard<std::mutex> lock(mutex);
            read();
        }
        if (failed) raise(*failed);
        py::dict d;
        PM_COPY(queue_capacity);
        PM_COPY(queue_depth);
        PM_COPY(received);
        PM_COPY(filtered);
        PM_COPY(delivered);
        PM_COPY(dropped);
        PM_COPY(lost);
        PM_COPY(undecidable);
        PM_COPY(timed);
        py::dict latency;
        const std::pair<const char *, const procmon_latency &> stages[] = {
            {"receive", s.latency_receive}, {"enrich", s.latency_enrich},
            {"deliver", s.latency_deliver}, {"total", s.latency_total}};
        for (const auto &[stage, l] : stages) {
            py::dict one;
            one["p50_ns"] = l.p50_ns;
            one["p99_ns"] = l.p99_ns;
            one["max_ns"] = l.max_ns;
            latency[stage] = one;
        }
        d["latency"] = latency;
        return d;
    }
};

std::shared_ptr<Subscription> subscribe(const std::shared_ptr<Context> &c, uint32_t events,
                                        std::optional<std::string> name, std::optional<std::string> cmdline,
                                        int64_t uid, int32_t descendants_of, uint32_t queue, bool threads,
                                        bool undecidable) {
    auto s = std::make_shared<Subscription>();
    s->ctx = c;
    s->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake < 0) raise(PROCMON_EIO, std::string("eventfd: ") + std::strerror(errno), errno);
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    o.events = events;
    o.name_glob = name ? name->c_str() : nullptr;
    o.uid = uid;
    o.descendants_of = descendants_of;
    o.queue_capacity = queue;
    o.cmdline_glob = cmdline ? cmdline->c_str() : nullptr;
    o.flags = (threads ? PROCMON_SUBSCRIBE_THREADS : 0u) | (undecidable ? PROCMON_SUBSCRIBE_UNDECIDABLE : 0u);
    checked(*c, [&](procmon_ctx *ctx) { return procmon_subscribe(&s->sub, ctx, &o); });
    return s;
}

// ------------------------------------------------------------ journal

// A journal writer. append, sync and stats from any thread; close once.
// `lock` is shared by the calls and taken exclusively by close, so a call in
// flight never sees the journal freed under it.
struct Journal {
    std::shared_ptr<Context> ctx;  // may be null: fed by append only
    procmon_journal *j = nullptr;
    std::shared_mutex lock;

    ~Journal() {
        if (j) procmon_journal_close(j);
    }

    // Runs f(journal) without the GIL under the shared lock; raises on failure.
    template <class F>
    void call(F &&f) {
        std::optional<Failure> failed;
        {
            py::gil_scoped_release nogil;
            std::shared_lock<std::shared_mutex> hold(lock);
            if (j == nullptr) failed = Failure{PROCMON_ECLOSED, 0, "the journal is closed"};
            else if (int rc = f(j); rc != PROCMON_OK) failed = last_failure(rc);
        }
        if (failed) raise(*failed);
    }

    void append(const std::vector<const Event *> &events) {
        std::vector<procmon_event> raw;
        raw.reserve(events.size());
        for (const Event *v : events) {
            if (v == nullptr) throw py::type_error("append takes procmon.Event objects, not None");
            procmon_event e = v->e;
            e.name = v->name.c_str();
            e.exe = v->exe.c_str();
            e.argv = v->argv.data();
            e.argv_len = v->argv.size();
            e.full_name = v->full_name.c_str();
            raw.push_back(e);
        }
        call([&](procmon_journal *jj) { return procmon_journal_append(jj, raw.data(), sizeof(procmon_event), raw.size()); });
    }

    uint64_t sync(std::optional<double> timeout) {
        const Deadline deadline(timeout);
        const int ms = deadline.forever() ? -1 : deadline.ms_left(INT_MAX);
        uint64_t durable = 0;
        call([&](procmon_journal *jj) { return procmon_journal_sync(jj, ms, &durable); });
        return durable;
    }

    py::dict stats() {
        procmon_journal_stats s{};
        s.size = sizeof s;
        call([&](procmon_journal *jj) { return procmon_journal_stats_get(&s, jj); });
        py::dict d;
        PM_COPY(next_seq);
        PM_COPY(durable_seq);
        PM_COPY(records);
        PM_COPY(lost);
        PM_COPY(bytes_written);
        PM_COPY(commits);
        PM_COPY(fsyncs);
        PM_COPY(write_errors);
        d["last_error"] = s.last_error == PROCMON_OK ? py::object(py::none()) : py::object(py::str(procmon_strerror(s.last_error)));
        PM_COPY(segments);
        PM_COPY(disk_bytes);
        PM_COPY(segments_removed);
        PM_COPY(recovered_truncated_bytes);
        PM_COPY(recovered_corrupt_records);
        PM_COPY(skipped_files);
        return d;
    }

    void close() {
        std::optional<Failure> failed;
        {
            py::gil_scoped_release nogil;
            std::unique_lock<std::shared_mutex> hold(lock);
            if (j != nullptr) {
                int rc = procmon_journal_close(j);
                j = nullptr;
                if (rc != PROCMON_OK) failed = last_failure(rc);
            }
        }
        ctx.reset();
        if (failed) raise(*failed);
    }
};

std::shared_ptr<Journal> open_journal(const std::string &dir, std::shared_ptr<Context> c, uint32_t fsync,
                                      uint32_t interval_ms, uint32_t queue, uint64_t segment, uint64_t max_bytes,
                                      uint64_t max_age_ms, uint32_t events, std::optional<std::string> name,
                                      std::optional<std::string> cmdline, int64_t uid, int32_t descendants_of,
                                      bool undecidable) {
    auto jr = std::make_shared<Journal>();
    jr->ctx = c;
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    so.events = events;
    so.name_glob = name ? name->c_str() : nullptr;
    so.cmdline_glob = cmdline ? cmdline->c_str() : nullptr;
    so.uid = uid;
    so.descendants_of = descendants_of;
    so.flags = undecidable ? PROCMON_SUBSCRIBE_UNDECIDABLE : 0u;
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.fsync = fsync;
    o.fsync_interval_ms = interval_ms;
    o.queue_capacity = queue;
    o.segment_bytes = segment;
    o.max_bytes = max_bytes;
    o.max_age_ms = max_age_ms;
    o.filter = &so;
    std::optional<Failure> failed;
    auto open = [&](procmon_ctx *ctx) {
        int rc = procmon_journal_open(&jr->j, ctx, dir.c_str(), &o);
        if (rc != PROCMON_OK) failed = last_failure(rc);
        return rc;
    };
    if (c) {
        locked(*c, open);
    } else {
        py::gil_scoped_release nogil;
        open(nullptr);
    }
    if (failed) raise(*failed);
    return jr;
}

// A journal reader: one thread at a time (the lock makes that so).
struct JournalReader {
    procmon_journal_reader *r = nullptr;
    std::mutex mutex;
    std::vector<procmon_event> batch;

    ~JournalReader() { procmon_journal_reader_close(r); }

    // Up to max records, waiting up to timeout seconds (None: forever) for
    // the first; in slices of 200 ms so Ctrl-C gets through.
    std::vector<Event> next(std::size_t max, std::optional<double> timeout) {
        if (max == 0) raise(PROCMON_EINVAL, "max must be at least 1");
        const Deadline deadline(timeout);
        std::vector<Event> out;
        for (;;) {
            std::optional<Failure> failed;
            const int wait_ms = deadline.ms_left(200);
            {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> hold(mutex);
                if (r == nullptr) {
                    failed = Failure{PROCMON_ECLOSED, 0, "the reader is closed"};
                } else {
                    batch.resize(std::min<std::size_t>(max, 4096));
                    std::size_t n = 0;
                    int rc = procmon_journal_reader_next(r, batch.data(), sizeof(procmon_event), batch.size(), &n, wait_ms);
                    if (rc != PROCMON_OK) failed = last_failure(rc);
                    for (std::size_t i = 0; i < n; ++i) out.push_back(copy_event(batch[i]));
                }
            }
            if (failed) raise(*failed);
            if (!out.empty() || deadline.passed()) return out;
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        }
    }

    py::dict stats() {
        procmon_journal_reader_stats s{};
        s.size = sizeof s;
        {
            std::lock_guard<std::mutex> hold(mutex);
            if (r == nullptr) raise(PROCMON_ECLOSED, "the reader is closed");
            procmon_journal_reader_stats_get(&s, r);
        }
        py::dict d;
        PM_COPY(records);
        PM_COPY(corrupt_records);
        PM_COPY(corrupt_bytes);
        PM_COPY(first_corrupt_segment);
        PM_COPY(first_corrupt_offset);
        PM_COPY(missing);
        PM_COPY(skipped_files);
        return d;
    }

    void close() {
        py::gil_scoped_release nogil;
        std::lock_guard<std::mutex> hold(mutex);
        procmon_journal_reader_close(r);
        r = nullptr;
    }
};

std::shared_ptr<JournalReader> open_reader(const std::string &dir, uint64_t from_seq, uint64_t from_time_ns) {
    auto jr = std::make_shared<JournalReader>();
    procmon_journal_read_options o = PROCMON_JOURNAL_READ_OPTIONS_INIT;
    o.from_seq = from_seq;
    o.from_time_ns = from_time_ns;
    std::optional<Failure> failed;
    {
        py::gil_scoped_release nogil;
        if (int rc = procmon_journal_reader_open(&jr->r, dir.c_str(), &o); rc != PROCMON_OK) failed = last_failure(rc);
    }
    if (failed) raise(*failed);
    return jr;
}

}  // namespace

PYBIND11_MODULE(_procmon, m) {
    m.doc() = "procmon's private extension: thin over the C ABI. Use the `procmon` package.";
    if (procmon_version() != PROCMON_VERSION_NUMBER)
        throw std::runtime_error("procmon: the library's version differs from the header this extension was built with");

    error_factory = new py::object(py::module_::import("procmon._errors").attr("from_library"));

    types = new Types();
    py::object namedtuple = py::module_::import("collections").attr("namedtuple");
    types->pmem = namedtuple("pmem", "rss vms");
    types->pfullmem = namedtuple("pfullmem", "rss vms uss pss swap");
    types->pcputimes = namedtuple("pcputimes", "user system");
    types->puids = namedtuple("puids", "real effective saved");
    types->pgids = namedtuple("pgids", "real effective saved");
    types->pio = namedtuple("pio", "read_count write_count read_bytes write_bytes read_chars write_chars");
    types->pctxsw = namedtuple("pctxsw", "voluntary involuntary");
    for (auto *t : {&types->pmem, &types->pfullmem, &types->pcputimes, &types->puids, &types->pgids, &types->pio, &types->pctxsw}) {
        t->attr("__module__") = "procmon";
        m.attr(t->attr("__name__")) = *t;
    }

    m.attr("VERSION") = procmon_version_string();
    m.attr("HEADER_VERSION") = PROCMON_VERSION_STRING;
    py::dict fields;
    for (auto &[name, bit] : kFieldGroups) fields[name] = bit;
    m.attr("FIELDS") = fields;
    m.attr("FIELDS_DEFAULT") = PROCMON_FIELDS_DEFAULT;
    m.attr("FIELDS_ALL") = PROCMON_FIELDS_ALL;
    py::dict events;
    for (auto &[name, bit] : kEventTypes) events[name] = bit;
    m.attr("EVENTS") = events;
    m.attr("EVENTS_DEFAULT") = PROCMON_EVENTS_DEFAULT;
    m.attr("QUEUE_DEFAULT") = PROCMON_QUEUE_DEFAULT;
    m.attr("QUEUE_MIN") = PROCMON_QUEUE_MIN;
    m.attr("QUEUE_MAX") = PROCMON_QUEUE_MAX;
    m.attr("DEFAULT_ARENA_CAP") = PROCMON_DEFAULT_ARENA_CAP;
    m.attr("MIN_ARENA_CAP") = PROCMON_MIN_ARENA_CAP;
    py::list attrs;
    py::dict attr_fields;
    for (const Attr &a : getters()) {
        attrs.append(a.name);
        attr_fields[a.name] = a.fields;
    }
    m.attr("ATTRS") = attrs;
    m.attr("ATTR_FIELDS") = attr_fields;

    py::class_<Context, std::shared_ptr<Context>>(m, "Context", "An open procmon context (use procmon.Monitor).")
        .def(py::init(&open_context), py::arg("arena_cap"), py::arg("threads"), py::arg("argv_cap"), py::arg("cache"),
             py::arg("polling"), py::arg("poll_interval_ms"), py::arg("proc_root"))
        .def("enumerate", &enumerate, py::arg("fields"), py::arg("name"), py::arg("cmdline"), py::arg("uid"),
             py::arg("pids"), py::arg("refresh"), "Take a snapshot (GIL released while reading /proc).")
        .def("subscribe", &subscribe, py::arg("events"), py::arg("name"), py::arg("cmdline"), py::arg("uid"),
             py::arg("descendants_of"), py::arg("queue"), py::arg("threads"), py::arg("undecidable"),
             "Start a subscription.")
        .def("stats", &context_stats, "The context's counters as a dict.")
        .def("system", &context_system, "procmon_system_get as a dict.")
        .def("signal", &signal_process, py::arg("pid"), py::arg("start_ticks"), py::arg("sig"),
             "procmon_signal: send sig to the process with this identity (0: only check it is there).")
        .def("close", &close_context, "Close the context; its subscriptions report Closed.")
        .def_property_readonly("closed", [](const Context &c) { return c.closed.load(); });

    py::class_<Record> process(m, "Record",
                        "One process of a Snapshot, read as attributes (procmon.Process has psutil's methods). A value that was not read (its field group was not asked for, "
                        "or could not be read) is None. The record keeps its snapshot alive.");
    for (const Attr &a : getters())  // psutil's attrs: the same getters as as_dict and process_iter
        process.def_property_readonly(a.name, a.get, a.doc);
    process
        .def_property_readonly("pgid", [](const Record &r) { return r.p->pgid; }, "Process group id.")
        .def_property_readonly("sid", [](const Record &r) { return r.p->sid; }, "Session id.")
        .def_property_readonly("tty", [](const Record &r) { return r.p->tty; }, "Controlling terminal device number, 0 if none.")
        .def_property_readonly("comm", [](const Record &r) { return fs_text(r.p->name); }, "The kernel's name for it (at most 15 bytes for user processes).")
        .def_property_readonly("full_name", g_name, "The name users see: as name (comm, or argv[0]'s or exe's base name when comm was cut).")
        .def_property_readonly("state", [](const Record &r) { return std::string(1, r.p->state); }, "The kernel's state letter.")
        .def_property_readonly("start_ticks", [](const Record &r) { return r.p->start_ticks; }, "Start time in clock ticks since boot: with pid, the identity.")
        .def_property_readonly("is_kernel_thread", [](const Record &r) { return (r.p->flags & PROCMON_PROC_KTHREAD) != 0; })
        .def_property_readonly("argv_truncated", [](const Record &r) { return (r.p->flags & PROCMON_PROC_ARGV_TRUNCATED) != 0; })
        .def_property_readonly("valid", [](const Record &r) { return r.p->valid; }, "Bit mask of the field groups read.")
        .def("as_dict", [](const Record &r, std::optional<std::vector<std::string>> attrs) { return as_dict(r, resolve(attrs)); },
             py::arg("attrs") = py::none(), "The attributes (all of procmon.ATTRS by default) as a dict.")
        .def("__repr__", [](const Record &r) {
            return "procmon.Record(pid=" + std::to_string(r.p->pid) + ", name=" +
                   py::repr(g_name(r)).cast<std::string>() + ", status='" + status_name(r.p->state) + "')";
        });

    py::class_<Snapshot, std::shared_ptr<Snapshot>>(m, "Snapshot",
                                                    "Every process at one moment, sorted by pid: a sequence of Record.")
        .def("__len__", &Snapshot::size)
        .def("__getitem__", [](const std::shared_ptr<Snapshot> &s, const py::object &index) {
            Py_ssize_t i = PyNumber_AsSsize_t(index.ptr(), PyExc_IndexError);  // as a list's
            if (i == -1 && PyErr_Occurred()) throw py::error_already_set();
            const Py_ssize_t n = static_cast<Py_ssize_t>(s->size());
            if (i < 0) i += n;
            if (i < 0 || i >= n) throw py::index_error("snapshot index out of range");
            return Record{s, s->at(static_cast<std::size_t>(i))};
        })
        .def("find", [](const std::shared_ptr<Snapshot> &s, const py::object &pid_obj) -> std::optional<Record> {
            const std::optional<int32_t> pid = pid_arg(pid_obj);
            const procmon_process *p = pid ? procmon_snapshot_find(s->snap, *pid) : nullptr;
            if (p == nullptr) return std::nullopt;
            return Record{s, p};
        }, py::arg("pid"), "The record of pid, or None.")
        .def("children", [](const std::shared_ptr<Snapshot> &s, const py::object &pid_obj, bool recursive) {
            std::vector<Record> out;
            const std::optional<int32_t> pid = pid_arg(pid_obj);
            if (!pid) return out;
            // index by parent once: a recursive walk from pid 1 stays linear
            std::unordered_multimap<int32_t, const procmon_process *> by_parent;
            by_parent.reserve(s->size());
            for (std::size_t i = 0; i < s->size(); ++i)
                if (s->at(i)->ppid != s->at(i)->pid) by_parent.emplace(s->at(i)->ppid, s->at(i));
            std::vector<int32_t> parents{*pid};
            for (std::size_t next = 0; next < parents.size(); ++next) {
                auto [first, last] = by_parent.equal_range(parents[next]);
                for (auto it = first; it != last; ++it) {
                    out.push_back(Record{s, it->second});
                    if (recursive) parents.push_back(it->second->pid);
                }
            }
            std::sort(out.begin(), out.end(), [](const Record &a, const Record &b) { return a.p->pid < b.p->pid; });
            return out;
        }, py::arg("pid"), py::arg("recursive") = false, "The processes whose parent is pid (all descendants if recursive).")
        .def("as_dicts", [](const std::shared_ptr<Snapshot> &s, std::optional<std::vector<std::string>> attrs) {
            auto resolved = resolve(attrs);
            py::list out;
            for (std::size_t i = 0; i < s->size(); ++i) out.append(as_dict(Record{s, s->at(i)}, resolved));
            return out;
        }, py::arg("attrs") = py::none(), "Every record as a dict of attrs.")
        .def("_columns", [](const Snapshot &s) { return columns(s); })
        .def("to_numpy", [](py::object self) { return py::module_::import("procmon._columns").attr("to_numpy")(self); },
             "A numpy structured array, one row per process, no per-process Python objects (needs numpy).")
        .def("to_arrays", [](py::object self) { return py::module_::import("procmon._columns").attr("to_arrays")(self); },
             "dict of column -> array.array: the columns of to_numpy() without numpy.")
        .def_property_readonly("fields", [](const Snapshot &s) { return s.fields; }, "The field groups asked for.");

    py::class_<Event>(m, "Event", "One lifecycle event. Values that do not apply to its type are None.")
        .def_property_readonly("type", [](const Event &v) { return event_type_name(v.e.type); },
                               "'start', 'exec', 'exit', 'uid', 'comm' or 'lost'.")
        .def_property_readonly("pid", [](const Event &v) { return v.e.pid; })
        .def_property_readonly("ppid", [](const Event &v) { return v.e.ppid; })
        .def_property_readonly("uid", [](const Event &v) -> std::optional<uint32_t> {
            if (v.e.uid == UINT32_MAX) return std::nullopt;
            return v.e.uid;
        }, "Effective uid, None when unknown.")
        .def_property_readonly("seq", [](const Event &v) { return v.e.seq; }, "Increases by one per event of the Monitor.")
        .def_property_readonly("time", [](const Event &v) { return static_cast<double>(v.e.time_ns) / 1e9; }, "When, seconds since the epoch.")
        .def_property_readonly("time_ns", [](const Event &v) { return v.e.time_ns; })
        .def_property_readonly("start_ticks", [](const Event &v) { return v.e.start_ticks; })
        .def_property_readonly("create_time", [](const Event &v) { return static_cast<double>(v.e.start_time_ns) / 1e9; })
        .def_property_readonly("exit_code", [](const Event &v) -> std::optional<int32_t> {
            if (v.e.type != PROCMON_EVENT_EXIT || (v.e.flags & PROCMON_EVENT_FLAG_NO_STATUS) || v.e.exit_code < 0) return std::nullopt;
            return v.e.exit_code;
        }, "exit: the status given to exit(); None if killed by a signal or unknown.")
        .def_property_readonly("exit_signal", [](const Event &v) -> std::optional<int32_t> {
            if (v.e.type != PROCMON_EVENT_EXIT || (v.e.flags & PROCMON_EVENT_FLAG_NO_STATUS)) return std::nullopt;
            return v.e.exit_signal;
        }, "exit: the signal that ended it, 0 if none; None if unknown.")
        .def_property_readonly("lifetime", [](const Event &v) -> std::optional<double> {
            if (v.e.type != PROCMON_EVENT_EXIT) return std::nullopt;
            return static_cast<double>(v.e.lifetime_ns) / 1e9;
        }, "exit: seconds it lived.")
        .def_property_readonly("lost", [](const Event &v) -> std::optional<uint64_t> {
            if (v.e.type != PROCMON_EVENT_LOST) return std::nullopt;
            return v.e.lost;
        }, "lost: how many events were lost (0 = unknown).")
        .def_property_readonly("name", [](const Event &v) { return fs_text(v.full_name.data(), v.full_name.size()); },
                               "The name users see (as Record.name; subscribe's name filter matches it).")
        .def_property_readonly("full_name", [](const Event &v) { return fs_text(v.full_name.data(), v.full_name.size()); })
        .def_property_readonly("comm", [](const Event &v) { return fs_text(v.name.data(), v.name.size()); },
                               "The kernel's name (at most 15 bytes).")
        .def_property_readonly("exe", [](const Event &v) { return fs_text(v.exe.data(), v.exe.size()); })
        .def_property_readonly("cmdline", [](const Event &v) { return argv_list(v.argv.data(), v.argv.size()); })
        .def_property_readonly("cmdline_bytes", [](const Event &v) {
            py::list out;
            for (std::size_t at = 0; at < v.argv.size();) {
                const std::size_t n = ::strnlen(v.argv.data() + at, v.argv.size() - at);
                out.append(py::bytes(v.argv.data() + at, n));
                at += n + 1;
            }
            return out;
        })
        .def_property_readonly("synthesized", [](const Event &v) { return (v.e.flags & PROCMON_EVENT_FLAG_SYNTHESIZED) != 0; },
                               "Recovered by a resync, not seen as it happened.")
        .def_property_readonly("partial", [](const Event &v) { return (v.e.flags & PROCMON_EVENT_FLAG_PARTIAL) != 0; },
                               "The process was gone before all of it could be read.")
        .def_property_readonly("thread", [](const Event &v) { return (v.e.flags & PROCMON_EVENT_FLAG_THREAD) != 0; })
        .def("__repr__", [](const Event &v) {
            if (v.e.type == PROCMON_EVENT_LOST) return "procmon.Event(type='lost', lost=" + std::to_string(v.e.lost) + ")";
            std::string r = std::string("procmon.Event(type='") + event_type_name(v.e.type) + "', pid=" + std::to_string(v.e.pid) +
                            ", name=" + py::repr(fs_text(v.full_name.data(), v.full_name.size())).cast<std::string>();
            if (v.e.type == PROCMON_EVENT_EXIT && !(v.e.flags & PROCMON_EVENT_FLAG_NO_STATUS))
                r += ", exit_code=" + std::to_string(v.e.exit_code) + ", exit_signal=" + std::to_string(v.e.exit_signal);
            return r + ")";
        });

    py::class_<Subscription, std::shared_ptr<Subscription>>(m, "Subscription", "A subscription (use procmon.subscribe).")
        .def("next", &Subscription::next, py::arg("max"), py::arg("timeout"))
        .def("dispatch", &Subscription::dispatch, py::arg("callback"), py::arg("max"))
        .def("close", &Subscription::close)
        .def("fileno", &Subscription::fileno)
        .def("stats", &Subscription::stats)
        .def_property_readonly("closed", &Subscription::is_closed)
        .def_property_readonly("_wake_fd", [](const Subscription &s) { return s.wake; },
                               "Readable once close() was called (for asyncio waiters); lives as long as this object.");

    py::class_<Journal, std::shared_ptr<Journal>>(m, "Journal", "A journal writer (use procmon.Journal).")
        .def(py::init(&open_journal), py::arg("dir"), py::arg("ctx"), py::arg("fsync"), py::arg("fsync_interval_ms"),
             py::arg("queue"), py::arg("segment_bytes"), py::arg("max_bytes"), py::arg("max_age_ms"), py::arg("events"),
             py::arg("name"), py::arg("cmdline"), py::arg("uid"), py::arg("descendants_of"), py::arg("undecidable"))
        .def("append", &Journal::append, py::arg("events"))
        .def("sync", &Journal::sync, py::arg("timeout"))
        .def("stats", &Journal::stats)
        .def("close", &Journal::close)
        .def_property_readonly("closed", [](Journal &jr) {
            std::shared_lock<std::shared_mutex> hold(jr.lock);
            return jr.j == nullptr;
        });
    py::class_<JournalReader, std::shared_ptr<JournalReader>>(m, "JournalReader", "A journal reader (use procmon.JournalReader).")
        .def(py::init(&open_reader), py::arg("dir"), py::arg("from_seq"), py::arg("from_time_ns"))
        .def("next", &JournalReader::next, py::arg("max"), py::arg("timeout"))
        .def("stats", &JournalReader::stats)
        .def("close", &JournalReader::close);
    m.attr("FSYNC") = py::dict(py::arg("always") = PROCMON_FSYNC_ALWAYS, py::arg("interval") = PROCMON_FSYNC_INTERVAL,
                               py::arg("never") = PROCMON_FSYNC_NEVER);
}
