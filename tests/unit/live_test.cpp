// The C ABI against the real /proc: this process, and children made to be
// awkward (hostile names, 1 MiB of argv, empty and non-UTF-8 arguments, a
// zombie, 50 threads, changed uids, exec after caching, PID reuse, churn).
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "children.hpp"
#include "pid_namespace.hpp"
#include "procmon_raii.hpp"

namespace {

std::string self_exe() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

const procmon_process *expect_pid(const Snap &snap, pid_t pid) {
    const procmon_process *p = snap.find(pid);
    cr_assert_not_null(p, "pid %d missing from the snapshot", pid);
    return p;
}

}  // namespace

Test(self, reads_this_process_in_full) {
    Ctx c;
    cr_assert_eq(c.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    Snap snap(c.ctx);
    cr_assert_eq(snap.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    const procmon_process *p = expect_pid(snap, getpid());

    cr_expect_eq(p->size, sizeof(procmon_process));
    cr_expect_eq(p->valid & PROCMON_FIELDS_DEFAULT, PROCMON_FIELDS_DEFAULT, "valid 0x%llx",
                 static_cast<unsigned long long>(p->valid));
    cr_expect_eq(p->ppid, getppid());
    cr_expect_eq(p->pgid, getpgrp());
    cr_expect_eq(p->sid, getsid(0));
    cr_expect_eq(p->uid, getuid());
    cr_expect_eq(p->euid, geteuid());
    cr_expect_eq(p->gid, getgid());
    std::string comm = read_text("/proc/self/comm");
    comm.pop_back();
    cr_expect_str_eq(p->name, comm.c_str());
    const std::string exe = self_exe();
    cr_expect_str_eq(p->exe, exe.c_str());
    std::string cmdline = read_text("/proc/self/cmdline");
    cr_expect_eq(p->argv_len, cmdline.size());
    cr_expect(std::memcmp(p->argv, cmdline.data(), cmdline.size()) == 0);
    cr_expect_geq(p->threads, 1u);
    cr_expect_gt(p->start_ticks, 0u);
    cr_expect_gt(p->rss_bytes, 0u);
    cr_expect_gt(p->vms_bytes, p->rss_bytes);
    cr_expect(p->state == 'R' || p->state == 'S');
    cr_expect_eq(p->flags & (PROCMON_PROC_KTHREAD | PROCMON_PROC_ZOMBIE), 0u);
    // wall-clock start: within the last day, not in the future
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
    cr_expect_leq(p->start_time_ns, now_ns + 1000000000u);
    cr_expect_gt(p->start_time_ns + 86400ull * 1000000000u, now_ns);
}

Test(self, snapshot_is_sorted_unique_and_find_agrees) {
    Ctx c;
    Snap snap(c.ctx);
    cr_assert_gt(snap.count(), 1u);
    for (std::size_t i = 0; i < snap.count(); ++i) {
        const procmon_process *p = procmon_snapshot_at(snap.s, i);
        if (i > 0) cr_expect_lt(procmon_snapshot_at(snap.s, i - 1)->pid, p->pid);
        cr_expect_eq(procmon_snapshot_find(snap.s, p->pid), p);
    }
    cr_expect_null(procmon_snapshot_at(snap.s, snap.count()));
    cr_expect_null(snap.find(0));
}

Test(self, opt_in_fields) {
    Ctx c;
    procmon_query q = query_fields(PROCMON_FIELDS_ALL);
    int32_t self = getpid();
    q.pids = &self;
    q.pid_count = 1;
    Snap snap(c.ctx, &q);
    const procmon_process *p = expect_pid(snap, self);
    cr_expect_eq(p->valid & PROCMON_FIELDS_ALL, PROCMON_FIELDS_ALL, "valid 0x%llx", static_cast<unsigned long long>(p->valid));
    char cwd[4096];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_expect_str_eq(p->cwd, cwd);
    cr_expect_geq(p->fd_count, 3u);
    cr_expect_gt(p->io_rchar, 0u);
    cr_expect_gt(p->voluntary_ctxt_switches + p->nonvoluntary_ctxt_switches, 0u);
    std::string cg = read_text("/proc/self/cgroup");
    cr_expect_neq(cg.find(p->cgroup), std::string::npos, "cgroup %s not in %s", p->cgroup, cg.c_str());
}

Test(self, default_query_reads_no_opt_in_groups) {
    Ctx c;
    Snap snap(c.ctx);
    const procmon_process *p = expect_pid(snap, getpid());
    cr_expect_eq(p->valid & (PROCMON_FIELDS_ALL & ~PROCMON_FIELDS_DEFAULT), 0u);
    cr_expect_str_eq(p->cwd, "");
    cr_expect_str_eq(p->cgroup, "");
}

Test(names, hostile_comm_values_come_out_whole) {
    const char *names[] = {"a) (b", "with space", "new\nline", "exactly15chars!", ")", "((", "x) S 1 2 3"};
    std::vector<Child> kids;
    for (const char *n : names) kids.push_back(Child::exec_idle({"idle_child"}, n));
    Ctx c;
    Snap snap(c.ctx);
    for (std::size_t i = 0; i < kids.size(); ++i) {
        const procmon_process *p = expect_pid(snap, kids[i].pid());
        cr_expect_str_eq(p->name, names[i]);
        cr_expect_eq(p->ppid, getpid(), "name %s broke the fields after it", names[i]);
        cr_expect_eq(p->state, 'S');
        cr_expect_eq(p->argc, 1u);
    }
}

Test(argv, one_mebibyte_empty_arguments_and_raw_bytes_survive, .timeout = 30) {
    // The kernel caps one string at 128 KiB, so 8 strings make ~1 MiB.
    std::vector<std::string> argv = {"idle_child"};
    for (int i = 0; i < 8; ++i) argv.push_back(std::string(128 * 1024 - 1, static_cast<char>('a' + i)));
    argv.insert(argv.begin() + 4, "");          // empty in the middle
    argv.push_back("raw\xff\xfe\x80 bytes\x01");  // not UTF-8, control byte
    argv.push_back("");                          // empty at the end
    Child kid = Child::exec_idle(argv);

    Ctx c;
    Snap snap(c.ctx);
    const procmon_process *p = expect_pid(snap, kid.pid());
    cr_assert(p->valid & PROCMON_FIELD_ARGV);
    cr_expect_eq(p->flags & PROCMON_PROC_ARGV_TRUNCATED, 0u);
    std::size_t bytes = 0;
    for (const std::string &a : argv) bytes += a.size() + 1;
    cr_expect_gt(bytes, 1024u * 1024u);
    cr_expect_eq(p->argv_len, bytes);
    cr_expect_eq(p->argc, argv.size());
    cr_expect(argv_of(*p) == argv, "argv differs");
}

Test(argv, cap_truncates_and_says_so) {
    Child kid = Child::exec_idle({"idle_child", std::string(500, 'x'), "tail"});
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.argv_cap_bytes = 100;
    Ctx c(&o);
    Snap snap(c.ctx);
    const procmon_process *p = expect_pid(snap, kid.pid());
    cr_expect(p->flags & PROCMON_PROC_ARGV_TRUNCATED);
    cr_expect_eq(p->argv_len, 100u);
    cr_expect_eq(p->argv[99], '\0');
    std::vector<std::string> got = argv_of(*p);
    cr_assert_eq(got.size(), 2u);
    cr_expect_str_eq(got[0].c_str(), "idle_child");
    cr_expect_eq(got[1], std::string(100 - 11 - 1, 'x'));
}

Test(states, zombie_is_reported_and_flagged) {
    Child kid = Child::fork_with([](int) { _exit(3); });
    cr_assert(wait_for_state(kid.pid(), 'Z'), "child never became a zombie");
    Ctx c;
    Snap snap(c.ctx);
    const procmon_process *p = expect_pid(snap, kid.pid());
    cr_expect_eq(p->state, 'Z');
    cr_expect(p->flags & PROCMON_PROC_ZOMBIE);
    cr_expect_eq(p->valid & (PROCMON_FIELD_EXE | PROCMON_FIELD_ARGV), 0u, "a zombie's exe and argv are gone");
    int status = kid.reap();
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 3);
}

Test(states, kernel_threads_are_flagged) {
    std::string comm = read_text("/proc/2/comm");
    if (comm != "kthreadd\n") cr_skip_test("no kthreadd at pid 2 (container?)");
    Ctx c;
    Snap snap(c.ctx);
    const procmon_process *p = expect_pid(snap, 2);
    cr_expect(p->flags & PROCMON_PROC_KTHREAD);
    cr_expect_eq(p->argc, 0u);
    cr_expect_str_eq(p->exe, "");
    const procmon_process *self = expect_pid(snap, getpid());
    cr_expect_eq(self->flags & PROCMON_PROC_KTHREAD, 0u);
}

Test(states, fifty_threads_are_counted) {
    Child kid = Child::fork_with([](int) {
        for (int i = 0; i < 49; ++i) {
            pthread_t t;
            pthread_create(&t, nullptr, [](void *) -> void * { pause(); return nullptr; }, nullptr);
        }
    });
    Ctx c;
    Snap snap(c.ctx);
    cr_expect_eq(expect_pid(snap, kid.pid())->threads, 50u);
    // threads are not processes: none of the 49 other tids is listed
    std::string task = "/proc/" + std::to_string(kid.pid()) + "/task";
    int tids = 0;
    if (DIR *d = opendir(task.c_str())) {
        while (dirent *e = readdir(d)) {
            int tid = std::atoi(e->d_name);
            if (tid <= 0 || tid == kid.pid()) continue;
            ++tids;
            cr_expect_null(snap.find(tid), "thread %d listed as a process", tid);
        }
        closedir(d);
    }
    cr_expect_eq(tids, 49);
}

Test(ids, setuid_child_reports_real_effective_and_saved_ids) {
    if (geteuid() != 0) cr_skip_test("needs root to change ids");
    Child kid = Child::fork_with([](int control) {
        char b;
        Child::signal_ready();
        if (read(control, &b, 1) != 1) _exit(1);  // wait: the parent caches our root ids first
        if (setresgid(2001, 2002, 2003) != 0 || setresuid(1001, 1002, 1003) != 0) _exit(1);
        while (read(control, &b, 1) > 0) {
        }
        _exit(0);
    });
    Ctx c;
    {
        Snap before(c.ctx);
        cr_expect_eq(expect_pid(before, kid.pid())->euid, 0u);
    }
    kid.send('x');
    // wait until the change is visible in /proc
    for (int i = 0; i < 500 && read_text("/proc/" + std::to_string(kid.pid()) + "/status").find("Uid:\t1001") == std::string::npos; ++i)
        usleep(2000);

    procmon_query refresh = PROCMON_QUERY_INIT;
    refresh.flags = PROCMON_QUERY_REFRESH;
    Snap after(c.ctx, &refresh);
    const procmon_process *p = expect_pid(after, kid.pid());
    cr_expect_eq(p->uid, 1001u);
    cr_expect_eq(p->euid, 1002u);
    cr_expect_eq(p->suid, 1003u);
    cr_expect_eq(p->gid, 2001u);
    cr_expect_eq(p->egid, 2002u);
    cr_expect_eq(p->sgid, 2003u);

    Ctx fresh;  // a new context reads them anew too
    Snap again(fresh.ctx);
    cr_expect_eq(expect_pid(again, kid.pid())->euid, 1002u);

    procmon_query by_uid = PROCMON_QUERY_INIT;
    by_uid.uid = 1002;
    Snap filtered(fresh.ctx, &by_uid);
    cr_expect_not_null(filtered.find(kid.pid()));
    cr_expect_null(filtered.find(getpid()));
}

Test(cache, exec_after_caching_is_noticed_without_refresh) {
    // A forked child is cached with our argv, then execs idle_child.
    Child kid = Child::fork_with([](int control) {
        char b;
        Child::signal_ready();
        if (read(control, &b, 1) != 1) _exit(1);
        dup2(control, 0);
        char a0[] = "idle_child", a1[] = "after-exec";
        char *argv[] = {a0, a1, nullptr};
        execv(PROCMON_TEST_IDLE_CHILD, argv);
        _exit(127);
    });
    Ctx c;
    {
        Snap before(c.ctx);
        const std::string exe = self_exe();
        cr_expect_str_eq(expect_pid(before, kid.pid())->exe, exe.c_str());
    }
    kid.send('x');
    for (int i = 0; i < 500 && read_text("/proc/" + std::to_string(kid.pid()) + "/cmdline").find("after-exec") == std::string::npos; ++i)
        usleep(2000);
    Snap after(c.ctx);
    const procmon_process *p = expect_pid(after, kid.pid());
    cr_expect_str_eq(p->exe, PROCMON_TEST_IDLE_CHILD);
    std::vector<std::string> want = {"idle_child", "after-exec"};
    cr_expect(argv_of(*p) == want, "argv still the cached one: %s", p->argv);
    cr_expect_str_eq(p->name, "idle_child");
}

Test(cache, warm_enumeration_serves_static_facts_from_cache) {
    Ctx c;
    { Snap a(c.ctx); }
    procmon_stats before{};
    before.size = sizeof before;
    cr_assert_eq(procmon_stats_get(&before, c.ctx), PROCMON_OK);
    Snap b(c.ctx);
    procmon_stats after{};
    after.size = sizeof after;
    cr_assert_eq(procmon_stats_get(&after, c.ctx), PROCMON_OK);
    cr_expect_gt(after.cache_hits - before.cache_hits, (after.cache_misses - before.cache_misses) * 4,
                 "hits %llu misses %llu", static_cast<unsigned long long>(after.cache_hits - before.cache_hits),
                 static_cast<unsigned long long>(after.cache_misses - before.cache_misses));
    cr_expect_eq(after.enumerations, 2u);
    cr_expect_geq(after.cache_entries, b.count());
}

Test(cache, policy_none_rereads_every_time) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.cache_policy = PROCMON_CACHE_NONE;
    Ctx c(&o);
    { Snap a(c.ctx); }
    { Snap b(c.ctx); }
    procmon_stats s{};
    s.size = sizeof s;
    procmon_stats_get(&s, c.ctx);
    cr_expect_eq(s.cache_hits, 0u);
}

