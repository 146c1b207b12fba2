// The extern "C" entry points: argument checks, then the C++ core. No
// exception crosses this boundary; every failure becomes a status code plus
// the thread's error detail.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <thread>

#include "collect/collector.hpp"
#include "core/arena.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "procmon.h"

using namespace procmon;

namespace {

template <class F>
int guarded(const char *fn, F &&body) noexcept {
    try {
        return body();
    } catch (const ArenaFull &e) {
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

// Input structs carry a version: copy *in (or keep *out's defaults when in is
// NULL) after checking it. `fn` and `what` name the call and the struct.
template <class T>
int versioned_input(const T *in, unsigned known, T &out, const char *fn, const char *what) {
    if (in == nullptr) return PROCMON_OK;
    if (in->version != known)
        return fail(PROCMON_EVERSION, 0, "%s: %s version %u unknown (this library knows %u)", fn, what, in->version,
                    known);
    out = *in;
    return PROCMON_OK;
}

// The *_init functions: fill *out with `defaults` for a known version.
template <class T>
int init_struct(T *out, unsigned version, unsigned known, const T &defaults, const char *fn, const char *what) {
    if (out == nullptr) return fail(PROCMON_EINVAL, 0, "%s: %s is NULL", fn, what);
    if (version != known)
        return fail(PROCMON_EVERSION, 0, "%s: version %u unknown (this library knows %u)", fn, version, known);
    *out = defaults;
    return PROCMON_OK;
}

constexpr uint64_t kMinArenaCap = uint64_t{1} << 20;
constexpr unsigned kMaxThreads = 64;

}  // namespace

extern "C" {

PROCMON_API unsigned int procmon_version(void) { return PROCMON_VERSION_NUMBER; }
PROCMON_API const char *procmon_version_string(void) { return PROCMON_VERSION_STRING; }
PROCMON_API const char *procmon_strerror(int code) { return status_text(code); }
PROCMON_API const procmon_error *procmon_error_last(void) { return last_error(); }

PROCMON_API int procmon_options_init(procmon_options *o, unsigned int version) {
    return init_struct(o, version, PROCMON_OPTIONS_VERSION, procmon_options PROCMON_OPTIONS_INIT,
                       "procmon_options_init", "options");
}

PROCMON_API int procmon_query_init(procmon_query *q, unsigned int version) {
    return init_struct(q, version, PROCMON_QUERY_VERSION, procmon_query PROCMON_QUERY_INIT, "procmon_query_init",
                       "query");
}

PROCMON_API int procmon_open(procmon_ctx **out, const procmon_options *opts) {
    if (out == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_open: out is NULL");
    *out = nullptr;
    procmon_options o = PROCMON_OPTIONS_INIT;
    if (int rc = versioned_input(opts, PROCMON_OPTIONS_VERSION, o, "procmon_open", "options"); rc != PROCMON_OK)
        return rc;
    if (o.arena_cap_bytes == 0) o.arena_cap_bytes = PROCMON_DEFAULT_ARENA_CAP;
    if (o.arena_cap_bytes < kMinArenaCap)
        return fail(PROCMON_EINVAL, 0, "procmon_open: arena_cap_bytes %llu is below the minimum of %llu",
                    static_cast<unsigned long long>(o.arena_cap_bytes), static_cast<unsigned long long>(kMinArenaCap));
    if (o.cache_policy != PROCMON_CACHE_STATIC && o.cache_policy != PROCMON_CACHE_NONE)
        return fail(PROCMON_EINVAL, 0, "procmon_open: cache_policy %u unknown", o.cache_policy);
    if (o.threads > kMaxThreads)
        return fail(PROCMON_EINVAL, 0, "procmon_open: threads %u is above the maximum of %u", o.threads, kMaxThreads);

    return guarded("procmon_open", [&]() -> int {
        auto ctx = std::make_unique<procmon_ctx>();
        // Room for the reader threads and the caller's thread
        const unsigned threads = (o.threads != 0 ? o.threads : std::max(1u, std::min(4u, std::thread::hardware_concurrency()))) + 1;
        int rc = Arena::create(o.arena_cap_bytes, threads, ctx->arena);
        if (rc != PROCMON_OK) return rc;
        rc = platform::ProcSource::open(o.proc_root, ctx->arena.get(), ctx->source);
        if (rc != PROCMON_OK) return rc;
        CollectorOptions co;
        co.argv_cap = o.argv_cap_bytes;
        co.cache_static = o.cache_policy == PROCMON_CACHE_STATIC;
        co.threads = o.threads;
        ctx->collector = std::make_unique<Collector>(ctx->arena, ctx->source.get(), co);
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
    if (int rc = versioned_input(query, PROCMON_QUERY_VERSION, q, "procmon_enumerate", "query"); rc != PROCMON_OK)
        return rc;
    if (q.fields & ~uint64_t{PROCMON_FIELDS_ALL})
        return fail(PROCMON_EINVAL, 0, "procmon_enumerate: fields has unknown bits 0x%llx",
                    static_cast<unsigned long long>(q.fields & ~uint64_t{PROCMON_FIELDS_ALL}));
    if (q.uid < -1 || q.uid > int64_t{UINT32_MAX})
        return fail(PROCMON_EINVAL, 0, "procmon_enumerate: uid %lld is neither -1 nor a valid uid",
                    static_cast<long long>(q.uid));
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
        int rc = ctx->collector->enumerate(cq, snap);
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
    s.cache_entries = ctx->collector->cache_size();
    s.cache_hits = ctx->collector->counters().cache_hits;
    s.cache_misses = ctx->collector->counters().cache_misses;
    std::memcpy(out, &s, s.size);
    return PROCMON_OK;
}

}  // extern "C"
