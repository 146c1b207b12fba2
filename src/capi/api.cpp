// The extern "C" entry points: argument checks, then the C++ core. No
// exception crosses this boundary; every failure becomes a status code plus
// the thread's error detail.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <iterator>
#include <new>
#include <string>
#include <vector>

#include "capi/context.hpp"
#include "collect/collector.hpp"
#include "collect/local_record_source.hpp"
#include "core/arena.hpp"
#include "core/error.hpp"
#include "core/glob.hpp"
#include "journal/format.hpp"
#include "journal/reader.hpp"
#include "journal/writer.hpp"
#include "procmon.h"
#include "remote/remote_record_source.hpp"

using namespace procmon;

namespace {

template <class F>
int guarded(const char *fn, F &&body) noexcept {
    try {
        return body();
    } catch (const ArenaFull &e) {
        if (e.exhausted)
            return fail(PROCMON_ENOMEM, ENOMEM,
                        "%s: out of memory below the cap of %llu bytes: the allocator refused %llu more bytes "
                        "(%llu in use; the process's shared arena reserves %llu bytes of address space)",
                        fn, static_cast<unsigned long long>(e.cap), static_cast<unsigned long long>(e.requested),
                        static_cast<unsigned long long>(e.used), static_cast<unsigned long long>(e.reserved));
        return fail(PROCMON_ENOMEM, ENOMEM,
                    "%s: memory cap of %llu bytes reached (%llu in use, %llu more requested)", fn,
                    static_cast<unsigned long long>(e.cap), static_cast<unsigned long long>(e.used),
                    static_cast<unsigned long long>(e.requested));
    } catch (const std::bad_alloc &) {
        return fail(PROCMON_ENOMEM, ENOMEM, "%s: out of memory", fn);
    } catch (const std::exception &e) {
        return fail(PROCMON_EINTERNAL, 0, "%s: %s", fn, e.what());
    } catch (...) {
        return fail(PROCMON_EINTERNAL, 0, "%s: unknown exception", fn);
    }
}

// The input structs by version: how many bytes each version of a struct has.
// A caller built against an older header hands in (or asks to fill) only
// that many, so the library reads and writes exactly those and keeps its
// defaults for the rest. When a field is appended, add the new version's
// size here: the static_asserts fail until then.
template <class T>
struct Versions;
template <>
struct Versions<procmon_options> {
    static constexpr const char *what = "options";
    static constexpr unsigned latest = PROCMON_OPTIONS_VERSION;
    static constexpr size_t size[] = {0, offsetof(procmon_options, low_watermark_percent) + sizeof(uint32_t),
                                      offsetof(procmon_options, endpoint) + sizeof(void *)};
};
template <>
struct Versions<procmon_query> {
    static constexpr const char *what = "query";
    static constexpr unsigned latest = PROCMON_QUERY_VERSION;
    static constexpr size_t size[] = {0, offsetof(procmon_query, flags) + sizeof(uint32_t),
                                      offsetof(procmon_query, cmdline_glob) + sizeof(void *)};
};
template <>
struct Versions<procmon_subscribe_options> {
    static constexpr const char *what = "options";
    static constexpr unsigned latest = PROCMON_SUBSCRIBE_VERSION;
    static constexpr size_t size[] = {0, offsetof(procmon_subscribe_options, flags) + sizeof(uint32_t),
                                      offsetof(procmon_subscribe_options, cmdline_glob) + sizeof(void *),
                                      offsetof(procmon_subscribe_options, from_seq) + sizeof(uint64_t)};
};
template <>
struct Versions<procmon_journal_options> {
    static constexpr const char *what = "options";
    static constexpr unsigned latest = PROCMON_JOURNAL_VERSION;
    static constexpr size_t size[] = {0, offsetof(procmon_journal_options, filter) + sizeof(void *)};
};
template <>
struct Versions<procmon_journal_read_options> {
    static constexpr const char *what = "options";
    static constexpr unsigned latest = PROCMON_JOURNAL_READ_VERSION;
    static constexpr size_t size[] = {0, offsetof(procmon_journal_read_options, from_time_ns) + sizeof(uint64_t)};
};
template <class T>
constexpr bool latest_is_whole_struct() {
    using V = Versions<T>;
    return std::size(V::size) == V::latest + 1 && (V::size[V::latest] + alignof(T) - 1) / alignof(T) * alignof(T) == sizeof(T);
}
static_assert(latest_is_whole_struct<procmon_options>(), "procmon_options grew: add its new version to Versions");
static_assert(latest_is_whole_struct<procmon_query>(), "procmon_query grew: add its new version to Versions");
static_assert(latest_is_whole_struct<procmon_subscribe_options>(), "procmon_subscribe_options grew: add its new version to Versions");
static_assert(latest_is_whole_struct<procmon_journal_options>(), "procmon_journal_options grew: add its new version to Versions");
static_assert(latest_is_whole_struct<procmon_journal_read_options>(), "procmon_journal_read_options grew: add its new version to Versions");

static_assert(PROCMON_VERSION_NUMBER == PROCMON_VERSION_MAJOR * 10000 + PROCMON_VERSION_MINOR * 100 + PROCMON_VERSION_PATCH,
              "PROCMON_VERSION_NUMBER must follow the MAJOR/MINOR/PATCH macros");
static_assert(PROCMON_FIELDS_DEFAULT == (PROCMON_FIELD_BASIC | PROCMON_FIELD_CPU | PROCMON_FIELD_MEMORY | PROCMON_FIELD_SCHED |
                                         PROCMON_FIELD_IDS | PROCMON_FIELD_EXE | PROCMON_FIELD_ARGV));
static_assert(PROCMON_FIELDS_ALL == (PROCMON_FIELDS_DEFAULT | PROCMON_FIELD_CWD | PROCMON_FIELD_FDS | PROCMON_FIELD_IO |
                                     PROCMON_FIELD_CTXSW | PROCMON_FIELD_CGROUP | PROCMON_FIELD_SMAPS));
static_assert(PROCMON_EVENTS_ALL == (PROCMON_EVENTS_DEFAULT | PROCMON_EVENT_UID | PROCMON_EVENT_COMM | PROCMON_EVENT_LOST));

template <class T>
int check_version(unsigned version, const char *fn) {
    if (version == 0 || version > Versions<T>::latest)
        return fail(PROCMON_EVERSION, 0, "%s: %s version %u unknown (this library knows 1 to %u)", fn, Versions<T>::what,
                    version, Versions<T>::latest);
    return PROCMON_OK;
}

// Copies the caller's *in, as far as its version goes, over `out` (which
// holds the defaults); NULL keeps the defaults. `fn` names the call.
template <class T>
int versioned_input(const T *in, T &out, const char *fn) {
    if (in == nullptr) return PROCMON_OK;
    if (int rc = check_version<T>(in->version, fn); rc != PROCMON_OK) return rc;
    std::memcpy(static_cast<void *>(&out), in, Versions<T>::size[in->version]);
    return PROCMON_OK;
}

// The *_init functions: fill the caller's struct of `version` with defaults.
template <class T>
int init_struct(T *out, unsigned version, const T &defaults, const char *fn) {
    if (out == nullptr) return fail(PROCMON_EINVAL, 0, "%s: %s is NULL", fn, Versions<T>::what);
    if (int rc = check_version<T>(version, fn); rc != PROCMON_OK) return rc;
    T filled = defaults;
    filled.version = version;
    std::memcpy(static_cast<void *>(out), &filled, Versions<T>::size[version]);
    return PROCMON_OK;
}

// A name or command line filter (`what` names the field): NULL, or a
// pattern fnmatch(3) can use.
int check_glob(const char *glob, const char *what, const char *fn) {
    if (glob == nullptr) return PROCMON_OK;
    std::string why;
    if (!glob_is_valid(glob, why)) return fail(PROCMON_EINVAL, 0, "%s: %s '%s': %s", fn, what, glob, why.c_str());
    return PROCMON_OK;
}

// A uid filter: -1 (all) or a 32-bit uid.
int check_uid_filter(int64_t uid, const char *fn) {
    if (uid < -1 || uid > int64_t{UINT32_MAX})
        return fail(PROCMON_EINVAL, 0, "%s: uid %lld is neither -1 nor a valid uid", fn, static_cast<long long>(uid));
    return PROCMON_OK;
}

constexpr size_t kEventSizeMin = offsetof(procmon_event, flags);  // size and type

}  // namespace