Test(cpu, busy_child_near_one_core_idle_child_near_zero, .timeout = 30) {
    Child busy = Child::fork_with([](int) {
        Child::signal_ready();
        for (;;) asm volatile("");  // spin on one core
    });
    Child idle = Child::exec_idle({"idle_child"});
    Ctx c;
    { Snap first(c.ctx); }
    usleep(500000);
    Snap second(c.ctx);
    const procmon_process *b = expect_pid(second, busy.pid());
    const procmon_process *i = expect_pid(second, idle.pid());
    // One core is 100; the machine is shared, so accept a wide band.
    cr_expect_gt(b->cpu_percent, 30.0, "busy child at %.1f%%", b->cpu_percent);
    cr_expect_leq(b->cpu_percent, 105.0, "busy child at %.1f%%", b->cpu_percent);
    cr_expect_lt(i->cpu_percent, 5.0, "idle child at %.1f%%", i->cpu_percent);
    kill(busy.pid(), SIGKILL);
}

namespace {

// /bin/sh -c SCRIPT TAG, stdin a pipe the caller holds (`read` waits on
// it); returns once the exec happened (the readiness pipe is close-on-exec).
struct Shell {
    pid_t pid = -1;
    int in = -1;
    Shell(const char *script, const char *tag) {
        int ready[2], pipe_in[2];
        if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(pipe_in, O_CLOEXEC) != 0) std::abort();
        pid = fork();
        if (pid == 0) {
            dup2(pipe_in[0], 0);
            execl("/bin/sh", "sh", "-c", script, tag, static_cast<char *>(nullptr));
            _exit(127);
        }
        close(ready[1]);
        close(pipe_in[0]);
        in = pipe_in[1];
        char b;
        while (read(ready[0], &b, 1) > 0 || errno == EINTR) {
        }
        close(ready[0]);
    }
    ~Shell() { end(); }
    void end() {
        if (pid <= 0) return;
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        close(in);
        pid = -1;
    }
};

