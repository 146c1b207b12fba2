// The C ABI's contract: argument checks, versions, the error slot, the
// status table, the memory cap, and object lifetimes.
#include <criterion/criterion.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "children.hpp"
#include "procmon_raii.hpp"

Test(api, version_matches_header) {
    cr_expect_eq(procmon_version(), static_cast<unsigned>(PROCMON_VERSION_NUMBER));
    cr_expect_str_eq(procmon_version_string(), PROCMON_VERSION_STRING);
}

Test(api, strerror_covers_every_code) {
#define CHECK_TEXT(name, value, text) cr_expect_str_eq(procmon_strerror(value), text);
    PROCMON_STATUS_MAP(CHECK_TEXT)
#undef CHECK_TEXT
    cr_expect_str_eq(procmon_strerror(-999), "unknown status code");
    cr_expect_str_eq(procmon_strerror(7), "unknown status code");
}

Test(api, error_last_is_never_null_and_thread_local) {
    cr_assert_not_null(procmon_error_last());
    cr_assert_not_null(procmon_error_last()->message);
    cr_expect_eq(procmon_open(nullptr, nullptr), PROCMON_EINVAL);
    cr_expect_eq(procmon_error_last()->code, PROCMON_EINVAL);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "out is NULL"), nullptr, "%s", procmon_error_last()->message);
    int other_code = 12345;
    std::thread([&] { other_code = procmon_error_last()->code; }).join();
    cr_expect_eq(other_code, PROCMON_OK, "another thread saw this thread's error");
    // a success does not clear it: it explains, it never detects
    Ctx c;
    cr_expect_eq(procmon_error_last()->code, PROCMON_EINVAL);
}

Test(api, null_and_nonsense_arguments_are_einval) {
    Ctx c;
    procmon_snapshot *s = reinterpret_cast<procmon_snapshot *>(0x1);
    cr_expect_eq(procmon_enumerate(nullptr, c.ctx, nullptr), PROCMON_EINVAL);
    cr_expect_eq(procmon_enumerate(&s, nullptr, nullptr), PROCMON_EINVAL);
    cr_expect_null(s, "out is cleared on failure");

    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = uint64_t{1} << 40;
    cr_expect_eq(procmon_enumerate(&s, c.ctx, &q), PROCMON_EINVAL);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "unknown bits"), nullptr);
    q = PROCMON_QUERY_INIT;
    q.uid = -2;
    cr_expect_eq(procmon_enumerate(&s, c.ctx, &q), PROCMON_EINVAL);
    q = PROCMON_QUERY_INIT;
    q.pid_count = 3;
    cr_expect_eq(procmon_enumerate(&s, c.ctx, &q), PROCMON_EINVAL);
    int32_t bad[] = {1, -5};
    q.pids = bad;
    q.pid_count = 2;
    cr_expect_eq(procmon_enumerate(&s, c.ctx, &q), PROCMON_EINVAL);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "pids[1]"), nullptr, "%s", procmon_error_last()->message);
    q = PROCMON_QUERY_INIT;
    q.flags = 0x80;
    cr_expect_eq(procmon_enumerate(&s, c.ctx, &q), PROCMON_EINVAL);

    procmon_options o = PROCMON_OPTIONS_INIT;
    o.arena_cap_bytes = 1000;
    procmon_ctx *ctx = nullptr;
    cr_expect_eq(procmon_open(&ctx, &o), PROCMON_EINVAL);
    o = procmon_options PROCMON_OPTIONS_INIT;
    o.cache_policy = 9;
    cr_expect_eq(procmon_open(&ctx, &o), PROCMON_EINVAL);
    o = procmon_options PROCMON_OPTIONS_INIT;
    o.threads = 1000;
    cr_expect_eq(procmon_open(&ctx, &o), PROCMON_EINVAL);
    cr_expect_null(ctx);

    procmon_stats st{};
    cr_expect_eq(procmon_stats_get(&st, c.ctx), PROCMON_EINVAL, "size 0 is refused");
    cr_expect_eq(procmon_stats_get(nullptr, c.ctx), PROCMON_EINVAL);

    // NULL is fine for every free/close and getter
    procmon_snapshot_free(nullptr);
    procmon_close(nullptr);
    cr_expect_eq(procmon_snapshot_count(nullptr), 0u);
    cr_expect_null(procmon_snapshot_at(nullptr, 0));
    cr_expect_null(procmon_snapshot_find(nullptr, 1));
}

