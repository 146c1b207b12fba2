// The client against the real procmond (started here as a plain process
// with a socket, journal and config of its own, killed by pid at the end),
// through the public C ABI only: a remote snapshot is a local one's
// processes and fields, system and stats answer, a subscription sees a
// child's START, EXEC and EXIT with its exit code and the daemon's seq, and
// resuming by from_seq after unsubscribing gets exactly what was missed.
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "procmon.h"
#include "procmond_process.hpp"

namespace {

struct Daemon {
    std::string dir, socket;
    pid_t pid = -1;

    Daemon() {
        const char *binary = std::getenv("PROCMOND");
        cr_assert_not_null(binary, "PROCMOND names the daemon to test (ctest sets it)");
        char tmpl[] = "/tmp/procmon-e2e-XXXXXX";
        cr_assert_not_null(mkdtemp(tmpl));
        dir = tmpl;
        socket = dir + "/procmond.sock";
        std::ofstream(dir + "/procmond.toml") << "[journal]\ndir = \"" << dir << "/journal\"\n";
        const std::string config = dir + "/procmond.toml", log = dir + "/log";
        pid = procmon_test::start_procmond(binary, {"--socket", socket, "--config", config}, log);
        cr_assert_geq(pid, 0);
    }
    ~Daemon() {
        procmon_test::stop_procmond(pid);
        std::string cmd = "rm -rf '" + dir + "'";
        cr_expect_eq(system(cmd.c_str()), 0);
    }
    procmon_ctx *open() const {
        procmon_ctx *ctx = procmon_test::connect_procmond(socket, 15000);
        cr_assert_not_null(ctx, "procmond did not answer at %s within 15 s: %s", socket.c_str(),
                           procmon_error_last()->message);
        return ctx;
    }
};

procmon_ctx *open_local() {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.endpoint = "";
    // Every read fresh, as the daemon's first snapshot is: a cached exe or
    // argv would hide an exec between the two local snapshots.
    o.cache_policy = PROCMON_CACHE_NONE;
    procmon_ctx *ctx = nullptr;
    cr_assert_eq(procmon_open(&ctx, &o), PROCMON_OK);
    return ctx;
}

// A child that execs sh and exits with `code`; reaped.
pid_t run_child(int code) {
    pid_t p = fork();
    if (p == 0) {
        char arg[32];
        std::snprintf(arg, sizeof arg, "exit %d", code);
        execl("/bin/sh", "sh", "-c", arg, static_cast<char *>(nullptr));
        _exit(127);
    }
    waitpid(p, nullptr, 0);
    return p;
}

// Events until `until` returns true for one (at most 5 s).
template <class Until>
std::vector<procmon_event> collect(procmon_subscription *s, Until &&until) {
    std::vector<procmon_event> got;
    for (int i = 0; i < 100; ++i) {
        procmon_event ev[64];
        size_t n = 0;
        cr_assert_eq(procmon_subscription_next(s, ev, sizeof ev[0], 64, &n, 50), PROCMON_OK, "%s",
                     procmon_error_last()->message);
        for (size_t k = 0; k < n; ++k) {
            got.push_back(ev[k]);
            if (until(ev[k])) return got;
        }
    }
    cr_assert_fail("the awaited event did not come within 5 s (%zu others did)", got.size());
    return got;
}

bool is_exit_of(const procmon_event &e, pid_t pid) { return e.type == PROCMON_EVENT_EXIT && e.pid == pid; }

}  // namespace