// Fields 26, 27 (startcode, endcode) and 48, 49 (arg_start, arg_end) of
// /proc/PID/stat: what procmon compares to tell an exec.
std::string exec_addresses(pid_t pid) {
    const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) return "";
    std::vector<std::string> f;  // f[0] is field 3
    std::istringstream in(stat.substr(close + 1));
    for (std::string w; in >> w;) f.push_back(w);
    if (f.size() < 47) return "";
    return f[23] + " " + f[24] + " " + f[45] + " " + f[46];
}

// In a PID namespace of its own (pid_namespace.hpp): a busy shell dies and an
// idle one gets its pid on the first try. The two are alike in all procmon
// looks at to tell an exec (comm "sh", the same binary, and with address
// randomization off the same code and argument addresses: scripts and tags of
// equal length, the same environment), so only the start time tells them
// apart: a cache entry kept across the reuse would show the dead shell's argv
// or carry its CPU time.
std::string reused_pid_in_namespace() {
    Checks check;
    if (personality(ADDR_NO_RANDOMIZE) == -1) return std::string("personality: ") + std::strerror(errno);
    const char *busy_script = "while :; do :; done", *idle_script = "read line; exit 0  ";
    static_assert(sizeof "while :; do :; done" == sizeof "read line; exit 0  ");
    Ctx c;
    if (c.rc != PROCMON_OK) return std::string("procmon_open: ") + procmon_error_last()->message;
    Shell busy(busy_script, "old");
    const pid_t pid = busy.pid;
    usleep(300000);
    uint64_t old_ticks = 0;
    const std::string old_addresses = exec_addresses(pid);
    {
        Snap s(c.ctx);
        const procmon_process *p = s.find(pid);
        if (!check.expect(p != nullptr, "the busy shell (pid %d) is not in the snapshot", pid)) return check.failed;
        old_ticks = p->start_ticks;
        check.expect(argv_of(*p) == std::vector<std::string>{"sh", "-c", busy_script, "old"}, "the busy shell's argv: %s",
                     p->argv);
    }
    busy.end();
    if (!next_pid_is(pid)) return std::string("write ns_last_pid: ") + std::strerror(errno);
    Shell idle(idle_script, "new");
    if (!check.expect(idle.pid == pid, "the idle shell got pid %d, not %d: something else forked in the namespace",
                      idle.pid, pid))
        return check.failed;
    check.expect(exec_addresses(pid) == old_addresses,
                 "the two shells differ in their exec addresses ('%s', then '%s'): the test would not see a kept cache",
                 old_addresses.c_str(), exec_addresses(pid).c_str());
    // CPU time comes in clock ticks (10 ms): a shell a few ms old that was
    // running when one tick fell has a lifetime average of 50% and more
    // (53.2% seen under ASan in CI). Once it waits in read and has lived
    // 300 ms, one tick is 3%, so a high figure can only come from the dead
    // process's counters.
    if (!check.expect(wait_for_state(pid, 'S'), "the idle shell (pid %d) never waited in read", pid)) return check.failed;
    usleep(300000);
    Snap s(c.ctx);
    const procmon_process *p = s.find(pid);
    if (!check.expect(p != nullptr, "the idle shell (pid %d) is not in the snapshot", pid)) return check.failed;
    check.expect(p->start_ticks != old_ticks, "same start time (%llu): cannot tell the two apart",
                 static_cast<unsigned long long>(old_ticks));
    const std::vector<std::string> argv = argv_of(*p), want = {"sh", "-c", idle_script, "new"};
    check.expect(argv == want, "argv at the reused pid is '%s ... %s', not the new shell's: cached from the dead one",
                 argv.size() > 2 ? argv[2].c_str() : "", argv.size() > 3 ? argv[3].c_str() : "");
    check.expect(p->cpu_percent < 20.0, "cpu %.1f%% carried over from the dead process", p->cpu_percent);
    return check.failed;
}

}  // namespace

