// A client resumes a subscription across a daemon killed with SIGKILL and
// started again: its subscription stays open through the kill, with events
// still unread in it; it drains them until procmon_subscription_next says
// ECLOSED and where to resume, and resumes from its last seq + 1 on the new
// daemon. It receives every event the daemon journaled exactly once (no
// gap, no duplicate), with the daemon's sequence numbers, and the same
// events a local recording of this machine saw while the daemon ran.
//
// The real procmond runs as a plain process (no systemd here), started and
// killed by pid. Through the public C ABI only: a remote context is opened
// with procmon_options.endpoint, exactly as any program would.
// Usage: daemon_resume_test PROCMOND
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "procmon.h"
#include "procmond_process.hpp"

namespace {

int failures = 0;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
            std::fprintf(stderr, __VA_ARGS__);                                             \
            std::fprintf(stderr, "\n");                                                    \
            ++failures;                                                                    \
        }                                                                                  \
    } while (0)

using Clock = std::chrono::steady_clock;

std::string last_error() {
    const procmon_error *e = procmon_error_last();
    return std::string(procmon_strerror(e->code)) + ": " + e->message;
}

[[noreturn]] void die(const std::string &what) {
    std::fprintf(stderr, "FATAL: %s\n", what.c_str());
    std::exit(2);
}

struct Daemon {
    std::string binary, config, log;
    pid_t pid = -1;

    void start() {
        pid = procmon_test::start_procmond(binary, {"--config", config}, log);
        if (pid < 0) die("fork");
    }
    void kill_hard() {
        if (pid <= 0) return;
        procmon_test::stop_procmond(pid, SIGKILL);
        pid = -1;
    }
    void stop() {
        if (pid <= 0) return;
        const int status = procmon_test::stop_procmond(pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "procmond exited with status 0x%x on SIGTERM", status);
        pid = -1;
    }
    ~Daemon() { kill_hard(); }
};

// Opens a context on the daemon at `socket`, waiting up to 15 s for it to listen.
procmon_ctx *connect(const std::string &socket) {
    procmon_ctx *ctx = procmon_test::connect_procmond(socket, 15000);
    if (ctx == nullptr) die("procmond did not answer at " + socket + ": " + last_error());
    return ctx;
}

// Our children's events: the identity we compare on.
using Seen = std::tuple<uint32_t, int32_t, int32_t>;  // type, pid, exit code (EXIT only)

Seen seen_of(const procmon_event &e) {
    return {e.type, e.pid, e.type == PROCMON_EVENT_EXIT ? e.exit_code : 0};
}

procmon_subscription *subscribe(procmon_ctx *ctx, uint64_t from_seq) {
    procmon_subscribe_options o;
    procmon_subscribe_options_init(&o, PROCMON_SUBSCRIBE_VERSION);
    o.descendants_of = static_cast<int32_t>(getpid());
    o.queue_capacity = 65536;
    o.from_seq = from_seq;
    procmon_subscription *s = nullptr;
    if (procmon_subscribe(&s, ctx, &o) != PROCMON_OK) die("subscribe: " + last_error());
    return s;
}

// Children that exec /bin/sh -c 'exit 3' and are reaped: a START, an EXEC
// and an EXIT with code 3 each.
std::set<int32_t> spawn(int n) {
    std::set<int32_t> pids;
    for (int i = 0; i < n; ++i) {
        const pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", "exit 3", static_cast<char *>(nullptr));
            _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        pids.insert(pid);
    }
    return pids;
}

// Takes events from s until `want` events of `pids` arrived or 30 s pass.
// Returns everything taken (also LOST and others' events).
std::vector<procmon_event> take(procmon_subscription *s, const std::set<int32_t> &pids, size_t want,
                                std::vector<Seen> &ours) {
    std::vector<procmon_event> all;
    size_t got = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    procmon_event batch[256];
    while (got < want && Clock::now() < deadline) {
        size_t n = 0;
        // No more than are still wanted: what next hands out is gone from s,
        // and the rest must stay in it for what the caller does next.
        const size_t room = std::min<size_t>(256, want - got);
        const int rc = procmon_subscription_next(s, batch, sizeof batch[0], room, &n, 200);
        if (rc != PROCMON_OK) die("next: " + last_error());
        for (size_t i = 0; i < n; ++i) {
            procmon_event e = batch[i];
            e.name = e.exe = e.argv = e.full_name = nullptr;  // not kept past the next call
            all.push_back(e);
            if (pids.count(e.pid) != 0 && e.type != PROCMON_EVENT_LOST) {
                ours.push_back(seen_of(e));
                ++got;
            }
        }
    }
    return all;
}