Test(remote_e2e, a_remote_snapshot_has_the_local_processes_and_fields, .timeout = 60) {
    Daemon d;
    procmon_ctx *remote = d.open(), *local = open_local();
    procmon_snapshot *before = nullptr, *far = nullptr, *after = nullptr;
    cr_assert_eq(procmon_enumerate(&before, local, nullptr), PROCMON_OK);
    cr_assert_eq(procmon_enumerate(&far, remote, nullptr), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_assert_eq(procmon_enumerate(&after, local, nullptr), PROCMON_OK);
    size_t compared = 0;
    for (size_t i = 0; i < procmon_snapshot_count(before); ++i) {
        const procmon_process *b = procmon_snapshot_at(before, i);
        const procmon_process *a = procmon_snapshot_find(after, b->pid);
        if (a == nullptr || a->start_ticks != b->start_ticks) continue;  // came and went meanwhile
        const procmon_process *r = procmon_snapshot_find(far, b->pid);
        cr_assert_not_null(r, "pid %d, there before and after, is missing from the daemon's snapshot", b->pid);
        cr_expect_eq(r->start_ticks, b->start_ticks, "pid %d", b->pid);
        cr_expect_eq(r->ppid, b->ppid, "pid %d", b->pid);
        cr_expect_eq(r->euid, b->euid, "pid %d", b->pid);
        // What an exec changes is compared only for a process that did not
        // exec between the two local snapshots (the daemon's came between).
        // A kernel worker's name says what it works on now and changes
        // from one moment to the next (kworker/u8:4-writeback): not those.
        const bool kernel_thread = b->pid == 2 || b->ppid == 2;
        if (!kernel_thread && std::strcmp(b->full_name, a->full_name) == 0) {
            cr_expect_str_eq(r->name, b->name, "pid %d: %s here, %s there", b->pid, b->name, r->name);
            cr_expect_str_eq(r->full_name, b->full_name, "pid %d: %s here, %s there", b->pid, b->full_name, r->full_name);
        }
        if (std::strcmp(b->exe, a->exe) == 0) cr_expect_str_eq(r->exe, b->exe, "pid %d", b->pid);
        if (b->argv_len == a->argv_len && b->argv_len > 0 && std::memcmp(b->argv, a->argv, b->argv_len) == 0) {
            cr_expect_eq(r->argv_len, b->argv_len, "pid %d", b->pid);
            cr_expect(std::memcmp(r->argv, b->argv, b->argv_len) == 0, "pid %d argv", b->pid);
        }
        cr_expect_eq(r->valid & PROCMON_FIELDS_DEFAULT, b->valid & PROCMON_FIELDS_DEFAULT, "pid %d valid", b->pid);
        ++compared;
    }
    cr_expect_gt(compared, 3u);
    cr_expect_not_null(procmon_snapshot_find(far, getpid()), "the daemon sees this test");

    procmon_system sys{};
    sys.size = sizeof sys;
    cr_expect_eq(procmon_system_get(&sys, remote), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_gt(sys.mem_total_bytes, 0u);
    cr_expect_geq(sys.cpus, 1u);
    procmon_stats st{};
    st.size = sizeof st;
    cr_expect_eq(procmon_stats_get(&st, remote), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_eq(st.enumerations, 1u, "this context's own count");
    cr_expect_str_neq(st.source_name, "", "the daemon's event source");
    procmon_daemon_status ds{};
    ds.size = sizeof ds;
    cr_expect_eq(procmon_daemon_status_get(&ds, remote), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_eq(ds.daemon_pid, d.pid);
    cr_expect_str_eq(ds.daemon_version, PROCMON_VERSION_STRING);
    cr_expect_geq(ds.clients, 1u);
    procmon_snapshot_free(before);
    procmon_snapshot_free(far);
    procmon_snapshot_free(after);
    procmon_close(local);
    procmon_close(remote);
}

Test(remote_e2e, a_subscription_sees_a_child_and_resumes_by_seq_with_no_gap_and_no_duplicate, .timeout = 60) {
    Daemon d;
    procmon_ctx *remote = d.open();
    procmon_subscription *s = nullptr;
    cr_assert_eq(procmon_subscribe(&s, remote, nullptr), PROCMON_OK, "%s", procmon_error_last()->message);
    const pid_t first = run_child(3);
    std::vector<procmon_event> seen = collect(s, [&](const procmon_event &e) { return is_exit_of(e, first); });
    std::set<uint32_t> types;
    for (const procmon_event &e : seen)
        if (e.pid == first) types.insert(e.type);
    cr_expect(types.count(PROCMON_EVENT_START) && types.count(PROCMON_EVENT_EXEC), "START and EXEC of the child");
    cr_expect_eq(seen.back().exit_code, 3);
    cr_expect_gt(seen.back().seq, 0u, "the daemon's journal seq");
    for (size_t i = 1; i < seen.size(); ++i)
        cr_expect_eq(seen[i].seq, seen[i - 1].seq + 1, "every event of the journal, in order (%zu)", i);
    const uint64_t last = seen.back().seq;
    procmon_unsubscribe(s);

    const pid_t missed = run_child(5);  // while no one listens
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    o.from_seq = last + 1;
    cr_assert_eq(procmon_subscribe(&s, remote, &o), PROCMON_OK, "%s", procmon_error_last()->message);
    std::vector<procmon_event> resumed = collect(s, [&](const procmon_event &e) { return is_exit_of(e, missed); });
    cr_expect_eq(resumed.front().seq, last + 1, "no gap, no duplicate at the seam");
    for (size_t i = 1; i < resumed.size(); ++i) cr_expect_eq(resumed[i].seq, resumed[i - 1].seq + 1, "(%zu)", i);
    cr_expect_eq(resumed.back().exit_code, 5, "the missed child's exit, from the journal");
    procmon_unsubscribe(s);
    procmon_close(remote);
}