// PID reuse: procmon must see a new identity, so the CPU percent is the new
// process's alone and what it caches until an exec (argv) is read again.
Test(identity, reused_pid_is_a_new_process, .timeout = 60) {
    test_in_new_pid_namespace(reused_pid_in_namespace);
}

Test(filters, name_glob_uid_and_pid_list) {
    Child a = Child::exec_idle({"idle_child"}, "pm-filter-aaa");
    Child b = Child::exec_idle({"idle_child"}, "pm-filter-bbb");
    Ctx c;
    procmon_query q = PROCMON_QUERY_INIT;
    q.name_glob = "pm-filter-a*";
    Snap by_name(c.ctx, &q);
    cr_expect_eq(by_name.count(), 1u);
    cr_expect_not_null(by_name.find(a.pid()));

    q = PROCMON_QUERY_INIT;
    q.uid = static_cast<int64_t>(geteuid()) + 1;  // nobody of ours
    Snap by_uid(c.ctx, &q);
    cr_expect_null(by_uid.find(a.pid()));
    q.uid = geteuid();
    Snap by_uid2(c.ctx, &q);
    cr_expect_not_null(by_uid2.find(a.pid()));
    for (std::size_t i = 0; i < by_uid2.count(); ++i)
        cr_expect_eq(procmon_snapshot_at(by_uid2.s, i)->euid, geteuid());

    int32_t pids[] = {b.pid(), 2147483000, a.pid(), b.pid()};  // one absent, one twice
    q = PROCMON_QUERY_INIT;
    q.pids = pids;
    q.pid_count = 4;
    Snap by_pid(c.ctx, &q);
    cr_expect_eq(by_pid.count(), 2u);
    cr_expect_not_null(by_pid.find(a.pid()));
    cr_expect_not_null(by_pid.find(b.pid()));

    q = PROCMON_QUERY_INIT;
    q.pids = pids;
    q.pid_count = 4;
    q.name_glob = "*bbb";
    Snap both(c.ctx, &q);
    cr_expect_eq(both.count(), 1u);
    cr_expect_not_null(both.find(b.pid()));
}