// Takes what is left in s, whose daemon is gone, until next returns
// ECLOSED (at most 30 s): its message is `closed_why`.
std::vector<procmon_event> drain_closed(procmon_subscription *s, const std::set<int32_t> &pids, std::vector<Seen> &ours,
                                        std::string &closed_why) {
    std::vector<procmon_event> all;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    procmon_event batch[256];
    while (Clock::now() < deadline) {
        size_t n = 0;
        const int rc = procmon_subscription_next(s, batch, sizeof batch[0], 256, &n, 200);
        for (size_t i = 0; i < n; ++i) {
            procmon_event e = batch[i];
            e.name = e.exe = e.argv = e.full_name = nullptr;
            all.push_back(e);
            if (pids.count(e.pid) != 0 && e.type != PROCMON_EVENT_LOST) ours.push_back(seen_of(e));
        }
        if (rc == PROCMON_ECLOSED) {
            closed_why = procmon_error_last()->message;
            return all;
        }
        if (rc != PROCMON_OK) die("next after the kill: " + last_error());
    }
    die("the subscription did not close within 30 s of its daemon's SIGKILL");
}

// Waits until the daemon's pipeline is live: a child's three events reach s.
void prime(procmon_subscription *s) {
    std::vector<Seen> seen;
    const std::set<int32_t> probe = spawn(1);
    take(s, probe, 3, seen);
    if (seen.size() != 3) die("the daemon's event pipeline did not come up within 30 s");
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) die("usage: daemon_resume_test PROCMOND");
    if (geteuid() != 0) {
        std::printf("daemon_resume: SKIP: needs root (the daemon reads every process and the netlink connector)\n");
        return 77;
    }
    char tmpl[] = "/tmp/procmon-resume-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) die("mkdtemp");
    const std::string dir = tmpl;
    const std::string socket = dir + "/procmond.sock", journal = dir + "/journal";
    Daemon d{argv[1], dir + "/procmond.toml", dir + "/procmond.log"};
    std::ofstream(d.config) << "[socket]\npath = \"" << socket << "\"\nmode = \"0600\"\n"
                            << "[journal]\ndir = \"" << journal << "\"\nfsync = \"interval\"\nfsync_interval_ms = 100\n";

    // What this machine saw, recorded locally, for the comparison.
    procmon_ctx *local = nullptr;
    procmon_options lo;
    procmon_options_init(&lo, PROCMON_OPTIONS_VERSION);
    lo.endpoint = "";  // this machine, whatever PROCMON_ENDPOINT says
    if (procmon_open(&local, &lo) != PROCMON_OK) die("local open: " + last_error());
    procmon_subscribe_options so;
    procmon_subscribe_options_init(&so, PROCMON_SUBSCRIBE_VERSION);
    so.descendants_of = static_cast<int32_t>(getpid());
    so.queue_capacity = 65536;
    procmon_subscription *recording = nullptr;
    if (procmon_subscribe(&recording, local, &so) != PROCMON_OK) die("local subscribe: " + last_error());

    d.start();
    procmon_ctx *remote = connect(socket);
    procmon_subscription *first = subscribe(remote, 0);
    prime(first);

    // Phase A, daemon up: 100 children; the client reads half of their
    // events and leaves the rest unread in its subscription, which stays open.
    const std::set<int32_t> a = spawn(100);
    std::vector<Seen> remote_seen;
    std::vector<procmon_event> got1 = take(first, a, 150, remote_seen);
    CHECK(remote_seen.size() == 150, "the first subscription gave %zu of phase A's events, want 150", remote_seen.size());

    // The daemon has journaled all of phase A before it dies: read its
    // journal directly (root may) until the 300 events are there.
    {
        const auto deadline = Clock::now() + std::chrono::seconds(20);
        size_t in_journal = 0;
        while (in_journal < 300 && Clock::now() < deadline) {
            in_journal = 0;
            procmon_journal_reader *r = nullptr;
            if (procmon_journal_reader_open(&r, journal.c_str(), nullptr) != PROCMON_OK) die("reader: " + last_error());
            procmon_event batch[256];
            size_t n = 0;
            while (procmon_journal_reader_next(r, batch, sizeof batch[0], 256, &n, 0) == PROCMON_OK && n > 0)
                for (size_t i = 0; i < n; ++i) in_journal += a.count(batch[i].pid) != 0;
            procmon_journal_reader_close(r);
            if (in_journal < 300) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CHECK(in_journal == 300, "the journal holds %zu of phase A's 300 events", in_journal);
    }
    d.kill_hard();

    // The open subscription hands out what it still holds, then ECLOSED
    // naming where to resume; the client takes that from its last event.
    std::string closed_why;
    const std::vector<procmon_event> rest = drain_closed(first, a, remote_seen, closed_why);
    got1.insert(got1.end(), rest.begin(), rest.end());
    uint64_t last_seq = 0;
    for (const procmon_event &e : got1) {
        CHECK(e.seq > last_seq, "seq %llu after %llu", static_cast<unsigned long long>(e.seq),
              static_cast<unsigned long long>(last_seq));
        last_seq = e.seq;
    }
    const std::string resume_from = "from_seq " + std::to_string(last_seq + 1);
    CHECK(closed_why.find(resume_from) != std::string::npos, "the close says \"%s\": %s", resume_from.c_str(),
          closed_why.c_str());
    std::printf("daemon_resume: %zu of phase A's events before the kill, %zu drained after it; %s\n", size_t{150},
                remote_seen.size() - 150, closed_why.c_str());
    const size_t phase_a_left = 300 - remote_seen.size();
    procmon_unsubscribe(first);
    procmon_close(remote);

    // Phase B, daemon down: nobody can journal these.
    const std::set<int32_t> b = spawn(20);

    // Phase C, a new daemon on the same journal: the client resumes.
    d.start();
    remote = connect(socket);
    procmon_subscription *resumed = subscribe(remote, last_seq + 1);
    {
        // The new daemon is live once a fresh child's events arrive (after
        // the rest of phase A, which the resume brings first).
        procmon_subscription *live = subscribe(remote, 0);
        prime(live);
        procmon_unsubscribe(live);
    }
    const std::set<int32_t> c = spawn(100);
    std::set<int32_t> ac = a;
    ac.insert(c.begin(), c.end());
    std::vector<procmon_event> got2 = take(resumed, ac, phase_a_left + 300, remote_seen);

    // No duplicate, no gap: sequence numbers increase across the two
    // subscriptions, and no LOST came (retention dropped nothing).
    for (const procmon_event &e : got2) {
        CHECK(e.seq > last_seq, "resumed seq %llu is not after %llu: a duplicate",
              static_cast<unsigned long long>(e.seq), static_cast<unsigned long long>(last_seq));
        CHECK(e.type != PROCMON_EVENT_LOST, "a LOST of %llu after a resume", static_cast<unsigned long long>(e.lost));
        last_seq = e.seq;
    }
    CHECK(got2.empty() || got2.front().seq >= 1, "seq starts at 1");

    // The local recording, for the events of phases A and C.
    std::vector<Seen> local_seen;
    {
        std::vector<Seen> ignored;
        std::set<int32_t> abc = ac;
        abc.insert(b.begin(), b.end());
        std::vector<procmon_event> all = take(recording, abc, 3 * abc.size(), ignored);
        for (const procmon_event &e : all)
            if (ac.count(e.pid) != 0 && e.type != PROCMON_EVENT_LOST) local_seen.push_back(seen_of(e));
    }
    std::multiset<Seen> want(local_seen.begin(), local_seen.end()), have(remote_seen.begin(), remote_seen.end());
    CHECK(want.size() == 600, "the local recording saw %zu events of phases A and C, want 600", want.size());
    CHECK(have == want, "the client got %zu events of phases A and C, the local recording %zu: not the same",
          have.size(), want.size());
    size_t exit3 = 0;
    for (const Seen &s : have) exit3 += std::get<0>(s) == PROCMON_EVENT_EXIT && std::get<2>(s) == 3;
    CHECK(exit3 == 200, "%zu EXIT events with code 3, want 200", exit3);
    for (const Seen &s : have)
        CHECK(b.count(std::get<1>(s)) == 0, "an event of pid %d, which ran while no daemon did", std::get<1>(s));

    procmon_unsubscribe(resumed);
    procmon_close(remote);
    d.stop();
    procmon_unsubscribe(recording);
    procmon_close(local);
    if (failures == 0) std::filesystem::remove_all(dir);
    std::printf("daemon_resume: %s (%zu events of ours resumed across a SIGKILL; last seq %llu; logs in %s)\n",
                failures == 0 ? "ok" : "FAILED", remote_seen.size(), static_cast<unsigned long long>(last_seq),
                failures == 0 ? "(removed)" : dir.c_str());
    return failures == 0 ? 0 : 1;
}
