// Deterministic work counts of one enumeration over a fixture /proc tree,
// for the performance gate (bench/gate/run.py compares them with
// bench/baselines.json). Counts, not times: the same on a quiet or a busy
// machine.
//
//   perf_gate counts FIXTURE
//       prints one "name value" line per figure: system calls by kind,
//       arena blocks, arena bytes and process-heap allocations, per process
//       or per enumeration, for a cold context, a warm one (default
//       fields) and a warm one with every field.
//   perf_gate run FIXTURE VARIANT K
//       does VARIANT's enumeration K times and nothing else, for counting
//       instructions under valgrind (run.py subtracts K=1 from K=6).
//   perf_gate events FIXTURE
//       the event path, per event: connector messages parsed, tracked
//       (enriched from FIXTURE), filtered and queued to one subscriber,
//       which pops them; system calls, arena blocks, heap allocations.
//   perf_gate run FIXTURE events K
//       K cycles of fork, exec and exit (3 events each), for valgrind.
//
// One reader thread, so the work is the same from run to run. Links the
// static library and its internal headers: the system call table
// (platform/linux/sys_ops.h) and the context's arena.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "capi/context.hpp"
#include "connector_messages.hpp"
#include "events/subscription.hpp"
#include "events/tracker.hpp"
#include "platform/linux/connector.hpp"
#include "platform/linux/sys_ops.h"
#include "procmon.h"

extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);
}

namespace {

// Process-heap allocations: everything that does not come from the arena.
uint64_t heap_allocations = 0;

struct Syscalls {
    uint64_t openat, read, close, readlinkat, getdents64;
    uint64_t total() const { return openat + read + close + readlinkat + getdents64; }
} calls;

const pm_sys_ops *real_ops = nullptr;
pm_sys_ops counting_ops;

void count_syscalls() {
    real_ops = pm_sys_default();
    counting_ops = *real_ops;
    counting_ops.openat = [](int d, const char *p, int f) { ++calls.openat; return real_ops->openat(d, p, f); };
    counting_ops.read = [](int fd, void *b, size_t n) { ++calls.read; return real_ops->read(fd, b, n); };
    counting_ops.close = [](int fd) { ++calls.close; return real_ops->close(fd); };
    counting_ops.readlinkat = [](int d, const char *p, char *b, size_t n) {
        ++calls.readlinkat;
        return real_ops->readlinkat(d, p, b, n);
    };
    counting_ops.getdents64 = [](int fd, void *b, size_t n) { ++calls.getdents64; return real_ops->getdents64(fd, b, n); };
    pm_sys_set(&counting_ops);
}

procmon_ctx *open_fixture(const char *fixture) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.proc_root = fixture;
    o.threads = 1;
    procmon_ctx *ctx = nullptr;
    if (procmon_open(&ctx, &o) != PROCMON_OK) {
        std::fprintf(stderr, "perf_gate: %s\n", procmon_error_last()->message);
        std::exit(2);
    }
    return ctx;
}

procmon_snapshot *enumerate(procmon_ctx *ctx, uint64_t fields) {
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = fields;
    procmon_snapshot *s = nullptr;
    if (procmon_enumerate(&s, ctx, &q) != PROCMON_OK) {
        std::fprintf(stderr, "perf_gate: %s\n", procmon_error_last()->message);
        std::exit(2);
    }
    return s;
}

struct Variant {
    const char *name;
    bool warm;
    uint64_t fields;
};
const Variant kVariants[] = {
    {"cold", false, PROCMON_FIELDS_DEFAULT},
    {"warm", true, PROCMON_FIELDS_DEFAULT},
    // Every group the baseline was measured with: smaps (0.2) walks page
    // tables in the kernel, a cost of its own that work counts do not show.
    {"warm_all", true, PROCMON_FIELDS_ALL & ~uint64_t{PROCMON_FIELD_SMAPS}},
};

const Variant *variant_named(const char *name) {
    for (const Variant &v : kVariants)
        if (std::strcmp(v.name, name) == 0) return &v;
    std::fprintf(stderr, "perf_gate: unknown variant %s\n", name);
    std::exit(2);
}