Test(api, unknown_struct_versions_are_eversion) {
    procmon_options o;
    cr_expect_eq(procmon_options_init(&o, 99), PROCMON_EVERSION);
    cr_expect_eq(procmon_options_init(&o, PROCMON_OPTIONS_VERSION), PROCMON_OK);
    cr_expect_eq(o.arena_cap_bytes, 0u);
    cr_expect_null(o.proc_root);
    o.version = PROCMON_OPTIONS_VERSION + 1;
    procmon_ctx *ctx = nullptr;
    cr_expect_eq(procmon_open(&ctx, &o), PROCMON_EVERSION);

    procmon_query q;
    cr_expect_eq(procmon_query_init(&q, 0), PROCMON_EVERSION);
    cr_expect_eq(procmon_query_init(&q, PROCMON_QUERY_VERSION), PROCMON_OK);
    cr_expect_eq(q.uid, -1);
    Ctx c;
    q.version = 7;
    procmon_snapshot *s = nullptr;
    cr_expect_eq(procmon_enumerate(&s, c.ctx, &q), PROCMON_EVERSION);
}

Test(api, bad_proc_root_fails_open_with_its_name) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.proc_root = "/nonexistent/proc";
    procmon_ctx *ctx = nullptr;
    cr_expect_eq(procmon_open(&ctx, &o), PROCMON_ENOENT);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "/nonexistent/proc"), nullptr);
    cr_expect_eq(procmon_error_last()->sys_errno, ENOENT);
}

Test(api, snapshot_outlives_its_context) {
    procmon_ctx *ctx = nullptr;
    cr_assert_eq(procmon_open(&ctx, nullptr), PROCMON_OK);
    procmon_snapshot *s = nullptr;
    cr_assert_eq(procmon_enumerate(&s, ctx, nullptr), PROCMON_OK);
    procmon_close(ctx);
    const procmon_process *p = procmon_snapshot_find(s, getpid());
    cr_assert_not_null(p);
    cr_expect_gt(std::strlen(p->name), 0u);
    procmon_snapshot_free(s);
}

Test(api, snapshot_freed_on_another_thread) {
    Ctx c;
    procmon_snapshot *s = nullptr;
    cr_assert_eq(procmon_enumerate(&s, c.ctx, nullptr), PROCMON_OK);
    std::thread([s] { procmon_snapshot_free(s); }).join();
    // and the context is used from another thread afterwards
    int rc = -1;
    std::thread([&] {
        Snap again(c.ctx);
        rc = again.rc;
    }).join();
    cr_expect_eq(rc, PROCMON_OK);
}

Test(api, many_contexts_open_and_close) {
    // mimalloc has at most 64 arenas per process: closed contexts must give
    // theirs back for reuse.
    for (int i = 0; i < 200; ++i) {
        Ctx c;
        cr_assert_eq(c.rc, PROCMON_OK, "open #%d: %s", i, procmon_error_last()->message);
        Snap s(c.ctx);
        cr_assert_eq(s.rc, PROCMON_OK);
    }
}

// PROCMON_MAX_CONTEXTS open at once work; one more is ENOMEM with a reason.
Test(api, max_contexts_open_at_once_then_enomem) {
    std::vector<procmon_ctx *> open(PROCMON_MAX_CONTEXTS, nullptr);
    for (int i = 0; i < PROCMON_MAX_CONTEXTS; ++i)
        cr_assert_eq(procmon_open(&open[static_cast<std::size_t>(i)], nullptr), PROCMON_OK, "open #%d: %s", i,
                     procmon_error_last()->message);
    procmon_ctx *extra = nullptr;
    cr_expect_eq(procmon_open(&extra, nullptr), PROCMON_ENOMEM);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "PROCMON_MAX_CONTEXTS"), nullptr, "%s", procmon_error_last()->message);
    procmon_close(open.back());
    cr_expect_eq(procmon_open(&open.back(), nullptr), PROCMON_OK, "a closed context's arena is reused");
    for (procmon_ctx *c : open) procmon_close(c);
}

