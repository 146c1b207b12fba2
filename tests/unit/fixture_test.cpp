// The collector over fixture /proc trees (tests/fixtures, written by
// make_fixtures.py): exact values, hostile names, malformed and oversized
// files, integer limits, and identity across enumerations.
#include <criterion/criterion.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "procmon_raii.hpp"

#ifndef PROCMON_TEST_FIXTURES
#error "build with -DPROCMON_TEST_FIXTURES=\"tests/fixtures\""
#endif

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kTickNs = 10000000;  // fixtures assume USER_HZ 100
constexpr uint64_t kBootNs = 1700000000ull * 1000000000ull;

procmon_options fixture(const char *root) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.proc_root = root;
    return o;
}

std::string tree(const char *name) { return std::string(PROCMON_TEST_FIXTURES) + "/" + name; }

// A writable copy of a fixture tree, removed afterwards.
struct TempTree {
    fs::path path;
    explicit TempTree(const char *name) {
        char tmpl[] = "/tmp/procmon-fixture-XXXXXX";
        path = mkdtemp(tmpl);
        fs::copy(tree(name), path, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    }
    ~TempTree() { fs::remove_all(path); }
    void write(const std::string &rel, const std::string &content) const {
        std::ofstream(path / rel, std::ios::binary | std::ios::trunc) << content;
    }
    std::string read(const std::string &rel) const { return read_text((path / rel).string()); }
};

const procmon_process *need(const Snap &s, int32_t pid) {
    const procmon_process *p = s.find(pid);
    cr_assert_not_null(p, "pid %d missing", pid);
    return p;
}

}  // namespace