// The counts of one enumeration of `v`: cold counts opening the context
// too, as a one-shot command pays it; warm follows one uncounted enumeration.
void measure(const char *fixture, const Variant &v) {
    procmon_ctx *ctx = v.warm ? open_fixture(fixture) : nullptr;
    if (v.warm) procmon_snapshot_free(enumerate(ctx, v.fields));
    const Syscalls before = calls;
    const uint64_t heap_before = heap_allocations;
    if (!v.warm) ctx = open_fixture(fixture);
    const uint64_t blocks_start = ctx->arena->allocations(), used_start = ctx->arena->used();
    procmon_snapshot *s = enumerate(ctx, v.fields);
    const double n = static_cast<double>(procmon_snapshot_count(s));
    const Syscalls d{calls.openat - before.openat, calls.read - before.read, calls.close - before.close,
                     calls.readlinkat - before.readlinkat, calls.getdents64 - before.getdents64};
    std::printf("%s.processes %.0f\n", v.name, n);
    std::printf("%s.syscalls_per_process %.3f\n", v.name, static_cast<double>(d.total()) / n);
    std::printf("%s.openat_per_process %.3f\n", v.name, static_cast<double>(d.openat) / n);
    std::printf("%s.read_per_process %.3f\n", v.name, static_cast<double>(d.read) / n);
    std::printf("%s.readlinkat_per_process %.3f\n", v.name, static_cast<double>(d.readlinkat) / n);
    std::printf("%s.arena_blocks_per_enumeration %llu\n", v.name,
                static_cast<unsigned long long>(ctx->arena->allocations() - blocks_start));
    std::printf("%s.arena_bytes_per_process %.1f\n", v.name, static_cast<double>(ctx->arena->used() - used_start) / n);
    std::printf("%s.heap_allocations_per_enumeration %llu\n", v.name,
                static_cast<unsigned long long>(heap_allocations - heap_before));
    procmon_snapshot_free(s);
    procmon_close(ctx);
}

void run(const char *fixture, const Variant &v, int k) {
    procmon_ctx *ctx = open_fixture(fixture);
    if (v.warm) procmon_snapshot_free(enumerate(ctx, v.fields));
    for (int i = 0; i < k; ++i) {
        if (!v.warm) {
            procmon_close(ctx);
            ctx = open_fixture(fixture);
        }
        procmon_snapshot_free(enumerate(ctx, v.fields));
    }
    procmon_close(ctx);
}

// The event path without the kernel or the collector thread: one cycle is a
// fork, an exec and an exit of a fixture process (its parent known), parsed
// from connector messages, tracked (the exec reads the new image from the
// fixture), filtered and queued to one subscription, then popped.
struct EventPath {
    std::shared_ptr<procmon::Arena> arena;
    std::unique_ptr<procmon::events::Tracker> tracker;
    std::shared_ptr<procmon::events::Subscription> sub;
    std::vector<std::vector<char>> wires;  // built before measuring: the harness's work, not the library's
    procmon::platform::KernelEvents parsed;
    procmon::events::Batch batch;
    procmon_event out[8];
    uint64_t delivered = 0;