Test(filters, field_mask_limits_what_is_read) {
    Ctx c;
    procmon_query q = query_fields(PROCMON_FIELD_BASIC);
    Snap snap(c.ctx, &q);
    const procmon_process *p = expect_pid(snap, getpid());
    cr_expect_eq(p->valid, PROCMON_FIELD_BASIC);
    cr_expect_str_eq(p->exe, "");
    cr_expect_eq(p->argv_len, 0u);
}

// Processes come and go while we enumerate: every record must still be
// internally consistent, and the enumeration must never fail.
Test(churn, records_stay_consistent_while_processes_come_and_go, .timeout = 60) {
    std::atomic<bool> stop{false};
    std::atomic<int> spawned{0};
    std::thread spawner([&] {
        while (!stop) {
            pid_t pid = fork();
            if (pid == 0) {
                prctl(PR_SET_NAME, "pm-churn");
                usleep(static_cast<useconds_t>(getpid() % 3000));
                _exit(0);
            }
            if (pid > 0) {
                ++spawned;
                if (spawned % 4 == 0) waitpid(-1, nullptr, 0);
            }
            while (waitpid(-1, nullptr, WNOHANG) > 0) {
            }
        }
        while (waitpid(-1, nullptr, 0) > 0) {
        }
    });
    Ctx c;
    for (int round = 0; round < 40; ++round) {
        procmon_query q = query_fields(round % 2 ? PROCMON_FIELDS_ALL : PROCMON_FIELDS_DEFAULT);
        Snap snap(c.ctx, &q);
        cr_assert_eq(snap.rc, PROCMON_OK, "round %d: %s", round, procmon_error_last()->message);
        for (std::size_t i = 0; i < snap.count(); ++i) {
            const procmon_process *p = procmon_snapshot_at(snap.s, i);
            cr_assert_gt(p->pid, 0);
            cr_assert(p->valid & PROCMON_FIELD_BASIC);
            cr_assert_eq(p->valid & ~PROCMON_FIELDS_ALL, 0u);
            cr_assert_neq(std::strchr("RSDZTtXxIKWPi", p->state), nullptr, "state %c", p->state);
            cr_assert_geq(p->ppid, 0);
            cr_assert_leq(std::strlen(p->name), 63u);
            if (p->valid & PROCMON_FIELD_ARGV) {
                std::size_t nuls = 0;
                for (std::size_t k = 0; k < p->argv_len; ++k) nuls += p->argv[k] == '\0';
                cr_assert_eq(nuls, p->argc, "pid %d: argc %u but %zu NULs", p->pid, p->argc, nuls);
                cr_assert(p->argv_len == 0 || p->argv[p->argv_len - 1] == '\0');
            }
            if (p->valid & PROCMON_FIELD_CPU) cr_assert(std::isfinite(p->cpu_percent) && p->cpu_percent >= 0);
            if (i > 0) cr_assert_lt(procmon_snapshot_at(snap.s, i - 1)->pid, p->pid);
        }
    }
    stop = true;
    spawner.join();
    cr_expect_gt(spawned.load(), 20, "the churn spawned only %d processes", spawned.load());
}