Test(fixture_basic, exact_values_of_a_well_formed_process) {
    if (sysconf(_SC_CLK_TCK) != 100) cr_skip_test("fixtures assume USER_HZ 100");
    std::string root = tree("basic");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    cr_assert_eq(c.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    procmon_query q = query_fields(PROCMON_FIELDS_ALL);
    Snap s(c.ctx, &q);
    cr_assert_eq(s.rc, PROCMON_OK);
    const procmon_process *p = need(s, 1);
    cr_expect_str_eq(p->name, "init");
    cr_expect_eq(p->ppid, 0);
    cr_expect_eq(p->state, 'S');
    cr_expect_eq(p->utime_ns, 150 * kTickNs);
    cr_expect_eq(p->stime_ns, 50 * kTickNs);
    cr_expect_eq(p->start_ticks, 5u);
    cr_expect_eq(p->start_time_ns, kBootNs + 5 * kTickNs);
    cr_expect_eq(p->vms_bytes, 170000000u);
    cr_expect_eq(p->rss_bytes, 2500u * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
    cr_expect_eq(p->priority, 20);
    cr_expect_eq(p->threads, 1u);
    cr_expect_str_eq(p->exe, "/sbin/init");
    cr_expect_str_eq(p->cwd, "/");
    std::vector<std::string> argv = {"/sbin/init", "splash"};
    cr_expect(argv_of(*p) == argv);
    cr_expect_eq(p->fd_count, 3u);
    cr_expect_eq(p->io_rchar, 1000u);
    cr_expect_eq(p->io_wchar, 2000u);
    cr_expect_eq(p->io_syscr, 30u);
    cr_expect_eq(p->io_syscw, 40u);
    cr_expect_eq(p->io_read_bytes, 4096u);
    cr_expect_eq(p->io_write_bytes, 8192u);
    cr_expect_eq(p->voluntary_ctxt_switches, 11u);
    cr_expect_eq(p->nonvoluntary_ctxt_switches, 7u);
    cr_expect_str_eq(p->cgroup, "/init.scope");
    cr_expect_str_eq(p->container_id, "");
    // first sight: CPU since start = 2 s over (1000.50 - 0.05) s
    cr_expect(std::fabs(p->cpu_percent - 200.0 / 1000.45) < 1e-6, "cpu %f", p->cpu_percent);
    cr_expect_eq(p->valid, PROCMON_FIELDS_ALL);
}

Test(fixture_basic, names_end_at_the_last_parenthesis) {
    std::string root = tree("basic");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    Snap s(c.ctx);
    cr_expect_str_eq(need(s, 42)->name, "a) (b");
    cr_expect_eq(need(s, 42)->euid, 1000u);
    const procmon_process *forged = need(s, 43);
    cr_expect_str_eq(forged->name, "x) R 9 9 9 (y");
    cr_expect_eq(forged->state, 'T');
    cr_expect_eq(forged->ppid, 42);
    cr_expect_str_eq(need(s, 44)->name, "new\nline");
}

Test(fixture_basic, non_pid_entries_are_ignored) {
    std::string root = tree("basic");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    Snap s(c.ctx);
    std::vector<int32_t> pids;
    for (std::size_t i = 0; i < s.count(); ++i) pids.push_back(procmon_snapshot_at(s.s, i)->pid);
    std::vector<int32_t> want = {1, 42, 43, 44, 77, 100, 200, 201, 300, 301};
    cr_expect(pids == want, "got %zu pids", pids.size());
}

Test(fixture_basic, kernel_thread_zombie_and_containers) {
    std::string root = tree("basic");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    procmon_query q = query_fields(PROCMON_FIELDS_ALL);
    Snap s(c.ctx, &q);
    const procmon_process *k = need(s, 77);
    cr_expect(k->flags & PROCMON_PROC_KTHREAD);
    cr_expect_eq(k->argc, 0u);
    cr_expect(k->valid & PROCMON_FIELD_ARGV, "a kernel thread's argv is known to be empty");
    const procmon_process *z = need(s, 100);
    cr_expect(z->flags & PROCMON_PROC_ZOMBIE);
    cr_expect_eq(z->valid & (PROCMON_FIELD_ARGV | PROCMON_FIELD_EXE), 0u);
    const procmon_process *docker = need(s, 200);
    cr_expect_str_eq(docker->container_id, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    const procmon_process *v1 = need(s, 201);
    cr_expect_str_eq(v1->cgroup, "12:pids:/kubepods/pod1;11:memory:/kubepods/pod1");
    cr_expect_str_eq(v1->container_id, "");
}

Test(fixture_basic, empty_and_raw_arguments_and_unterminated_blocks) {
    std::string root = tree("basic");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    Snap s(c.ctx);
    const procmon_process *p = need(s, 300);
    std::vector<std::string> want = {"prog", "", "x\xff\xfe", ""};
    cr_expect_eq(p->argc, 4u);
    cr_expect(argv_of(*p) == want);
    const procmon_process *t = need(s, 301);
    cr_expect_eq(t->argc, 1u);
    cr_expect_str_eq(t->argv, "nginx: worker process");
    cr_expect_eq(t->argv_len, sizeof("nginx: worker process"));
}

Test(fixture_malformed, bad_files_drop_the_record_or_its_fields) {
    std::string root = tree("malformed");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    procmon_query q = query_fields(PROCMON_FIELDS_ALL);
    Snap s(c.ctx, &q);
    cr_assert_eq(s.rc, PROCMON_OK, "malformed files must not fail the enumeration");
    for (int32_t dropped : {10, 11, 13, 14, 15, 18, 19, 22, 24, 25})
        cr_expect_null(s.find(dropped), "pid %d should be dropped", dropped);

    const procmon_process *shortp = need(s, 12);  // stat ends at starttime
    cr_expect_eq(shortp->valid & PROCMON_FIELD_MEMORY, 0u);
    cr_expect(shortp->valid & PROCMON_FIELD_CPU);
    cr_expect_eq(shortp->start_ticks, 5u);

    cr_expect_eq(need(s, 16)->valid & PROCMON_FIELD_IDS, 0u, "status without Uid");
    cr_expect_eq(need(s, 21)->valid & PROCMON_FIELD_IDS, 0u, "uid beyond 32 bits");
    cr_expect_eq(need(s, 20)->valid & PROCMON_FIELD_IO, 0u, "io without write_bytes");
    cr_expect(need(s, 20)->valid & PROCMON_FIELD_IDS);

    const procmon_process *lim = need(s, 17);
    cr_expect_eq(lim->ppid, 2147483647);
    cr_expect_eq(lim->utime_ns, UINT64_MAX, "saturates, never wraps");
    cr_expect_eq(lim->rss_bytes, UINT64_MAX);
    cr_expect_eq(lim->threads, UINT32_MAX);
    cr_expect_eq(lim->nice, -20);
    cr_expect_eq(lim->priority, -100);
    cr_expect_eq(lim->uid, 4294967295u);
    cr_expect(std::isfinite(lim->cpu_percent));

    cr_expect_eq(std::string(need(s, 23)->name), std::string(63, 'n'), "long names are cut, not overflowed");
    cr_expect_str_eq(need(s, 2147483647)->name, "maxpid");
}

Test(fixture_oversized, huge_files_are_bounded) {
    TempTree t("basic");
    // status of 2 MiB: Uid early, so still found within the 1 MiB read limit
    std::string status = t.read("1/status") + std::string(2 << 20, 'z') + "\n";
    t.write("1/status", status);
    // stat of 100 KiB (a comm no kernel allows): refused, record dropped
    t.write("42/stat", "42 (" + std::string(100 << 10, 'q') + ") S 1 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 1 1\n");
    // argv of 3 MiB: cut at the kernel's ARG_MAX and flagged
    std::string big;
    for (int i = 0; i < 3 * 8; ++i) big += std::string(128 * 1024 - 1, 'a') + '\0';
    t.write("300/cmdline", big);
    std::string root = t.path.string();
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    Snap s(c.ctx);
    cr_assert_eq(s.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect(need(s, 1)->valid & PROCMON_FIELD_IDS);
    cr_expect_null(s.find(42));
    const procmon_process *p = need(s, 300);
    cr_expect(p->flags & PROCMON_PROC_ARGV_TRUNCATED);
    cr_expect_eq(p->argv_len, static_cast<std::size_t>(sysconf(_SC_ARG_MAX)));
    cr_expect_eq(p->argv[p->argv_len - 1], '\0');
}

Test(fixture_identity, cpu_percent_is_per_interval_and_never_across_pid_reuse) {
    if (sysconf(_SC_CLK_TCK) != 100) cr_skip_test("fixtures assume USER_HZ 100");
    TempTree t("basic");
    std::string root = t.path.string();
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    { Snap first(c.ctx); }

    // 10 s later, pid 1 used 5 s more CPU: 50%
    t.write("uptime", "1010.50 1900.00\n");
    std::string stat1 = t.read("1/stat");
    std::string later = stat1;
    later.replace(later.find(" 150 50 "), 8, " 600 100 ");
    t.write("1/stat", later);
    {
        Snap second(c.ctx);
        cr_expect(std::fabs(need(second, 1)->cpu_percent - 50.0) < 1e-6, "cpu %f", need(second, 1)->cpu_percent);
    }

    // pid 1 is now another process (start 1000 s, 1 s of CPU): 1 s over 10.5 s
    t.write("uptime", "1010.50 1900.00\n");
    std::string reused = stat1;
    reused.replace(reused.find(" 150 50 "), 8, " 60 40 ");
    reused.replace(reused.find(" 0 5 170000000 "), 15, " 0 100000 170000000 ");
    t.write("1/stat", reused);
    t.write("1/cmdline", std::string("/usr/bin/newcomer\0", 18));
    Snap third(c.ctx);
    const procmon_process *p = need(third, 1);
    cr_expect_eq(p->start_ticks, 100000u);
    cr_expect(std::fabs(p->cpu_percent - 100.0 / 10.5) < 1e-6, "cpu %f", p->cpu_percent);
    cr_expect_str_eq(p->argv, "/usr/bin/newcomer", "argv cached from the old process");
}

Test(fixture_identity, exec_noticed_by_comm_change_and_cache_kept_otherwise) {
    TempTree t("basic");
    std::string root = t.path.string();
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    { Snap first(c.ctx); }

    // argv changed on disk but nothing says the process exec'd: cache stands
    t.write("42/cmdline", std::string("changed\0", 8));
    {
        Snap s(c.ctx);
        cr_expect_str_eq(need(s, 42)->argv, "hostile");
    }
    // comm changes with the exec: argv read again
    std::string stat = t.read("42/stat");
    stat.replace(stat.find("(a) (b)"), 7, "(changed)");
    t.write("42/stat", stat);
    {
        Snap s(c.ctx);
        cr_expect_str_eq(need(s, 42)->argv, "changed");
    }
    // and REFRESH re-reads even without a sign of exec
    t.write("42/cmdline", std::string("refreshed\0", 10));
    procmon_query q = PROCMON_QUERY_INIT;
    q.flags = PROCMON_QUERY_REFRESH;
    Snap s(c.ctx, &q);
    cr_expect_str_eq(need(s, 42)->argv, "refreshed");
}

Test(fixture_identity, exec_noticed_by_code_addresses) {
    TempTree t("basic");
    std::string root = t.path.string();
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    { Snap first(c.ctx); }
    std::string stat = t.read("200/stat");
    stat.replace(stat.find(" 4194304 4198400 "), 17, " 8388608 8392704 ");  // new startcode/endcode
    t.write("200/stat", stat);
    t.write("200/cmdline", std::string("nginx\0-s\0reload\0", 16));
    Snap s(c.ctx);
    cr_expect_eq(need(s, 200)->argc, 3u);
}

Test(fixture_identity, pid_filtered_queries_keep_other_cache_entries) {
    TempTree t("basic");
    std::string root = t.path.string();
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    { Snap all(c.ctx); }
    int32_t one = 42;
    procmon_query q = PROCMON_QUERY_INIT;
    q.pids = &one;
    q.pid_count = 1;
    { Snap only(c.ctx, &q); }
    procmon_stats st{};
    st.size = sizeof st;
    procmon_stats_get(&st, c.ctx);
    cr_expect_eq(st.cache_entries, 10u, "a pid query dropped other processes' cache");
    // a process that vanished leaves the cache at the next full listing
    fs::remove_all(t.path / "301");
    { Snap all(c.ctx); }
    procmon_stats_get(&st, c.ctx);
    cr_expect_eq(st.cache_entries, 9u);
}

Test(fixture_root, missing_btime_fails_open_loudly) {
    TempTree t("basic");
    t.write("stat", "cpu 1 2 3\n");
    std::string root = t.path.string();
    procmon_options o = fixture(root.c_str());
    procmon_ctx *ctx = nullptr;
    cr_expect_eq(procmon_open(&ctx, &o), PROCMON_EIO);
    cr_expect_null(ctx);
    cr_expect_neq(std::string(procmon_error_last()->message).find("btime"), std::string::npos);
}

// The polling pass reads a known process in full only when its run counts
// (schedstat) moved: one that did not run cannot have exec'd. Without the
// counts (pid 43 here) or with malformed ones (44), every pass reads it in
// full as before.
namespace {

// Replaces a file whole (rename), so a polling pass never sees it half-written.
void replace(const TempTree &t, const std::string &rel, const std::string &content) {
    t.write(rel + ".new", content);
    fs::rename(t.path / (rel + ".new"), t.path / rel);
}

// The file's text as a process that exec'd: new code addresses (the exec key).
void exec_in_place(const TempTree &t, int pid, const std::string &argv) {
    replace(t, std::to_string(pid) + "/cmdline", argv);  // first: a pass never sees the key move without it
    std::string stat = t.read(std::to_string(pid) + "/stat");
    const std::size_t at = stat.find(" 4194304 4198400 ");
    cr_assert_neq(at, std::string::npos);
    stat.replace(at, 17, " 5000000 5004096 ");
    replace(t, std::to_string(pid) + "/stat", stat);
}

std::vector<procmon_event> events_for(procmon_subscription *s, int ms) {
    std::vector<procmon_event> out;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
        procmon_event batch[16];
        size_t n = 0;
        cr_assert_eq(procmon_subscription_next(s, batch, sizeof batch[0], 16, &n, 20), PROCMON_OK);
        out.insert(out.end(), batch, batch + n);
    }
    return out;
}

int count(const std::vector<procmon_event> &evs, int32_t pid, uint32_t type) {
    int n = 0;
    for (const procmon_event &e : evs) n += e.pid == pid && e.type == type;
    return n;
}

}  // namespace

Test(fixture_polling, a_process_that_did_not_run_is_not_read_again) {
    TempTree t("basic");
    t.write("42/schedstat", "1000 200 3\n");
    t.write("44/schedstat", "1000 200\n");  // malformed: as if absent
    procmon_options o = fixture(t.path.c_str());
    o.poll_interval_ms = 20;
    Ctx c(&o);
    cr_assert_eq(c.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    procmon_subscription *s = nullptr;
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    so.events = PROCMON_EVENTS_ALL;
    cr_assert_eq(procmon_subscribe(&s, c.ctx, &so), PROCMON_OK, "%s", procmon_error_last()->message);

    // Both "exec", but 42's run counts stay put: only 43 is read again.
    exec_in_place(t, 42, std::string("new\0", 4));
    exec_in_place(t, 43, std::string("other\0", 6));
    exec_in_place(t, 44, std::string("third\0", 6));
    auto evs = events_for(s, 400);
    cr_expect_eq(count(evs, 43, PROCMON_EVENT_EXEC), 1, "no counts: read in full every pass");
    cr_expect_eq(count(evs, 44, PROCMON_EVENT_EXEC), 1, "malformed counts: read in full every pass");
    cr_expect_eq(count(evs, 42, PROCMON_EVENT_EXEC), 0, "unchanged counts: not read");
    cr_expect_eq(evs.size(), 2u, "%zu events", evs.size());

    // 42 ran: the next pass reads it and sees the exec.
    replace(t, "42/schedstat", "1500 200 4\n");
    evs = events_for(s, 400);
    cr_assert_eq(count(evs, 42, PROCMON_EVENT_EXEC), 1);
    for (const procmon_event &e : evs)
        if (e.pid == 42) cr_expect_str_eq(e.argv, "new");
    cr_expect_eq(evs.size(), 1u, "%zu events", evs.size());

    // Gone from the listing: its exit is seen whatever its counts said.
    fs::remove_all(t.path / "42");
    evs = events_for(s, 400);
    cr_expect_eq(count(evs, 42, PROCMON_EVENT_EXIT), 1);
    procmon_unsubscribe(s);
}

// ------------------------------------------------------------ names users see

namespace {

// The pids a name and command line filter keep, reading `fields`.
std::vector<int32_t> matching(procmon_ctx *ctx, uint64_t fields, const char *name_glob, const char *cmdline_glob) {
    procmon_query q = query_fields(fields);
    q.name_glob = name_glob;
    q.cmdline_glob = cmdline_glob;
    Snap s(ctx, &q);
    cr_assert_eq(s.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    std::vector<int32_t> pids;
    for (std::size_t i = 0; i < s.count(); ++i) pids.push_back(procmon_snapshot_at(s.s, i)->pid);
    return pids;
}

struct FilterCase {
    const char *glob;
    std::vector<int32_t> want;
};

}  // namespace

// psutil's rule, whatever fields were asked for: a name the kernel cut at 15
// bytes is argv[0]'s base name, or else exe's, when that starts with it.
Test(fixture_names, full_name_is_the_name_users_see) {
    std::string root = tree("names");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    for (uint64_t fields : {uint64_t{PROCMON_FIELD_BASIC}, uint64_t{PROCMON_FIELDS_DEFAULT}}) {
        procmon_query q = query_fields(fields);
        Snap s(c.ctx, &q);
        cr_assert_eq(s.rc, PROCMON_OK, "%s", procmon_error_last()->message);
        cr_expect_str_eq(need(s, 10)->full_name, "a_very_long_program_name");
        cr_expect_str_eq(need(s, 10)->name, "a_very_long_pro", "name stays the kernel's");
        cr_expect_str_eq(need(s, 11)->full_name, "a_very_long_program_other");
        cr_expect_str_eq(need(s, 12)->full_name, "renamed_to_this");
        cr_expect_str_eq(need(s, 13)->full_name, "short");
        cr_expect_str_eq(need(s, 14)->full_name, "kworker/u8:10-e");
    }
}

Test(fixture_names, name_filter_matches_the_full_name) {
    std::string root = tree("names");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    const FilterCase cases[] = {
        {"a_very_long_program_name", {10}},
        {"a_very_long_*", {10, 11}},
        {"a_very_long_pro", {}},  // the kernel's cut is not a name users know
        {"short", {13}},
        {"kworker/*", {14}},
    };
    for (const FilterCase &k : cases)
        for (uint64_t fields : {uint64_t{PROCMON_FIELD_BASIC}, uint64_t{PROCMON_FIELDS_DEFAULT}})
            cr_expect(matching(c.ctx, fields, k.glob, nullptr) == k.want, "name %s", k.glob);
}

Test(fixture_names, cmdline_filter_matches_argv_joined_by_spaces) {
    std::string root = tree("names");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    const FilterCase cases[] = {
        {"*--serve*", {10}},
        {"short -x", {13}},
        {"short", {}},  // anchored: the whole line
        {"*app.py", {12}},
        {"*", {10, 11, 12, 13, 14}},
    };
    for (const FilterCase &k : cases)
        for (uint64_t fields : {uint64_t{PROCMON_FIELD_BASIC}, uint64_t{PROCMON_FIELDS_DEFAULT}})
            cr_expect(matching(c.ctx, fields, nullptr, k.glob) == k.want, "cmdline %s", k.glob);
    procmon_query bad = PROCMON_QUERY_INIT;
    bad.cmdline_glob = "[unclosed";
    Snap s(c.ctx, &bad);
    cr_expect_eq(s.rc, PROCMON_EINVAL);
    cr_expect(std::strstr(procmon_error_last()->message, "cmdline_glob") != nullptr, "%s", procmon_error_last()->message);
}

// A caller built against 0.1's query (version 1) has no cmdline_glob: the
// library must not read past it.
Test(fixture_names, version_1_query_reads_no_cmdline_glob) {
    std::string root = tree("names");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    struct {
        procmon_query q;
        const char *beyond;
    } v1;
    std::memset(&v1, 0, sizeof v1);
    v1.q.version = 1;
    v1.q.uid = -1;
    v1.q.cmdline_glob = "no such line";  // what a v1 caller leaves there is not its own
    Snap s(c.ctx, &v1.q);
    cr_assert_eq(s.rc, PROCMON_OK);
    cr_expect_eq(s.count(), 5u);
}

// ------------------------------------------------------------ memory

Test(fixture_basic, mem_percent_and_smaps) {
    std::string root = tree("basic");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    procmon_query q = query_fields(PROCMON_FIELDS_DEFAULT | PROCMON_FIELD_SMAPS);
    Snap s(c.ctx, &q);
    cr_assert_eq(s.rc, PROCMON_OK);
    const procmon_process *p = need(s, 1);
    const double want = 100.0 * 2500.0 * static_cast<double>(sysconf(_SC_PAGESIZE)) / (8000000.0 * 1024);
    cr_expect(std::fabs(p->mem_percent - want) < 1e-9, "mem %f, want %f", p->mem_percent, want);
    cr_expect(p->valid & PROCMON_FIELD_SMAPS);
    cr_expect_eq(p->pss_bytes, 3000u * 1024);
    cr_expect_eq(p->uss_bytes, (500u + 2000u) * 1024);
    cr_expect_eq(p->swap_bytes, 64u * 1024);
    cr_expect_eq(need(s, 42)->valid & PROCMON_FIELD_SMAPS, 0u, "no smaps_rollup, not valid");
    cr_expect_eq(need(s, 42)->pss_bytes, 0u);
}

Test(fixture_basic, system_totals) {
    std::string root = tree("basic");
    procmon_options o = fixture(root.c_str());
    Ctx c(&o);
    procmon_system sys{};
    sys.size = sizeof sys;
    cr_assert_eq(procmon_system_get(&sys, c.ctx), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_eq(sys.size, sizeof sys);
    cr_expect_eq(sys.mem_total_bytes, 8000000ull * 1024);
    cr_expect_eq(sys.mem_available_bytes, 6000000ull * 1024);
    cr_expect_eq(sys.mem_used_bytes, 2000000ull * 1024);
    cr_expect_eq(sys.mem_free_bytes, 1000000ull * 1024);
    cr_expect_eq(sys.swap_total_bytes, 2000000ull * 1024);
    cr_expect_eq(sys.swap_free_bytes, 1500000ull * 1024);
    cr_expect(std::fabs(sys.load1 - 0.52) < 1e-9 && std::fabs(sys.load5 - 1.25) < 1e-9 && std::fabs(sys.load15 - 2.0) < 1e-9);
    cr_expect_eq(sys.boot_time_ns, 1700000000ull * 1000000000ull);
    cr_expect_eq(sys.processes, 10u);
    cr_expect_geq(sys.cpus, 1u);
    // an older, smaller struct is filled up to its size
    procmon_system small{};
    small.size = offsetof(procmon_system, mem_available_bytes);
    cr_assert_eq(procmon_system_get(&small, c.ctx), PROCMON_OK);
    cr_expect_eq(small.mem_total_bytes, 8000000ull * 1024);
    cr_expect_eq(small.mem_available_bytes, 0u);
    small.size = 4;
    cr_expect_eq(procmon_system_get(&small, c.ctx), PROCMON_EINVAL);
    cr_expect_eq(procmon_system_get(nullptr, c.ctx), PROCMON_EINVAL);
    cr_expect_eq(procmon_system_get(&sys, nullptr), PROCMON_EINVAL);
    // signals go to live processes only
    cr_expect_eq(procmon_signal(c.ctx, 1, 5, 0), PROCMON_EUNSUPPORTED);
}