// Closing contexts gives their memory back: 64 small ones opened and closed
// leave room for a default one and 64 again, and caps that grow on every
// open never run out (mimalloc allows 64 arenas per process; 0.1 reserved
// one per context and reused it only when large enough).
Test(api, closed_contexts_give_their_memory_back) {
    std::vector<procmon_ctx *> open(PROCMON_MAX_CONTEXTS, nullptr);
    procmon_options small = PROCMON_OPTIONS_INIT;
    small.arena_cap_bytes = PROCMON_MIN_ARENA_CAP;
    for (int round = 0; round < 2; ++round) {
        for (procmon_ctx *&c : open) cr_assert_eq(procmon_open(&c, &small), PROCMON_OK, "%s", procmon_error_last()->message);
        for (procmon_ctx *c : open) procmon_close(c);
        Ctx big;
        cr_assert_eq(big.rc, PROCMON_OK, "after %d rounds: %s", round + 1, procmon_error_last()->message);
    }
    procmon_options growing = PROCMON_OPTIONS_INIT;
    for (int i = 1; i <= 100; ++i) {
        growing.arena_cap_bytes = uint64_t{PROCMON_MIN_ARENA_CAP} * 7 * static_cast<uint64_t>(i * i);
        Ctx c(&growing);
        cr_assert_eq(c.rc, PROCMON_OK, "open #%d, cap %llu: %s", i,
                     static_cast<unsigned long long>(growing.arena_cap_bytes), procmon_error_last()->message);
    }
}

Test(api, arena_caps_are_checked) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    for (uint64_t bad : {uint64_t{UINT64_MAX}, uint64_t{PROCMON_MAX_ARENA_CAP} + 1, uint64_t{1} << 46,
                         uint64_t{PROCMON_MIN_ARENA_CAP} - 1}) {
        o.arena_cap_bytes = bad;
        procmon_ctx *ctx = nullptr;
        cr_expect_eq(procmon_open(&ctx, &o), PROCMON_EINVAL, "cap %llu", static_cast<unsigned long long>(bad));
        cr_expect_null(ctx);
        cr_expect_neq(std::strstr(procmon_error_last()->message, "arena_cap_bytes"), nullptr);
    }
    for (uint64_t good : {uint64_t{PROCMON_MIN_ARENA_CAP}, uint64_t{PROCMON_MAX_ARENA_CAP}}) {
        o.arena_cap_bytes = good;
        Ctx c(&o);
        cr_expect_eq(c.rc, PROCMON_OK, "cap %llu: %s", static_cast<unsigned long long>(good), procmon_error_last()->message);
    }
}

// One context used by many threads in turn (a shared Monitor, a host's
// thread pool): every thread gets its snapshot within the cap.
Test(api, one_context_serves_any_number_of_threads) {
    Ctx c;
    for (int i = 0; i < 24; ++i) {
        int rc = PROCMON_EINTERNAL;
        std::string err;
        std::thread([&] {
            procmon_snapshot *s = nullptr;
            rc = procmon_enumerate(&s, c.ctx, nullptr);
            if (rc != PROCMON_OK) err = procmon_error_last()->message;
            procmon_snapshot_free(s);
        }).join();
        cr_assert_eq(rc, PROCMON_OK, "thread %d: %s", i, err.c_str());
    }
}

// A malformed glob is an error with a message, never "no process matches";
// valid but unusual patterns still work.
Test(api, name_globs_are_checked) {
    Ctx c;
    struct {
        const char *glob, *why;
    } bad[] = {
        {"[unclosed", "'[' at offset 0 has no closing ']'"},
        {"ab[!x", "'[' at offset 2 has no closing ']'"},
        {"x[[:alpha:]", "'[' at offset 1 has no closing ']'"},
        {"[[:nope:]]", "unknown character class '[:nope:]' at offset 1"},
        {"[[:alpha]", "'[:' at offset 1 has no closing ':]'"},
        {"trailing\\", "a trailing '\\' at offset 8 escapes nothing"},
    };
    for (const auto &b : bad) {
        procmon_query q = PROCMON_QUERY_INIT;
        q.name_glob = b.glob;
        procmon_snapshot *s = nullptr;
        cr_expect_eq(procmon_enumerate(&s, c.ctx, &q), PROCMON_EINVAL, "%s", b.glob);
        std::string want = std::string("procmon_enumerate: name_glob '") + b.glob + "': " + b.why;
        cr_expect_str_eq(procmon_error_last()->message, want.c_str());
    }
    for (const char *good : {"*", "[]a]*", "[!]]*", "[[:alpha:]]*", "\\[x", "[a-z]?", "a[\\]]b", "[^0-9]*"}) {
        procmon_query q = PROCMON_QUERY_INIT;
        q.name_glob = good;
        Snap s(c.ctx, &q);
        cr_expect_eq(s.rc, PROCMON_OK, "%s: %s", good, procmon_error_last()->message);
    }
    procmon_query q = PROCMON_QUERY_INIT;
    q.name_glob = "[[:alpha:]]*";
    Snap s(c.ctx, &q);
    cr_expect_gt(s.count(), 0u, "a class pattern matches processes");
}

