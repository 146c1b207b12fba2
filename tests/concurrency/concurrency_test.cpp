// What runs on more than one thread, through the C ABI: reader threads inside
// one enumeration, contexts on several threads, the event collector against
// subscribers that wait, unsubscribe, close and read stats from other threads.
//
// cmocka, not Criterion: Criterion cannot start under ThreadSanitizer
// (Snaipe/Criterion#274, "Could not initialize inheritable arena"), and these
// are the tests the TSan build exists for.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" {  // cmocka.h declares only part of its API as C
#include <cmocka.h>
}

#include "procmon.h"
#include "procmon_raii.hpp"

namespace {

// What procmon reports as `cgroup` for a /proc/<pid>/cgroup text: the v2
// path ("0::/x" -> "/x"), else the v1 lines joined by ';'.
std::string expected_cgroup(const std::string &file) {
    std::string joined;
    std::size_t at = 0;
    while (at < file.size()) {
        std::size_t eol = file.find('\n', at);
        if (eol == std::string::npos) eol = file.size();
        std::string line = file.substr(at, eol - at);
        if (line.compare(0, 3, "0::") == 0) return line.substr(3);
        if (!line.empty()) joined += (joined.empty() ? "" : ";") + line;
        at = eol + 1;
    }
    return joined;
}

// Cgroups made for the test in the first writable hierarchy (root only),
// removed again once empty. Without one the children share their cgroup and
// the test still checks every record, with less variety.
struct TestCgroups {
    std::vector<std::string> dirs;
    explicit TestCgroups(int n) {
        // cgroup v2 first: where a process has a v2 path, that is what procmon reports
        for (const char *wanted : {"cgroup2", "cgroup"}) {
            FILE *mounts = std::fopen("/proc/self/mounts", "re");
            if (mounts == nullptr) return;
            char dev[256], dir[512], type[64];
            while (dirs.empty() && std::fscanf(mounts, "%255s %511s %63s %*[^\n]", dev, dir, type) == 3) {
                if (std::strcmp(type, wanted) != 0) continue;
                for (int i = 0; i < n; ++i) {
                    std::string d = std::string(dir) + "/procmon-test-" + std::to_string(getpid()) + "-" + std::to_string(i);
                    if (mkdir(d.c_str(), 0755) != 0) break;
                    dirs.push_back(d);
                }
                if (static_cast<int>(dirs.size()) < n) remove_all();
            }
            std::fclose(mounts);
            if (!dirs.empty()) return;
        }
    }
    ~TestCgroups() { remove_all(); }
    void remove_all() {
        for (const std::string &d : dirs) rmdir(d.c_str());
        dirs.clear();
    }
    // In a child: move this process into cgroup i.
    void join(std::size_t i) const {
        if (dirs.empty()) return;
        std::string procs = dirs[i % dirs.size()] + "/cgroup.procs";
        int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return;
        std::string pid = std::to_string(getpid());
        if (write(fd, pid.data(), pid.size()) < 0) {
        }
        close(fd);
    }
};

// n children that each run `setup` (in the child), say so on a pipe, then
// wait for the release pipe to close. The destructor releases and reaps all.
struct Crowd {
    std::vector<pid_t> pids;
    int release_fd = -1;
    template <class Setup>
    Crowd(std::size_t n, Setup setup) {
        int release[2], ready[2];
        assert_int_equal(pipe2(release, O_CLOEXEC), 0);
        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        for (std::size_t i = 0; i < n; ++i) {
            pid_t pid = fork();
            assert_true(pid >= 0);
            if (pid == 0) {
                close(release[1]);
                close(ready[0]);
                setup(i);
                char b = 1;
                if (write(ready[1], &b, 1) != 1) _exit(1);
                close(ready[1]);
                while (read(release[0], &b, 1) != 0) {
                }
                _exit(0);
            }
            pids.push_back(pid);
        }
        close(release[0]);
        close(ready[1]);
        release_fd = release[1];
        char b;
        for (std::size_t seen = 0; seen < n;)
            if (read(ready[0], &b, 1) == 1) ++seen;
        close(ready[0]);
    }
    ~Crowd() {
        close(release_fd);
        for (pid_t pid : pids) waitpid(pid, nullptr, 0);
    }
};

procmon_ctx *open_ctx(unsigned threads, uint32_t source = PROCMON_SOURCE_AUTO) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.threads = threads;
    o.event_source = source;
    o.poll_interval_ms = 20;
    procmon_ctx *ctx = nullptr;
    int rc = procmon_open(&ctx, &o);
    if (rc != PROCMON_OK) std::fprintf(stderr, "procmon_open: %s\n", procmon_error_last()->message);
    assert_int_equal(rc, PROCMON_OK);
    return ctx;
}