// What a ps/pgrep user means: the name they see, not the kernel's 15 bytes,
// and the whole command line.
Test(filters, long_names_and_command_lines) {
    Child kid = Child::exec_idle({"/opt/pm/a_very_long_program_name", "--serve", "pm-cmdline-test"}, "a_very_long_pro");
    Ctx c;
    procmon_query q = PROCMON_QUERY_INIT;
    q.name_glob = "a_very_long_program_name";
    Snap by_name(c.ctx, &q);
    cr_assert_eq(by_name.rc, PROCMON_OK);
    const procmon_process *p = by_name.find(kid.pid());
    cr_assert_not_null(p, "the name users see did not match");
    cr_expect_str_eq(p->full_name, "a_very_long_program_name");
    cr_expect_str_eq(p->name, "a_very_long_pro");

    q = PROCMON_QUERY_INIT;
    q.cmdline_glob = "*--serve pm-cmdline-test";
    Snap by_line(c.ctx, &q);
    cr_expect_eq(by_line.count(), 1u);
    cr_expect_not_null(by_line.find(kid.pid()));
}

// Signals keyed on identity: a wrong start time never reaches the process.
Test(signal, reaches_the_identity_and_never_a_successor) {
    Child kid = Child::exec_idle({"idle_child"});
    Ctx c;
    int32_t pid = kid.pid();
    procmon_query q = PROCMON_QUERY_INIT;
    q.pids = &pid;
    q.pid_count = 1;
    Snap s(c.ctx, &q);
    const uint64_t ticks = expect_pid(s, pid)->start_ticks;

    cr_expect_eq(procmon_signal(c.ctx, pid, ticks + 1, SIGTERM), PROCMON_ENOENT);
    cr_expect(std::strstr(procmon_error_last()->message, "another process") != nullptr, "%s",
              procmon_error_last()->message);
    cr_expect_eq(procmon_signal(c.ctx, pid, ticks, 0), PROCMON_OK, "still there");
    cr_expect_eq(kill(pid, 0), 0, "the wrong identity was signalled");

    cr_assert_eq(procmon_signal(c.ctx, pid, ticks, SIGTERM), PROCMON_OK, "%s", procmon_error_last()->message);
    const int status = kid.reap();
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "status 0x%x", status);
    cr_expect_eq(procmon_signal(c.ctx, pid, ticks, SIGTERM), PROCMON_ENOENT, "gone");

    cr_expect_eq(procmon_signal(c.ctx, 0, ticks, SIGTERM), PROCMON_EINVAL);
    cr_expect_eq(procmon_signal(c.ctx, pid, ticks, 65), PROCMON_EINVAL);
    cr_expect_eq(procmon_signal(c.ctx, pid, ticks, -1), PROCMON_EINVAL);
    cr_expect_eq(procmon_signal(nullptr, pid, ticks, 0), PROCMON_EINVAL);
}