// The plain constants agree with the groups they name.
Test(api, composite_constants_are_their_parts) {
    cr_expect_eq(PROCMON_FIELDS_DEFAULT, PROCMON_FIELD_BASIC | PROCMON_FIELD_CPU | PROCMON_FIELD_MEMORY |
                                             PROCMON_FIELD_SCHED | PROCMON_FIELD_IDS | PROCMON_FIELD_EXE | PROCMON_FIELD_ARGV);
    cr_expect_eq(PROCMON_FIELDS_ALL, PROCMON_FIELDS_DEFAULT | PROCMON_FIELD_CWD | PROCMON_FIELD_FDS | PROCMON_FIELD_IO |
                                         PROCMON_FIELD_CTXSW | PROCMON_FIELD_CGROUP | PROCMON_FIELD_SMAPS);
    cr_expect_eq(PROCMON_EVENTS_DEFAULT, PROCMON_EVENT_START | PROCMON_EVENT_EXEC | PROCMON_EVENT_EXIT);
    cr_expect_eq(PROCMON_EVENTS_ALL, PROCMON_EVENTS_DEFAULT | PROCMON_EVENT_UID | PROCMON_EVENT_COMM | PROCMON_EVENT_LOST);
    cr_expect_eq(PROCMON_DEFAULT_ARENA_CAP, 64 * 1024 * 1024);
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.threads = PROCMON_MAX_THREADS + 1;
    procmon_ctx *ctx = nullptr;
    cr_expect_eq(procmon_open(&ctx, &o), PROCMON_EINVAL);
    o.threads = 0;
    o.arena_cap_bytes = PROCMON_MIN_ARENA_CAP - 1;
    cr_expect_eq(procmon_open(&ctx, &o), PROCMON_EINVAL);
}