// Every record of a child must carry its own cgroup, read by whichever
// reader thread had its slice (the cgroup buffer was once shared by them).
// Returns what went wrong, "" if nothing: cmocka's failures longjmp, so they
// come after the children and cgroups are cleaned up.
std::string cgroups_on_threads(unsigned threads) {
    TestCgroups groups(8);
    Crowd crowd(1100, [&](std::size_t i) { groups.join(i); });  // 4 readers want 4 x 256 processes
    std::map<pid_t, std::string> expected;
    for (pid_t pid : crowd.pids) expected[pid] = expected_cgroup(read_text("/proc/" + std::to_string(pid) + "/cgroup"));

    procmon_ctx *ctx = open_ctx(threads);
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = PROCMON_FIELD_CGROUP;
    std::size_t checked = 0, wrong = 0;
    std::string first_wrong;
    for (int round = 0; round < 40 && first_wrong.empty(); ++round) {
        procmon_snapshot *snap = nullptr;
        if (procmon_enumerate(&snap, ctx, &q) != PROCMON_OK) {
            first_wrong = std::string("enumerate: ") + procmon_error_last()->message;
            break;
        }
        for (const auto &[pid, want] : expected) {
            const procmon_process *p = procmon_snapshot_find(snap, pid);
            ++checked;
            const char *got = p == nullptr ? "(no record)" : !(p->valid & PROCMON_FIELD_CGROUP) ? "(not read)" : p->cgroup;
            if (want != got && wrong++ == 0) first_wrong = "pid " + std::to_string(pid) + ": '" + got + "', not '" + want + "'";
        }
        procmon_snapshot_free(snap);
    }
    procmon_close(ctx);
    if (wrong == 0) return "";
    return std::to_string(wrong) + " of " + std::to_string(checked) + " records carry another cgroup (" +
           std::to_string(threads) + " threads, " + std::to_string(groups.dirs.size()) + " test cgroups); first: " + first_wrong;
}

void check_cgroups_on_threads(unsigned threads) {
    const std::string wrong = cgroups_on_threads(threads);
    if (!wrong.empty()) fail_msg("%s", wrong.c_str());
}

void cgroup_of_every_record_is_its_own_with_two_readers(void **) { check_cgroups_on_threads(2); }
void cgroup_of_every_record_is_its_own_with_four_readers(void **) { check_cgroups_on_threads(4); }

// Contexts are independent: four threads enumerate on four contexts at once,
// and snapshots are freed on a thread other than the one that took them.
void contexts_on_four_threads_and_snapshots_freed_elsewhere(void **) {
    Crowd crowd(600, [](std::size_t) {});
    std::vector<procmon_snapshot *> taken(4 * 10, nullptr);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            procmon_ctx *ctx = open_ctx(t % 2 ? 2 : 0);
            for (int round = 0; round < 10; ++round) {
                procmon_query q = PROCMON_QUERY_INIT;
                q.fields = round % 2 ? PROCMON_FIELDS_ALL : PROCMON_FIELDS_DEFAULT;
                if (procmon_enumerate(&taken[static_cast<std::size_t>(t * 10 + round)], ctx, &q) != PROCMON_OK) ++failures;
            }
            procmon_close(ctx);  // the snapshots outlive it
        });
    for (auto &th : threads) th.join();
    assert_int_equal(failures.load(), 0);
    std::thread freer([&] {
        for (procmon_snapshot *s : taken) {
            for (pid_t pid : crowd.pids) assert_non_null(procmon_snapshot_find(s, pid));
            procmon_snapshot_free(s);
        }
    });
    freer.join();
}