extern "C" {

PROCMON_API unsigned int procmon_version(void) { return PROCMON_VERSION_NUMBER; }
PROCMON_API const char *procmon_version_string(void) { return PROCMON_VERSION_STRING; }
PROCMON_API const char *procmon_strerror(int code) { return status_text(code); }
PROCMON_API const procmon_error *procmon_error_last(void) { return last_error(); }

PROCMON_API int procmon_options_init(procmon_options *o, unsigned int version) {
    return init_struct(o, version, procmon_options PROCMON_OPTIONS_INIT, "procmon_options_init");
}

PROCMON_API int procmon_query_init(procmon_query *q, unsigned int version) {
    return init_struct(q, version, procmon_query PROCMON_QUERY_INIT, "procmon_query_init");
}

PROCMON_API int procmon_open(procmon_ctx **out, const procmon_options *opts) {
    if (out == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_open: out is NULL");
    *out = nullptr;
    procmon_options o = PROCMON_OPTIONS_INIT;
    if (int rc = versioned_input(opts, o, "procmon_open"); rc != PROCMON_OK)
        return rc;
    if (o.arena_cap_bytes == 0) o.arena_cap_bytes = PROCMON_DEFAULT_ARENA_CAP;
    if (o.arena_cap_bytes < PROCMON_MIN_ARENA_CAP || o.arena_cap_bytes > uint64_t{PROCMON_MAX_ARENA_CAP})
        return fail(PROCMON_EINVAL, 0, "procmon_open: arena_cap_bytes %llu is outside %d..%llu (0 = %d)",
                    static_cast<unsigned long long>(o.arena_cap_bytes), PROCMON_MIN_ARENA_CAP,
                    static_cast<unsigned long long>(PROCMON_MAX_ARENA_CAP), PROCMON_DEFAULT_ARENA_CAP);
    if (o.cache_policy != PROCMON_CACHE_STATIC && o.cache_policy != PROCMON_CACHE_NONE)
        return fail(PROCMON_EINVAL, 0, "procmon_open: cache_policy %u unknown", o.cache_policy);
    if (o.threads > PROCMON_MAX_THREADS)
        return fail(PROCMON_EINVAL, 0, "procmon_open: threads %u is above the maximum of %d", o.threads, PROCMON_MAX_THREADS);
    if (o.event_source > PROCMON_SOURCE_NETLINK)
        return fail(PROCMON_EINVAL, 0,
                    "procmon_open: event_source %u unknown (PROCMON_SOURCE_AUTO 0, POLLING 1 or NETLINK 2)",
                    o.event_source);
    if (o.poll_interval_ms == 0) o.poll_interval_ms = 1000;
    if (o.high_watermark_percent == 0) o.high_watermark_percent = 75;
    if (o.low_watermark_percent == 0) o.low_watermark_percent = 25;
    if (o.high_watermark_percent > 100 || o.low_watermark_percent >= o.high_watermark_percent)
        return fail(PROCMON_EINVAL, 0, "procmon_open: watermarks %u%%/%u%% must satisfy low < high <= 100",
                    o.low_watermark_percent, o.high_watermark_percent);

    return guarded("procmon_open", [&]() -> int {
        auto ctx = std::make_unique<procmon_ctx>();
        int rc = Arena::create(o.arena_cap_bytes, ctx->arena);
        if (rc != PROCMON_OK) return rc;
        // A remote context: the daemon's configuration decides what the
        // other options would (docs/api.md, "What 0.4 adds").
        if (const std::string endpoint = remote::chosen_endpoint(o.endpoint); !endpoint.empty()) {
            if (int rc2 = remote::Session::open(endpoint, "procmon_open", ctx->remote); rc2 != PROCMON_OK) return rc2;
            ctx->records = std::make_unique<remote::RemoteRecordSource>(ctx->arena, ctx->remote->connection());
            *out = ctx.release();
            return PROCMON_OK;
        }
        CollectorOptions co;
        co.argv_cap = o.argv_cap_bytes;
        co.cache_static = o.cache_policy == PROCMON_CACHE_STATIC;
        co.threads = o.threads;
        rc = LocalRecordSource::open(o.proc_root, ctx->arena, co, ctx->records);
        if (rc != PROCMON_OK) return rc;
        ctx->event_options.proc_root = o.proc_root ? o.proc_root : "";
        ctx->event_options.source = o.event_source;
        ctx->event_options.poll_interval_ms = o.poll_interval_ms;
        ctx->event_options.high_watermark = o.high_watermark_percent;
        ctx->event_options.low_watermark = o.low_watermark_percent;
        *out = ctx.release();
        return PROCMON_OK;
    });
}

PROCMON_API void procmon_close(procmon_ctx *ctx) {
    std::unique_ptr<procmon_ctx> owned(ctx);  // members release in reverse order; none throws
}

PROCMON_API int procmon_enumerate(procmon_snapshot **out, procmon_ctx *ctx, const procmon_query *query) {
    if (out == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_enumerate: out is NULL");
    *out = nullptr;
    if (ctx == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_enumerate: ctx is NULL");
    procmon_query q = PROCMON_QUERY_INIT;
    if (int rc = versioned_input(query, q, "procmon_enumerate"); rc != PROCMON_OK)
        return rc;
    if (q.fields & ~uint64_t{PROCMON_FIELDS_ALL})
        return fail(PROCMON_EINVAL, 0, "procmon_enumerate: fields has unknown bits 0x%llx",
                    static_cast<unsigned long long>(q.fields & ~uint64_t{PROCMON_FIELDS_ALL}));
    if (int rc = check_uid_filter(q.uid, "procmon_enumerate"); rc != PROCMON_OK) return rc;
    if (int rc = check_glob(q.name_glob, "name_glob", "procmon_enumerate"); rc != PROCMON_OK) return rc;
    if (int rc = check_glob(q.cmdline_glob, "cmdline_glob", "procmon_enumerate"); rc != PROCMON_OK) return rc;
    if (q.pids == nullptr && q.pid_count != 0)
        return fail(PROCMON_EINVAL, 0, "procmon_enumerate: pid_count is %zu but pids is NULL", q.pid_count);
    if (q.flags & ~PROCMON_QUERY_REFRESH)
        return fail(PROCMON_EINVAL, 0, "procmon_enumerate: flags has unknown bits 0x%x", q.flags & ~PROCMON_QUERY_REFRESH);
    for (size_t i = 0; q.pids != nullptr && i < q.pid_count; ++i)
        if (q.pids[i] <= 0)
            return fail(PROCMON_EINVAL, 0, "procmon_enumerate: pids[%zu] is %d, not a pid", i, q.pids[i]);

    return guarded("procmon_enumerate", [&]() -> int {
        Query cq;
        cq.fields = (q.fields == 0 ? PROCMON_FIELDS_DEFAULT : q.fields) | PROCMON_FIELD_BASIC;
        cq.name_glob = q.name_glob;
        cq.cmdline_glob = q.cmdline_glob;
        cq.uid = q.uid;
        cq.refresh = (q.flags & PROCMON_QUERY_REFRESH) != 0;
        platform::PidList pids{ArenaAllocator<int32_t>(ctx->arena.get())};
        if (q.pids != nullptr) {
            pids.assign(q.pids, q.pids + q.pid_count);
            std::sort(pids.begin(), pids.end());
            pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
            cq.pids = &pids;
        }
        SnapshotPtr snap;
        int rc = ctx->records->enumerate(cq, snap);
        if (rc != PROCMON_OK) return rc;
        ++ctx->enumerations;
        *out = snap.release();
        return PROCMON_OK;
    });
}

PROCMON_API size_t procmon_snapshot_count(const procmon_snapshot *s) { return s ? s->records.size() : 0; }

PROCMON_API const procmon_process *procmon_snapshot_at(const procmon_snapshot *s, size_t i) {
    if (s == nullptr || i >= s->records.size()) return nullptr;
    return &s->records[i];
}

PROCMON_API const procmon_process *procmon_snapshot_find(const procmon_snapshot *s, int32_t pid) {
    if (s == nullptr) return nullptr;
    auto it = std::lower_bound(s->records.begin(), s->records.end(), pid,
                               [](const procmon_process &p, int32_t v) { return p.pid < v; });
    return (it != s->records.end() && it->pid == pid) ? &*it : nullptr;
}

PROCMON_API void procmon_snapshot_free(procmon_snapshot *s) {
    if (s != nullptr) SnapshotDeleter{}(s);
}

PROCMON_API int procmon_stats_get(procmon_stats *out, procmon_ctx *ctx) {
    if (out == nullptr || ctx == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_stats_get: %s is NULL", out ? "ctx" : "out");
    if (out->size < offsetof(procmon_stats, arena_cap_bytes))
        return fail(PROCMON_EINVAL, 0, "procmon_stats_get: out->size %u is too small; set it to sizeof(procmon_stats)",
                    out->size);
    procmon_stats s{};
    s.size = static_cast<uint32_t>(std::min<size_t>(out->size, sizeof s));
    s.arena_cap_bytes = ctx->arena->cap();
    s.arena_used_bytes = ctx->arena->used();
    s.arena_peak_bytes = ctx->arena->peak();
    s.enumerations = ctx->enumerations;
    const RecordCounters cache = ctx->records->counters();
    s.cache_entries = cache.cache_entries;
    s.cache_hits = cache.cache_hits;
    s.cache_misses = cache.cache_misses;
    s.source_reason = "";
    s.source_name = "";
    s.allocator = Arena::allocator();
    if (ctx->engine) ctx->engine->stats(s);
    if (ctx->remote) {
        if (int rc = guarded("procmon_stats_get", [&] { return ctx->remote->stats(s); }); rc != PROCMON_OK) return rc;
    }
    std::memcpy(out, &s, s.size);
    return PROCMON_OK;
}

PROCMON_API int procmon_system_get(procmon_system *out, procmon_ctx *ctx) {
    if (out == nullptr || ctx == nullptr)
        return fail(PROCMON_EINVAL, 0, "procmon_system_get: %s is NULL", out ? "ctx" : "out");
    if (out->size < offsetof(procmon_system, mem_total_bytes))
        return fail(PROCMON_EINVAL, 0, "procmon_system_get: out->size %u is too small; set it to sizeof(procmon_system)",
                    out->size);
    return guarded("procmon_system_get", [&]() -> int {
        SystemFacts facts;
        if (int rc = ctx->records->system(facts); rc != PROCMON_OK) return rc;
        const platform::SystemInfo &info = facts.info;
        procmon_system s{};
        s.size = static_cast<uint32_t>(std::min<size_t>(out->size, sizeof s));
        s.cpus = info.cpus;
        s.mem_total_bytes = info.mem_total;
        s.mem_available_bytes = info.mem_available;
        s.mem_used_bytes = info.mem_total > info.mem_available ? info.mem_total - info.mem_available : 0;
        s.mem_free_bytes = info.mem_free;
        s.swap_total_bytes = info.swap_total;
        s.swap_free_bytes = info.swap_free;
        s.load1 = info.load[0], s.load5 = info.load[1], s.load15 = info.load[2];
        s.boot_time_ns = info.boot_time_ns;
        s.processes = facts.processes;
        std::memcpy(out, &s, s.size);
        return PROCMON_OK;
    });
}

PROCMON_API int procmon_signal(procmon_ctx *ctx, int32_t pid, uint64_t start_ticks, int sig) {
    if (ctx == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_signal: ctx is NULL");
    if (pid <= 0) return fail(PROCMON_EINVAL, 0, "procmon_signal: pid %d is not a process id", pid);
    if (sig < 0 || sig > 64) return fail(PROCMON_EINVAL, 0, "procmon_signal: signal %d is outside 0..64", sig);
    return guarded("procmon_signal", [&]() -> int { return ctx->records->signal(pid, start_ticks, sig); });
}

// ------------------------------------------------------------ events

PROCMON_API int procmon_subscribe_options_init(procmon_subscribe_options *o, unsigned int version) {
    return init_struct(o, version, procmon_subscribe_options PROCMON_SUBSCRIBE_OPTIONS_INIT,
                       "procmon_subscribe_options_init");
}

}  // extern "C"

int procmon::capi::subscribe(procmon_ctx *ctx, const procmon_subscribe_options *opts, const char *fn,
                             std::shared_ptr<events::Subscription> &out, std::shared_ptr<remote::Feed> &feed) {
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    if (int rc = versioned_input(opts, o, fn); rc != PROCMON_OK)
        return rc;
    if (o.events & ~uint32_t{PROCMON_EVENTS_ALL})
        return fail(PROCMON_EINVAL, 0, "%s: events has unknown bits 0x%x", fn, o.events & ~uint32_t{PROCMON_EVENTS_ALL});
    constexpr uint32_t kFlags = PROCMON_SUBSCRIBE_THREADS | PROCMON_SUBSCRIBE_UNDECIDABLE | PROCMON_SUBSCRIBE_HISTORY;
    if (o.flags & ~kFlags) return fail(PROCMON_EINVAL, 0, "%s: flags has unknown bits 0x%x", fn, o.flags & ~kFlags);
    const bool history = (o.flags & PROCMON_SUBSCRIBE_HISTORY) != 0;
    if (!ctx->remote && (o.from_seq != 0 || history))
        return fail(PROCMON_EUNSUPPORTED, 0,
                    "%s: %s needs a context served by procmond (options.endpoint or PROCMON_ENDPOINT): "
                    "a local context has no journal to read back from",
                    fn, o.from_seq != 0 ? "from_seq" : "PROCMON_SUBSCRIBE_HISTORY");
    if (ctx->remote && (o.flags & PROCMON_SUBSCRIBE_THREADS))
        return fail(PROCMON_EUNSUPPORTED, 0, "%s: PROCMON_SUBSCRIBE_THREADS is not served by procmond: "
                    "subscribe on a local context for thread events", fn);
    if (int rc = check_uid_filter(o.uid, fn); rc != PROCMON_OK) return rc;
    if (int rc = check_glob(o.name_glob, "name_glob", fn); rc != PROCMON_OK) return rc;
    if (int rc = check_glob(o.cmdline_glob, "cmdline_glob", fn); rc != PROCMON_OK) return rc;
    if (o.descendants_of < 0)
        return fail(PROCMON_EINVAL, 0, "%s: descendants_of %d is not a pid", fn, o.descendants_of);
    if (o.queue_capacity != 0 && (o.queue_capacity < PROCMON_QUEUE_MIN || o.queue_capacity > PROCMON_QUEUE_MAX))
        return fail(PROCMON_EINVAL, 0, "%s: queue_capacity %u is outside %d..%d (0 = %d)", fn, o.queue_capacity,
                    PROCMON_QUEUE_MIN, PROCMON_QUEUE_MAX, PROCMON_QUEUE_DEFAULT);

    return guarded(fn, [&]() -> int {
        events::Filter f;
        f.types = o.events == 0 ? PROCMON_EVENTS_DEFAULT : o.events;
        f.has_name = o.name_glob != nullptr;
        if (f.has_name) f.name_glob = o.name_glob;
        f.has_cmdline = o.cmdline_glob != nullptr;
        if (f.has_cmdline) f.cmdline_glob = o.cmdline_glob;
        f.uid = o.uid;
        f.descendants_of = o.descendants_of;
        f.threads = (o.flags & PROCMON_SUBSCRIBE_THREADS) != 0;
        // A program built against 0.1 (options version 1) was promised that
        // an unknown field never excludes an event: it keeps that rule.
        f.pass_undecidable = (o.flags & PROCMON_SUBSCRIBE_UNDECIDABLE) != 0 || o.version == 1;
        const uint32_t capacity = o.queue_capacity == 0 ? PROCMON_QUEUE_DEFAULT : o.queue_capacity;
        if (ctx->remote) {
            // The daemon filters; this side's queue takes every event it sends.
            events::Filter all;
            all.types = PROCMON_EVENTS_ALL;
            all.pass_undecidable = true;
            auto sub = std::make_shared<events::Subscription>(ctx->arena, std::move(all), capacity);
            if (!sub->ok()) return fail(PROCMON_EIO, errno, "%s: eventfd: %s", fn, std::strerror(errno));
            protocol::Subscribe request;
            request.events = f.types;
            request.flags = o.flags;
            request.uid = o.uid;
            request.descendants_of = o.descendants_of;
            request.queue_capacity = capacity;
            if (f.has_name) request.name_glob = f.name_glob;
            if (f.has_cmdline) request.cmdline_glob = f.cmdline_glob;
            request.from_seq = o.from_seq;
            // 0.1's rule (options version 1) is the daemon's to keep: it gets the flag.
            if (f.pass_undecidable) request.flags |= PROCMON_SUBSCRIBE_UNDECIDABLE;
            if (int rc = ctx->remote->subscribe(request, ctx->arena, sub, fn, feed); rc != PROCMON_OK) return rc;
            out = std::move(sub);
            return PROCMON_OK;
        }
        auto sub = std::make_shared<events::Subscription>(ctx->arena, std::move(f), capacity);
        if (!sub->ok()) return fail(PROCMON_EIO, errno, "%s: eventfd: %s", fn, std::strerror(errno));
        if (!ctx->engine) ctx->engine = std::make_shared<events::Engine>(ctx->arena, ctx->event_options);
        int rc = ctx->engine->add(sub);
        if (rc != PROCMON_OK) return rc;
        out = std::move(sub);
        return PROCMON_OK;
    });
}

// ECLOSED from a subscription, saying why when it was told (a remote one:
// the history ended, or the daemon went away and where to resume).
static int closed(events::Subscription &sub, const char *fn) {
    const std::string why = sub.close_reason();
    if (why.empty()) return fail(PROCMON_ECLOSED, 0, "%s: the subscription is closed", fn);
    return fail(PROCMON_ECLOSED, 0, "%s: the subscription is closed: %s", fn, why.c_str());
}

// procmon_*_wake: no lock, no allocation on success, so a signal handler
// may call them; errno is kept as the handler's caller had it.
template <class Wake>
int wake_keeping_errno(Wake &&wake) {
    const int saved = errno;
    wake();
    errno = saved;
    return PROCMON_OK;
}

extern "C" {

PROCMON_API int procmon_subscribe(procmon_subscription **out, procmon_ctx *ctx, const procmon_subscribe_options *opts) {
    if (out == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_subscribe: out is NULL");
    *out = nullptr;
    if (ctx == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_subscribe: ctx is NULL");
    std::shared_ptr<events::Subscription> sub;
    std::shared_ptr<remote::Feed> feed;
    if (int rc = capi::subscribe(ctx, opts, "procmon_subscribe", sub, feed); rc != PROCMON_OK) return rc;
    return guarded("procmon_subscribe", [&]() -> int {
        *out = new procmon_subscription{std::move(sub), ctx->engine, std::move(feed)};
        return PROCMON_OK;
    });
}

PROCMON_API int procmon_subscription_next(procmon_subscription *s, procmon_event *events, size_t event_size, size_t max,
                                          size_t *n_out, int timeout_ms) {
    constexpr const char *fn = "procmon_subscription_next";
    if (n_out != nullptr) *n_out = 0;
    if (s == nullptr || n_out == nullptr || (events == nullptr && max > 0))
        return fail(PROCMON_EINVAL, 0, "%s: %s is NULL", fn,
                    s == nullptr ? "subscription" : n_out == nullptr ? "n_out" : "events");
    if (event_size < kEventSizeMin && max > 0)
        return fail(PROCMON_EINVAL, 0, "%s: event_size %zu is below the minimum of %zu; pass sizeof(procmon_event)", fn,
                    event_size, kEventSizeMin);
    if (timeout_ms < -1)
        return fail(PROCMON_EINVAL, 0, "%s: timeout_ms %d is invalid (-1 waits forever, 0 not at all)", fn, timeout_ms);
    auto sub = s->sub;  // our own reference: unsubscribe may free `s` while we wait
    if (sub->dispatching())
        return fail(PROCMON_EBUSY, 0, "%s: called from inside a procmon_dispatch callback on the same subscription", fn);
    return guarded(fn, [&]() -> int {
        int rc = sub->pop(events, event_size, max, *n_out, timeout_ms, true);
        if (rc == PROCMON_ECLOSED) return closed(*sub, fn);
        if (rc == PROCMON_EINTR) return fail(rc, EINTR, "%s: woken by procmon_subscription_wake", fn);
        return rc;
    });
}

PROCMON_API int procmon_subscription_wait(procmon_subscription *s, int timeout_ms) {
    constexpr const char *fn = "procmon_subscription_wait";
    if (s == nullptr) return fail(PROCMON_EINVAL, 0, "%s: subscription is NULL", fn);
    if (timeout_ms < -1)
        return fail(PROCMON_EINVAL, 0, "%s: timeout_ms %d is invalid (-1 waits forever, 0 not at all)", fn, timeout_ms);
    auto sub = s->sub;  // our own reference: unsubscribe may free `s` while we wait
    return guarded(fn, [&]() -> int {
        switch (const int rc = sub->wait(timeout_ms)) {
        case PROCMON_OK: return rc;
        case PROCMON_ETIMEDOUT: return fail(rc, 0, "%s: no event within %d ms", fn, timeout_ms);
        case PROCMON_EINTR: return fail(rc, EINTR, "%s: interrupted by a signal or procmon_subscription_wake", fn);
        case PROCMON_ECLOSED: return closed(*sub, fn);
        default: return fail(rc, errno, "%s: poll: %s", fn, std::strerror(errno));
        }
    });
}

PROCMON_API int procmon_subscription_wake(procmon_subscription *s) {
    if (s == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_subscription_wake: subscription is NULL");
    return wake_keeping_errno([&] { s->sub->wake(); });
}

PROCMON_API int procmon_subscription_fd(const procmon_subscription *s) { return s ? static_cast<int>(s->sub->handle().native()) : -1; }

PROCMON_API int procmon_dispatch(procmon_subscription *s, procmon_event_cb cb, void *payload, size_t max, size_t *n_out) {
    constexpr const char *fn = "procmon_dispatch";
    if (n_out != nullptr) *n_out = 0;
    if (s == nullptr || cb == nullptr)
        return fail(PROCMON_EINVAL, 0, "%s: %s is NULL", fn, s == nullptr ? "subscription" : "callback");
    auto sub = s->sub;  // the callback may unsubscribe, which frees `s`
    if (!sub->begin_dispatch())
        return fail(PROCMON_EBUSY, 0, "%s: called from inside a procmon_dispatch callback on the same subscription", fn);
    struct EndDispatch {
        events::Subscription *sub;
        ~EndDispatch() { sub->end_dispatch(); }
    } end{sub.get()};
    return guarded(fn, [&]() -> int {
        std::vector<procmon_event> batch(std::min<size_t>(max, 4096));
        size_t n = 0;
        int rc = sub->pop(batch.data(), sizeof(procmon_event), batch.size(), n, 0);
        if (rc == PROCMON_ECLOSED) return closed(*sub, fn);
        for (size_t i = 0; i < n; ++i) {
            if (n_out != nullptr) *n_out = i + 1;
            const int stop = cb(&batch[i], payload);
            if (sub->closed())  // the callback unsubscribed (or the context closed): nothing more to hand out
                return fail(PROCMON_ECLOSED, 0, "%s: the subscription was closed by the callback at event %zu", fn, i);
            if (stop != 0) {
                sub->unpop(i + 1);
                return fail(PROCMON_EUSER, 0, "%s: the callback stopped at event %zu", fn, i);
            }
        }
        return PROCMON_OK;
    });
}

PROCMON_API int procmon_subscription_stats_get(procmon_subscription_stats *out, const procmon_subscription *s) {
    if (out == nullptr || s == nullptr)
        return fail(PROCMON_EINVAL, 0, "procmon_subscription_stats_get: %s is NULL", out ? "subscription" : "out");
    if (out->size < offsetof(procmon_subscription_stats, queue_depth))
        return fail(PROCMON_EINVAL, 0, "procmon_subscription_stats_get: out->size %u is too small", out->size);
    s->sub->stats(*out);
    return PROCMON_OK;
}

PROCMON_API void procmon_unsubscribe(procmon_subscription *s) {
    if (s == nullptr) return;
    std::unique_ptr<procmon_subscription> owned(s);
    if (owned->engine) owned->engine->remove(owned->sub.get());
    if (owned->feed) owned->feed->stop();  // wakes its thread and waits for it; the subscription is closed
}

// ------------------------------------------------------------ daemon

}  // extern "C"

// EUNSUPPORTED for a context this machine serves itself.
static int needs_daemon(const procmon_ctx *ctx, const char *fn) {
    if (ctx->remote) return PROCMON_OK;
    return fail(PROCMON_EUNSUPPORTED, 0,
                "%s: the context reads this machine itself; open it with an endpoint (options.endpoint or "
                "PROCMON_ENDPOINT) to ask procmond",
                fn);
}

extern "C" {

PROCMON_API int procmon_daemon_status_get(procmon_daemon_status *out, procmon_ctx *ctx) {
    constexpr const char *fn = "procmon_daemon_status_get";
    if (out == nullptr || ctx == nullptr) return fail(PROCMON_EINVAL, 0, "%s: %s is NULL", fn, out ? "ctx" : "out");
    if (out->size < offsetof(procmon_daemon_status, protocol_version))
        return fail(PROCMON_EINVAL, 0, "%s: out->size %u is too small; set it to sizeof(procmon_daemon_status)", fn,
                    out->size);
    if (int rc = needs_daemon(ctx, fn); rc != PROCMON_OK) return rc;
    return guarded(fn, [&]() -> int {
        procmon_daemon_status s{};
        if (int rc = ctx->remote->status(s); rc != PROCMON_OK) return rc;
        s.size = static_cast<uint32_t>(std::min<size_t>(out->size, sizeof s));
        std::memcpy(out, &s, s.size);
        return PROCMON_OK;
    });
}

PROCMON_API int procmon_daemon_clients(procmon_ctx *ctx, procmon_daemon_client *out, size_t client_size, size_t max,
                                       size_t *n_out) {
    constexpr const char *fn = "procmon_daemon_clients";
    if (n_out != nullptr) *n_out = 0;
    if (ctx == nullptr || n_out == nullptr || (out == nullptr && max > 0))
        return fail(PROCMON_EINVAL, 0, "%s: %s is NULL", fn, ctx == nullptr ? "ctx" : n_out == nullptr ? "n_out" : "out");
    constexpr size_t kClientSizeMin = offsetof(procmon_daemon_client, pid);  // size and kind
    if (client_size < kClientSizeMin && max > 0)
        return fail(PROCMON_EINVAL, 0, "%s: client_size %zu is below the minimum of %zu; pass sizeof(procmon_daemon_client)",
                    fn, client_size, kClientSizeMin);
    if (int rc = needs_daemon(ctx, fn); rc != PROCMON_OK) return rc;
    return guarded(fn, [&]() -> int {
        std::vector<procmon_daemon_client> clients;
        if (int rc = ctx->remote->clients(clients); rc != PROCMON_OK) return rc;
        const size_t written = std::min(client_size, sizeof(procmon_daemon_client));
        const size_t n = std::min(max, clients.size());
        for (size_t i = 0; i < n; ++i) {
            clients[i].size = static_cast<uint32_t>(written);
            std::memcpy(reinterpret_cast<char *>(out) + i * client_size, &clients[i], written);
        }
        *n_out = n;
        return PROCMON_OK;
    });
}

// ------------------------------------------------------------ journal

PROCMON_API int procmon_journal_options_init(procmon_journal_options *o, unsigned int version) {
    const procmon_journal_options defaults = PROCMON_JOURNAL_OPTIONS_INIT;
    return init_struct(o, version, defaults, "procmon_journal_options_init");
}

PROCMON_API int procmon_journal_open(procmon_journal **out, procmon_ctx *ctx, const char *dir,
                                     const procmon_journal_options *opts) {
    constexpr const char *fn = "procmon_journal_open";
    if (out == nullptr) return fail(PROCMON_EINVAL, 0, "%s: out is NULL", fn);
    *out = nullptr;
    if (dir == nullptr || *dir == '\0') return fail(PROCMON_EINVAL, 0, "%s: dir is %s", fn, dir ? "empty" : "NULL");
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    if (int rc = versioned_input(opts, o, fn); rc != PROCMON_OK) return rc;
    if (o.fsync > PROCMON_FSYNC_NEVER) return fail(PROCMON_EINVAL, 0, "%s: fsync %u is not a PROCMON_FSYNC_* value", fn, o.fsync);
    if (o.queue_capacity != 0 && (o.queue_capacity < PROCMON_QUEUE_MIN || o.queue_capacity > PROCMON_QUEUE_MAX))
        return fail(PROCMON_EINVAL, 0, "%s: queue_capacity %u is outside %d..%d (0 = %d)", fn, o.queue_capacity,
                    PROCMON_QUEUE_MIN, PROCMON_QUEUE_MAX, PROCMON_QUEUE_DEFAULT);
    const uint64_t segment = o.segment_bytes ? o.segment_bytes : PROCMON_JOURNAL_SEGMENT_DEFAULT;
    if (segment < PROCMON_JOURNAL_SEGMENT_MIN)
        return fail(PROCMON_EINVAL, 0, "%s: segment_bytes %llu is below %d", fn, static_cast<unsigned long long>(segment),
                    PROCMON_JOURNAL_SEGMENT_MIN);
    if (o.max_bytes != 0 && o.max_bytes / 2 < segment)
        return fail(PROCMON_EINVAL, 0, "%s: max_bytes %llu is less than two segments of %llu bytes", fn,
                    static_cast<unsigned long long>(o.max_bytes), static_cast<unsigned long long>(segment));
    if (o.max_age_ms > UINT64_MAX / 1000000u) return fail(PROCMON_EINVAL, 0, "%s: max_age_ms is too large", fn);
    if (ctx != nullptr && ctx->remote)
        return fail(PROCMON_EUNSUPPORTED, 0,
                    "%s: the context is served by procmond at %s: journal a remote context's events with procmond's "
                    "own journal; read it with a subscription from_seq",
                    fn, ctx->remote->endpoint().c_str());
    return guarded(fn, [&]() -> int {
        journal::WriterOptions wo;
        wo.fsync = o.fsync;
        wo.fsync_interval_ms = o.fsync_interval_ms ? o.fsync_interval_ms : 1000;
        wo.queue_capacity = o.queue_capacity ? o.queue_capacity : PROCMON_QUEUE_DEFAULT;
        wo.segment_bytes = segment;
        wo.max_bytes = o.max_bytes;
        wo.max_age_ns = o.max_age_ms * 1000000u;
        auto j = std::make_unique<procmon_journal>();
        if (ctx != nullptr) {
            procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
            if (o.filter != nullptr) {
                if (int rc = versioned_input(o.filter, so, fn); rc != PROCMON_OK) return rc;
            }
            if (so.queue_capacity == 0) so.queue_capacity = wo.queue_capacity;
            std::shared_ptr<remote::Feed> no_feed;  // a local context: its engine feeds the writer
            if (int rc = capi::subscribe(ctx, &so, fn, j->sub, no_feed); rc != PROCMON_OK) return rc;
            j->engine = ctx->engine;
        }
        if (int rc = journal::Writer::open(dir, std::move(wo), j->sub, j->writer); rc != PROCMON_OK) {
            if (j->engine) j->engine->remove(j->sub.get());
            return rc;
        }
        *out = j.release();
        return PROCMON_OK;
    });
}

PROCMON_API int procmon_journal_append(procmon_journal *j, const procmon_event *events, size_t event_size, size_t n) {
    constexpr const char *fn = "procmon_journal_append";
    if (j == nullptr || (events == nullptr && n > 0))
        return fail(PROCMON_EINVAL, 0, "%s: %s is NULL", fn, j == nullptr ? "journal" : "events");
    if (event_size < journal::kEventSizeV1 && n > 0)
        return fail(PROCMON_EINVAL, 0, "%s: event_size %zu is smaller than any procmon_event (%zu)", fn, event_size,
                    journal::kEventSizeV1);
    for (size_t i = 0; i < n; ++i) {
        const procmon_event ev = journal::event_at(events, event_size, i);
        const procmon_event *e = &ev;
        if (!journal::is_event_type(e->type))
            return fail(PROCMON_EINVAL, 0, "%s: event %zu has type 0x%x, not one PROCMON_EVENT_*", fn, i, e->type);
        if (e->argv == nullptr && e->argv_len > 0)
            return fail(PROCMON_EINVAL, 0, "%s: event %zu has argv_len %zu but no argv", fn, i, e->argv_len);
        // Never acknowledge what could not be read back: the format's limit.
        if (journal::payload_bound(*e) > journal::kMaxPayload)
            return fail(PROCMON_EINVAL, 0,
                        "%s: event %zu is too large for a journal record: its name, exe and argv take %zu bytes, "
                        "at most %zu (a record's payload is at most %u bytes)",
                        fn, i, journal::payload_bound(*e) - journal::kMaxFixedPayload,
                        journal::kMaxPayload - journal::kMaxFixedPayload, journal::kMaxPayload);
    }
    return guarded(fn, [&] { return j->writer->append(events, event_size, n); });
}

PROCMON_API int procmon_journal_sync(procmon_journal *j, int timeout_ms, uint64_t *durable_seq) {
    if (j == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_journal_sync: journal is NULL");
    if (timeout_ms < -1) return fail(PROCMON_EINVAL, 0, "procmon_journal_sync: timeout_ms %d is invalid", timeout_ms);
    return guarded("procmon_journal_sync", [&] { return j->writer->sync(timeout_ms, durable_seq); });
}

PROCMON_API int procmon_journal_stats_get(procmon_journal_stats *out, const procmon_journal *j) {
    if (out == nullptr || j == nullptr)
        return fail(PROCMON_EINVAL, 0, "procmon_journal_stats_get: %s is NULL", out ? "journal" : "out");
    if (out->size < offsetof(procmon_journal_stats, next_seq))
        return fail(PROCMON_EINVAL, 0, "procmon_journal_stats_get: out->size %u is too small", out->size);
    j->writer->stats(*out);
    return PROCMON_OK;
}

PROCMON_API int procmon_journal_close(procmon_journal *j) {
    if (j == nullptr) return PROCMON_OK;
    // The writer drains the subscription's queue as it stops; the
    // subscription goes after, so nothing queued before this call is lost.
    const int rc = j->writer->close();
    if (j->engine) j->engine->remove(j->sub.get());
    std::string message = rc != PROCMON_OK ? last_error()->message : "";
    delete j;
    return rc == PROCMON_OK ? rc : fail(rc, 0, "procmon_journal_close: %s", message.c_str());
}

PROCMON_API int procmon_journal_reader_open(procmon_journal_reader **out, const char *dir,
                                            const procmon_journal_read_options *opts) {
    constexpr const char *fn = "procmon_journal_reader_open";
    if (out == nullptr) return fail(PROCMON_EINVAL, 0, "%s: out is NULL", fn);
    *out = nullptr;
    if (dir == nullptr || *dir == '\0') return fail(PROCMON_EINVAL, 0, "%s: dir is %s", fn, dir ? "empty" : "NULL");
    procmon_journal_read_options o = PROCMON_JOURNAL_READ_OPTIONS_INIT;
    if (int rc = versioned_input(opts, o, fn); rc != PROCMON_OK) return rc;
    return guarded(fn, [&]() -> int {
        auto r = std::make_unique<procmon_journal_reader>();
        if (int rc = journal::Reader::open(dir, o.from_seq, o.from_time_ns, r->reader); rc != PROCMON_OK) return rc;
        *out = r.release();
        return PROCMON_OK;
    });
}

PROCMON_API int procmon_journal_reader_next(procmon_journal_reader *r, procmon_event *events, size_t event_size,
                                            size_t max, size_t *n_out, int timeout_ms) {
    constexpr const char *fn = "procmon_journal_reader_next";
    if (n_out != nullptr) *n_out = 0;
    if (r == nullptr || n_out == nullptr || (events == nullptr && max > 0))
        return fail(PROCMON_EINVAL, 0, "%s: %s is NULL", fn, r == nullptr ? "reader" : n_out == nullptr ? "n_out" : "events");
    if (event_size < kEventSizeMin && max > 0)
        return fail(PROCMON_EINVAL, 0, "%s: event_size %zu is below the minimum of %zu; pass sizeof(procmon_event)", fn,
                    event_size, kEventSizeMin);
    if (timeout_ms < -1) return fail(PROCMON_EINVAL, 0, "%s: timeout_ms %d is invalid", fn, timeout_ms);
    return guarded(fn, [&] { return r->reader->next(events, event_size, max, *n_out, timeout_ms); });
}

PROCMON_API int procmon_journal_reader_stats_get(procmon_journal_reader_stats *out, const procmon_journal_reader *r) {
    if (out == nullptr || r == nullptr)
        return fail(PROCMON_EINVAL, 0, "procmon_journal_reader_stats_get: %s is NULL", out ? "reader" : "out");
    if (out->size < offsetof(procmon_journal_reader_stats, records))
        return fail(PROCMON_EINVAL, 0, "procmon_journal_reader_stats_get: out->size %u is too small", out->size);
    r->reader->stats(*out);
    return PROCMON_OK;
}

PROCMON_API int procmon_journal_reader_fd(const procmon_journal_reader *r) {
    return r ? static_cast<int>(r->reader->changes().native()) : -1;
}

PROCMON_API int procmon_journal_reader_wait(procmon_journal_reader *r, int timeout_ms) {
    constexpr const char *fn = "procmon_journal_reader_wait";
    if (r == nullptr) return fail(PROCMON_EINVAL, 0, "%s: reader is NULL", fn);
    if (timeout_ms < -1) return fail(PROCMON_EINVAL, 0, "%s: timeout_ms %d is invalid", fn, timeout_ms);
    return guarded(fn, [&] { return r->reader->wait(timeout_ms); });
}

// No lock, no allocation on success: a signal handler may call it.
PROCMON_API int procmon_journal_reader_wake(procmon_journal_reader *r) {
    if (r == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_journal_reader_wake: reader is NULL");
    return wake_keeping_errno([&] { r->reader->wake(); });
}

PROCMON_API void procmon_journal_reader_close(procmon_journal_reader *r) { delete r; }

}  // extern "C"