Test(memory, cap_reached_gives_enomem_and_the_context_recovers, .timeout = 30) {
    // ~1.5 MiB of argv does not fit a 1 MiB cap (cache + snapshot copy).
    std::vector<std::string> argv = {"idle_child"};
    for (int i = 0; i < 12; ++i) argv.push_back(std::string(128 * 1024 - 1, 'm'));
    Child big = Child::exec_idle(argv);

    procmon_options o = PROCMON_OPTIONS_INIT;
    o.arena_cap_bytes = 1 << 20;
    Ctx c(&o);
    cr_assert_eq(c.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    procmon_stats st{};
    st.size = sizeof st;

    procmon_snapshot *s = nullptr;
    uint64_t used_after_failure = 0;
    for (int i = 0; i < 3; ++i) {
        cr_assert_eq(procmon_enumerate(&s, c.ctx, nullptr), PROCMON_ENOMEM);
        cr_expect_null(s);
        cr_expect_neq(std::strstr(procmon_error_last()->message, "memory cap of 1048576 bytes"), nullptr, "%s",
                      procmon_error_last()->message);
        procmon_stats_get(&st, c.ctx);
        cr_expect_leq(st.arena_used_bytes, st.arena_cap_bytes);
        if (i == 0) used_after_failure = st.arena_used_bytes;
        cr_expect_eq(st.arena_used_bytes, used_after_failure, "failed enumerations leak: %llu then %llu",
                     static_cast<unsigned long long>(used_after_failure), static_cast<unsigned long long>(st.arena_used_bytes));
    }
    cr_expect_eq(st.cache_entries, 0u, "the cache is emptied after ENOMEM");

    // still usable for what fits
    procmon_query q = PROCMON_QUERY_INIT;
    int32_t self = getpid();
    q.pids = &self;
    q.pid_count = 1;
    Snap ok(c.ctx, &q);
    cr_expect_eq(ok.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_not_null(ok.find(self));
    // The big child without its argv fits. Only it and this process: the
    // whole machine's BASIC records need not fit 1 MiB (about 1.5 KiB a
    // process at the peak; 600 more processes, as beside `events`, which
    // forks 2,000, made this ENOMEM).
    int32_t both[] = {self, big.pid()};
    q = PROCMON_QUERY_INIT;
    q.fields = PROCMON_FIELD_BASIC;
    q.pids = both;
    q.pid_count = 2;
    Snap basic(c.ctx, &q);
    cr_expect_eq(basic.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_not_null(basic.find(big.pid()));
    cr_expect_not_null(basic.find(self));
}

Test(memory, freeing_snapshots_returns_their_bytes) {
    Ctx c;
    { Snap warmup(c.ctx); }
    procmon_stats before{}, during{}, after{};
    before.size = during.size = after.size = sizeof before;
    procmon_stats_get(&before, c.ctx);
    {
        Snap a(c.ctx), b(c.ctx);
        procmon_stats_get(&during, c.ctx);
        cr_expect_gt(during.arena_used_bytes, before.arena_used_bytes);
    }
    procmon_stats_get(&after, c.ctx);
    // the cache may differ by processes that came or went: allow a few KiB
    int64_t diff = static_cast<int64_t>(after.arena_used_bytes) - static_cast<int64_t>(before.arena_used_bytes);
    cr_expect_lt(diff < 0 ? -diff : diff, 64 * 1024, "used %llu before, %llu after",
                 static_cast<unsigned long long>(before.arena_used_bytes), static_cast<unsigned long long>(after.arena_used_bytes));
    cr_expect_geq(after.arena_peak_bytes, during.arena_used_bytes);
    cr_expect_eq(after.arena_cap_bytes, PROCMON_DEFAULT_ARENA_CAP);
}

// The allocator behind the arena is the one this run expects: ctest sets
// PROCMON_TEST_ALLOCATOR to "mimalloc arena" in a normal build (mimalloc is
// installed wherever procmon builds), and to the fallback's reason when the
// build is sanitized or PROCMON_ALLOCATOR=system; the cap holds either way.
Test(memory, allocator_is_the_expected_one_and_capped) {
    const char *expected = std::getenv("PROCMON_TEST_ALLOCATOR");
    cr_assert_not_null(expected, "run through ctest, which says which allocator to expect");
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.arena_cap_bytes = PROCMON_MIN_ARENA_CAP;
    Ctx c(&o);
    cr_assert_eq(c.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    procmon_stats st{};
    st.size = sizeof st;
    cr_assert_eq(procmon_stats_get(&st, c.ctx), PROCMON_OK);
    cr_expect_str_eq(st.allocator, expected);
    // 1 MiB holds no full snapshot with argv of a live system: ENOMEM, never more than the cap
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = PROCMON_FIELDS_ALL;
    procmon_snapshot *s = nullptr;
    int rc = PROCMON_OK;
    for (int i = 0; i < 3 && rc == PROCMON_OK; ++i) {
        rc = procmon_enumerate(&s, c.ctx, &q);
        procmon_snapshot_free(s);
    }
    procmon_stats_get(&st, c.ctx);
    cr_expect_leq(st.arena_peak_bytes, st.arena_cap_bytes, "%s", st.allocator);
}

Test(memory, older_smaller_stats_struct_is_filled_up_to_its_size) {
    Ctx c;
    unsigned char buf[sizeof(procmon_stats) + 16];
    std::memset(buf, 0xAB, sizeof buf);
    auto *st = reinterpret_cast<procmon_stats *>(buf);
    st->size = 24;  // size, reserved_, arena_cap_bytes
    cr_assert_eq(procmon_stats_get(st, c.ctx), PROCMON_OK);
    cr_expect_eq(st->arena_cap_bytes, PROCMON_DEFAULT_ARENA_CAP);
    cr_expect_eq(buf[24], 0xAB, "wrote past the caller's size");
}