    EventPath(const char *fixture, int cycles)
        : arena(make_arena()), parsed(procmon::ArenaAllocator<procmon::platform::KernelEvent>(arena.get())),
          batch(procmon::ArenaAllocator<procmon::events::Pending>(arena.get())) {
        if (procmon::events::Tracker::open(arena, fixture, tracker) != PROCMON_OK) std::exit(2);
        tracker->baseline();
        sub = std::make_shared<procmon::events::Subscription>(arena, procmon::events::Filter{}, 64);
        using namespace procmon::testing;
        for (int i = 0; i < cycles; ++i) {
            const int pid = 1000 + 10 + i % 990, parent = 1000 + (i % 990 + 10) / 10;
            std::vector<char> wire;
            for (const proc_event &ev : {fork_event(parent, pid), exec_event(pid), exit_event(pid, 3 << 8)}) {
                std::vector<char> m = message(ev);
                wire.insert(wire.end(), m.begin(), m.end());
            }
            wires.push_back(std::move(wire));
        }
    }
    static std::shared_ptr<procmon::Arena> make_arena() {
        std::shared_ptr<procmon::Arena> a;
        if (procmon::Arena::create(64 << 20, a) != PROCMON_OK) std::exit(2);
        return a;
    }
    void cycle(int i) {
        const std::vector<char> &wire = wires[static_cast<std::size_t>(i)];
        parsed.clear();
        procmon::platform::parse_connector_messages(wire.data(), wire.size(), parsed);
        for (const auto &k : parsed) {
            tracker->handle(k, false, batch);
            for (auto &p : batch) {  // as Engine::deliver: number, then filter and queue
                p.e.size = sizeof p.e;
                sub->offer(p.e, p.strings, [&](int32_t ppid, int32_t a) { return tracker->descends(ppid, a); });
            }
            batch.clear();
        }
        std::size_t n = 0;
        sub->pop(out, sizeof out[0], 8, n, 0);
        delivered += n;
    }
};

constexpr int kCycles = 300;  // 900 events

void measure_events(const char *fixture) {
    EventPath path(fixture, kCycles + 1);
    path.cycle(0);  // the first pop and buffers: not per event
    const Syscalls before = calls;
    const uint64_t heap_before = heap_allocations, blocks_before = path.arena->allocations();
    const uint64_t delivered_before = path.delivered;
    for (int i = 1; i <= kCycles; ++i) path.cycle(i);
    const double n = static_cast<double>(path.delivered - delivered_before);
    if (n != 3.0 * kCycles) {
        std::fprintf(stderr, "perf_gate: %0.f of %d events delivered\n", n, 3 * kCycles);
        std::exit(2);
    }
    std::printf("events.syscalls_per_event %.3f\n", static_cast<double>(calls.total() - before.total()) / n);
    std::printf("events.arena_blocks_per_event %.3f\n", static_cast<double>(path.arena->allocations() - blocks_before) / n);
    std::printf("events.heap_allocations_per_event %.3f\n", static_cast<double>(heap_allocations - heap_before) / n);
}

}  // namespace

// Counting wrappers over glibc's allocator (this program only).
extern "C" void *malloc(size_t n) {
    ++heap_allocations;
    return __libc_malloc(n);
}
extern "C" void *calloc(size_t n, size_t m) {
    ++heap_allocations;
    return __libc_calloc(n, m);
}
extern "C" void *realloc(void *p, size_t n) {
    ++heap_allocations;
    return __libc_realloc(p, n);
}
extern "C" void free(void *p) { __libc_free(p); }

int main(int argc, char **argv) {
    if (argc == 3 && std::strcmp(argv[1], "counts") == 0) {
        count_syscalls();
        procmon_close(open_fixture(argv[2]));  // once-per-process set-up (loading mimalloc) is not per enumeration
        for (const Variant &v : kVariants) measure(argv[2], v);
        return 0;
    }
    if (argc == 3 && std::strcmp(argv[1], "events") == 0) {
        count_syscalls();
        measure_events(argv[2]);
        return 0;
    }
    if (argc == 5 && std::strcmp(argv[1], "run") == 0 && std::strcmp(argv[3], "events") == 0) {
        const int k = std::atoi(argv[4]);
        EventPath path(argv[2], 1000);  // the same harness work whatever K, so it cancels out
        for (int i = 0; i < k && i < 1000; ++i) path.cycle(i);
        return 0;
    }
    if (argc == 5 && std::strcmp(argv[1], "run") == 0) {
        run(argv[2], *variant_named(argv[3]), std::atoi(argv[4]));
        return 0;
    }
    std::fprintf(stderr, "usage: perf_gate counts|events FIXTURE | perf_gate run FIXTURE cold|warm|warm_all|events K\n");
    return 2;
}