// The collector pushes while a subscriber thread waits and drains, a third
// thread reads both kinds of stats, and the main thread forks.
void collector_subscriber_and_stats_threads_agree(void **) {
    procmon_ctx *ctx = open_ctx(0);
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    so.descendants_of = getpid();
    so.events = PROCMON_EVENT_START | PROCMON_EVENT_EXIT;
    procmon_subscription *sub = nullptr;
    assert_int_equal(procmon_subscribe(&sub, ctx, &so), PROCMON_OK);

    constexpr int kChildren = 200;
    std::atomic<int> exits{0};
    std::atomic<bool> done{false};
    std::thread subscriber([&] {
        procmon_event evs[64];
        while (exits.load() < kChildren) {
            size_t n = 0;
            if (procmon_subscription_next(sub, evs, sizeof evs[0], 64, &n, 100) != PROCMON_OK) return;
            for (size_t i = 0; i < n; ++i) exits += evs[i].type == PROCMON_EVENT_EXIT;
        }
    });
    std::thread reader([&] {
        while (!done) {
            procmon_subscription_stats ss{};
            ss.size = sizeof ss;
            procmon_subscription_stats_get(&ss, sub);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    for (int i = 0; i < kChildren; ++i) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        waitpid(pid, nullptr, 0);
    }
    for (int waited = 0; exits.load() < kChildren && waited < 10000; waited += 10)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int seen = exits.load();
    done = true;
    reader.join();
    procmon_unsubscribe(sub);  // also ends the subscriber's wait if it still waits
    subscriber.join();
    procmon_close(ctx);
    assert_int_equal(seen, kChildren);
}

// Unsubscribe and close from one thread while another waits in next: the
// wait ends with ECLOSED, on the connector and on polling.
void waits_end_when_another_thread_unsubscribes_or_closes(void **) {
    for (uint32_t source : {uint32_t{PROCMON_SOURCE_AUTO}, uint32_t{PROCMON_SOURCE_POLLING}})
        for (bool close_ctx : {false, true}) {
            procmon_ctx *ctx = open_ctx(0, source);
            procmon_subscription *sub = nullptr;
            assert_int_equal(procmon_subscribe(&sub, ctx, nullptr), PROCMON_OK);
            std::atomic<int> rc{1};
            std::thread waiter([&] {
                procmon_event ev;
                size_t n = 0;
                int r;
                do r = procmon_subscription_next(sub, &ev, sizeof ev, 1, &n, -1);
                while (r == PROCMON_OK);
                rc = r;
            });
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (close_ctx) procmon_close(ctx);
            else procmon_unsubscribe(sub);
            waiter.join();
            assert_int_equal(rc.load(), PROCMON_ECLOSED);
            if (close_ctx) procmon_unsubscribe(sub);
            else procmon_close(ctx);
        }
}

// Subscriptions come and go on two threads while processes start: the
// collector starts and stops under them without a race or a lost wake-up.
void subscribe_and_unsubscribe_race_the_collector(void **) {
    procmon_ctx *ctx = open_ctx(0);
    std::mutex ctx_mutex;  // subscribe is one thread at a time per context
    std::atomic<bool> stop{false};
    std::thread forker([&] {
        while (!stop) {
            pid_t pid = fork();
            if (pid == 0) _exit(0);
            waitpid(pid, nullptr, 0);
        }
    });
    std::vector<std::thread> churn;
    std::atomic<int> failures{0};
    for (int t = 0; t < 2; ++t)
        churn.emplace_back([&] {
            for (int i = 0; i < 20; ++i) {
                procmon_subscription *sub = nullptr;
                {
                    std::lock_guard<std::mutex> lock(ctx_mutex);
                    if (procmon_subscribe(&sub, ctx, nullptr) != PROCMON_OK) {
                        ++failures;
                        continue;
                    }
                }
                procmon_event evs[16];
                size_t n = 0;
                if (procmon_subscription_next(sub, evs, sizeof evs[0], 16, &n, 5) != PROCMON_OK) ++failures;
                procmon_unsubscribe(sub);  // any thread, no lock needed
            }
        });
    for (auto &th : churn) th.join();
    stop = true;
    forker.join();
    procmon_close(ctx);
    assert_int_equal(failures.load(), 0);
}

// What went wrong on other threads, each failure with what it saw (a bare
// count once failed under load without saying which check fired). Thread-safe;
// keeps the first few messages and counts the rest.
struct Failures {
    std::mutex m;
    std::vector<std::string> first;
    int count = 0;
    void add(const char *fmt, ...) __attribute__((format(printf, 2, 3))) {
        char text[512];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        std::lock_guard<std::mutex> lock(m);
        if (count++ < 8) first.push_back(text);
    }
    // "" when there were none, else every kept message on its own line
    std::string report() {
        std::lock_guard<std::mutex> lock(m);
        if (count == 0) return "";
        std::string out = std::to_string(count) + " failure(s):";
        for (const std::string &f : first) out += "\n  " + f;
        if (count > static_cast<int>(first.size())) out += "\n  ...";
        return out;
    }
};

// The journal: four threads append, one syncs, one reads stats, one reader
// follows, and a context records its own events into the same journal.
// Every appended event comes back once, each thread's in its own order.
void journal_writer_with_appenders_syncs_stats_and_a_follower(void **) {
    char tmpl[] = "/tmp/procmon-jconc-XXXXXX";
    const std::string dir = std::string(mkdtemp(tmpl)) + "/j";
    procmon_ctx *ctx = nullptr;
    assert_int_equal(procmon_open(&ctx, nullptr), PROCMON_OK);
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.segment_bytes = PROCMON_JOURNAL_SEGMENT_MIN;
    o.fsync = PROCMON_FSYNC_INTERVAL;
    o.fsync_interval_ms = 5;
    o.queue_capacity = 64;  // appenders wait for room
    procmon_journal *j = nullptr;
    assert_int_equal(procmon_journal_open(&j, ctx, dir.c_str(), &o), PROCMON_OK);
    constexpr int kThreads = 4, kEach = 3000;
    std::atomic<bool> done{false};
    Failures failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; i += 10) {
                procmon_event evs[10] = {};
                for (int k = 0; k < 10; ++k) {
                    evs[k].size = sizeof evs[k];
                    evs[k].type = PROCMON_EVENT_EXEC;
                    evs[k].pid = -(t + 1);  // not a real process: the thread
                    evs[k].start_ticks = static_cast<uint64_t>(i + k);
                    evs[k].name = "appended";
                }
                if (int rc = procmon_journal_append(j, evs, sizeof evs[0], 10); rc != PROCMON_OK)
                    failures.add("append (thread %d, event %d): %d %s", t, i, rc, procmon_error_last()->message);
            }
        });
    // A sync waits for the writer's next pass. On a loaded machine (a shared
    // CI runner, sanitizers) that pass can take seconds, so the bound is
    // generous: the check is that syncs succeed, not how fast.
    std::thread syncer([&] {
        while (!done) {
            const auto t0 = std::chrono::steady_clock::now();
            if (int rc = procmon_journal_sync(j, 5000, nullptr); rc != PROCMON_OK)
                failures.add("sync: %d %s (after %lld ms)", rc, procmon_error_last()->message,
                             static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        std::chrono::steady_clock::now() - t0)
                                                        .count()));
        }
    });
    std::thread stats([&] {
        while (!done) {
            procmon_journal_stats s{};
            s.size = sizeof s;
            if (int rc = procmon_journal_stats_get(&s, j); rc != PROCMON_OK)
                failures.add("stats_get: %d %s", rc, procmon_error_last()->message);
            else if (s.durable_seq >= s.next_seq)
                failures.add("stats: durable_seq %llu >= next_seq %llu (records %llu, commits %llu, fsyncs %llu)",
                             static_cast<unsigned long long>(s.durable_seq), static_cast<unsigned long long>(s.next_seq),
                             static_cast<unsigned long long>(s.records), static_cast<unsigned long long>(s.commits),
                             static_cast<unsigned long long>(s.fsyncs));
        }
    });
    std::map<int32_t, uint64_t> next_of;  // per appender thread: the next start_ticks
    int seen = 0;
    std::thread follower([&] {
        procmon_journal_reader *r = nullptr;
        if (int rc = procmon_journal_reader_open(&r, dir.c_str(), nullptr); rc != PROCMON_OK) {
            failures.add("reader_open: %d %s", rc, procmon_error_last()->message);
            return;
        }
        procmon_event batch[64];
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (seen < kThreads * kEach && std::chrono::steady_clock::now() < give_up) {
            size_t n = 0;
            if (int rc = procmon_journal_reader_next(r, batch, sizeof batch[0], 64, &n, 100); rc != PROCMON_OK)
                failures.add("reader_next: %d %s", rc, procmon_error_last()->message);
            for (size_t i = 0; i < n; ++i) {
                if (batch[i].pid >= 0 || batch[i].type == PROCMON_EVENT_LOST) continue;  // the context's own
                const uint64_t want = next_of[batch[i].pid]++;
                if (batch[i].start_ticks != want)
                    failures.add("follower: thread %d's event %llu where %llu was next (seq %llu)", -batch[i].pid - 1,
                                 static_cast<unsigned long long>(batch[i].start_ticks),
                                 static_cast<unsigned long long>(want), static_cast<unsigned long long>(batch[i].seq));
                ++seen;
            }
        }
        procmon_journal_reader_close(r);
    });
    pid_t kid = fork();  // the context's events land in the same journal
    if (kid == 0) _exit(0);
    waitpid(kid, nullptr, 0);
    for (auto &t : threads) t.join();
    follower.join();
    done = true;
    syncer.join();
    stats.join();
    assert_int_equal(procmon_journal_close(j), PROCMON_OK);
    procmon_close(ctx);
    std::string rm = "rm -rf " + dir.substr(0, dir.size() - 2);
    assert_int_equal(std::system(rm.c_str()), 0);
    static char what[8192];  // fail_msg longjmps: nothing on the heap may be left behind
    std::snprintf(what, sizeof what, "%s", failures.report().c_str());
    if (what[0] != '\0') fail_msg("%s", what);
    assert_int_equal(seen, kThreads * kEach);
}

}  // namespace

// Usage: concurrency_test [PATTERN]  (only the tests matching the glob
// PATTERN: to run one many times, e.g. beside CPU hogs)
int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cgroup_of_every_record_is_its_own_with_two_readers),
        cmocka_unit_test(cgroup_of_every_record_is_its_own_with_four_readers),
        cmocka_unit_test(contexts_on_four_threads_and_snapshots_freed_elsewhere),
        cmocka_unit_test(collector_subscriber_and_stats_threads_agree),
        cmocka_unit_test(waits_end_when_another_thread_unsubscribes_or_closes),
        cmocka_unit_test(subscribe_and_unsubscribe_race_the_collector),
        cmocka_unit_test(journal_writer_with_appenders_syncs_stats_and_a_follower),
    };
    return cmocka_run_group_tests_name("concurrency", tests, nullptr, nullptr);
}