Test(system, totals_agree_with_meminfo) {
    Ctx c;
    procmon_system sys{};
    sys.size = sizeof sys;
    cr_assert_eq(procmon_system_get(&sys, c.ctx), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_gt(sys.mem_total_bytes, 0u);
    cr_expect_leq(sys.mem_available_bytes, sys.mem_total_bytes);
    cr_expect_eq(sys.mem_used_bytes, sys.mem_total_bytes - sys.mem_available_bytes);
    cr_expect_eq(sys.cpus, static_cast<uint32_t>(sysconf(_SC_NPROCESSORS_ONLN)));
    cr_expect_gt(sys.processes, 1u);
    const uint64_t now_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                      std::chrono::system_clock::now().time_since_epoch())
                                                      .count());
    cr_expect(sys.boot_time_ns > 0 && sys.boot_time_ns < now_ns);
    // RSS summed over processes counts shared pages again and again; the
    // machine's use does not: a record's mem_percent is its rss over the total.
    Snap s(c.ctx);
    const procmon_process *me = expect_pid(s, getpid());
    cr_expect(std::fabs(me->mem_percent - 100.0 * static_cast<double>(me->rss_bytes) /
                                              static_cast<double>(sys.mem_total_bytes)) < 1e-6);
}

// /proc/<tid> exists for every thread and reads like a process: a listed
// thread id is not one (psutil's pid_exists(tid) is False).
Test(filters, a_thread_id_is_not_a_process) {
    std::atomic<bool> stop{false};
    std::atomic<pid_t> tid{0};
    std::thread t([&] {
        tid = static_cast<pid_t>(syscall(SYS_gettid));
        while (!stop) usleep(1000);
    });
    while (tid == 0) usleep(1000);
    Ctx c;
    int32_t ids[] = {static_cast<int32_t>(tid), static_cast<int32_t>(getpid())};
    procmon_query q = PROCMON_QUERY_INIT;
    q.pids = ids;
    q.pid_count = 2;
    Snap s(c.ctx, &q);
    stop = true;
    t.join();
    cr_assert_eq(s.rc, PROCMON_OK);
    cr_expect_eq(s.count(), 1u, "a thread id came back as a process");
    cr_expect_not_null(s.find(getpid()));
}
