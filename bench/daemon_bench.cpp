// procmond's costs, each against a reference measured in the same run
// (docs/PERFORMANCE.md, "The daemon"): the ticket's "RPC request/response
// latency" and "configuration hot-reload latency", a snapshot through the
// daemon against one in-process, many clients at once, and a fork storm
// with many subscribers, one of which never reads.
//
// Starts the real procmond as a plain process with a temporary config,
// socket and journal, and kills it at the end. Needs root (the daemon
// reads every process; the fork storm wants the netlink connector).
// Usage: daemon_bench PROCMOND [--processes N] [--clients N] [--storm N]
//                               [--subscribers N] [--reloads N] [--seconds S]
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "idle_children.hpp"
#include "procmon.h"
#include "procmond_process.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

pid_t daemon_pid = -1;  // stopped on every way out, also die()

[[noreturn]] void die(const std::string &what) {
    const procmon_error *e = procmon_error_last();
    std::fprintf(stderr, "daemon_bench: %s (%s: %s)\n", what.c_str(), procmon_strerror(e->code), e->message);
    if (daemon_pid > 0) procmon_test::stop_procmond(daemon_pid);
    std::exit(1);
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
    return v[i];
}

// CPU seconds (user + system) and resident bytes of a process, from /proc.
struct Usage {
    double cpu_s = 0;
    uint64_t rss = 0, rss_peak = 0;
};
Usage usage_of(pid_t pid) {
    Usage u;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');
    if (close != std::string::npos) {
        std::istringstream rest(line.substr(close + 2));
        std::string field;
        unsigned long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stoul(field);
            if (i == 15) stime = std::stoul(field);
        }
        u.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) u.rss = std::stoull(line.substr(6)) * 1024;
        if (line.rfind("VmHWM:", 0) == 0) u.rss_peak = std::stoull(line.substr(6)) * 1024;
    }
    return u;
}

struct Daemon {
    std::string binary, dir, config, socket, log;
    uint64_t arena_cap = 256u << 20;
    pid_t pid = -1;

    void write_config(uint32_t poll_interval_ms) const {
        const std::string tmp = config + ".new";
        std::ofstream(tmp) << "[socket]\npath = \"" << socket << "\"\nmode = \"0600\"\n"
                           << "[limits]\nmax_clients = 1024\n"
                           << "[context]\narena_cap_bytes = " << arena_cap << "\npoll_interval_ms = " << poll_interval_ms
                           << "\n[journal]\ndir = \"" << dir << "/journal\"\nfsync = \"interval\"\n";
        std::filesystem::rename(tmp, config);  // as an editor saves: the daemon sees one whole file
    }
    void start() {
        write_config(1000);
        pid = procmon_test::start_procmond(binary, {"--config", config}, log);
        if (pid < 0) die("fork");
        daemon_pid = pid;
    }
    procmon_ctx *connect() const {
        // The client's own queues: 16 subscriptions of 65,536 events.
        procmon_ctx *ctx = procmon_test::connect_procmond(socket, 15000, 1ull << 30);
        if (ctx == nullptr) die("procmond does not answer at " + socket);
        return ctx;
    }
    ~Daemon() {
        if (pid > 0) procmon_test::stop_procmond(pid);
    }
};

procmon_ctx *open_local() {
    procmon_options o;
    procmon_options_init(&o, PROCMON_OPTIONS_VERSION);
    o.endpoint = "";
    procmon_ctx *ctx = nullptr;
    if (procmon_open(&ctx, &o) != PROCMON_OK) die("local procmon_open");
    return ctx;
}

size_t enumerate_once(procmon_ctx *ctx) {
    procmon_snapshot *s = nullptr;
    if (procmon_enumerate(&s, ctx, nullptr) != PROCMON_OK) die("procmon_enumerate");
    const size_t n = procmon_snapshot_count(s);
    procmon_snapshot_free(s);
    return n;
}

uint64_t generation(procmon_ctx *ctx) {
    procmon_daemon_status st{};
    st.size = sizeof st;
    if (procmon_daemon_status_get(&st, ctx) != PROCMON_OK) die("procmon_daemon_status_get");
    return st.config_generation;
}

// -------------------------------------------------------------- parts

void rpc_latency(const Daemon &d, int rounds) {
    procmon_ctx *remote = d.connect();
    procmon_ctx *local = open_local();
    // The smallest request the C ABI sends: the daemon's status.
    std::vector<double> status_us;
    for (int i = 0; i < rounds; ++i) {
        const auto t0 = Clock::now();
        generation(remote);
        status_us.push_back(us_since(t0));
    }
    // A snapshot of every process (default fields), through the daemon and
    // in-process on a warm context, interleaved so both see the same load.
    std::vector<double> remote_us, local_us;
    size_t n_remote = enumerate_once(remote), n_local = enumerate_once(local);  // warm both
    for (int i = 0; i < rounds; ++i) {
        auto t0 = Clock::now();
        n_local = enumerate_once(local);
        local_us.push_back(us_since(t0));
        t0 = Clock::now();
        n_remote = enumerate_once(remote);
        remote_us.push_back(us_since(t0));
    }
    std::printf("rpc: status round trip p50 %.1f us, p99 %.1f us (%d rounds)\n", percentile(status_us, 50),
                percentile(status_us, 99), rounds);
    std::printf("rpc: snapshot of %zu processes: in-process p50 %.0f us p99 %.0f us; via procmond (%zu) p50 %.0f us "
                "p99 %.0f us; ratio p50 %.2fx, p99 %.2fx\n",
                n_local, percentile(local_us, 50), percentile(local_us, 99), n_remote, percentile(remote_us, 50),
                percentile(remote_us, 99), percentile(remote_us, 50) / percentile(local_us, 50),
                percentile(remote_us, 99) / percentile(local_us, 99));
    procmon_close(local);
    procmon_close(remote);
}

void many_clients(const Daemon &d, int clients, double seconds) {
    std::vector<procmon_ctx *> ctxs;
    for (int i = 0; i < clients; ++i) ctxs.push_back(d.connect());
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> snapshots{0};
    const Usage before = usage_of(d.pid);
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (procmon_ctx *ctx : ctxs)
        threads.emplace_back([&, ctx] {
            while (!stop.load(std::memory_order_relaxed)) {
                enumerate_once(ctx);
                snapshots.fetch_add(1, std::memory_order_relaxed);
            }
        });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (std::thread &t : threads) t.join();
    const double wall = us_since(t0) / 1e6;
    const Usage after = usage_of(d.pid);
    std::printf("clients: %d clients snapshotting in a loop for %.1f s: %.0f snapshots/s; procmond used %.0f%% of a "
                "core, RSS %.1f MiB (peak %.1f MiB)\n",
                clients, wall, static_cast<double>(snapshots.load()) / wall, 100 * (after.cpu_s - before.cpu_s) / wall,
                static_cast<double>(after.rss) / (1 << 20), static_cast<double>(after.rss_peak) / (1 << 20));
    for (procmon_ctx *ctx : ctxs) procmon_close(ctx);
}

struct Tally {
    std::map<int32_t, int> starts, execs;
    std::map<int32_t, int32_t> exits;  // pid -> exit code
    uint64_t lost = 0, events = 0;
};

void drain(procmon_subscription *s, Tally &t, const std::atomic<bool> &stop, int idle_ms_after_stop) {
    procmon_event batch[512];
    auto last = Clock::now();
    for (;;) {
        size_t n = 0;
        const int rc = procmon_subscription_next(s, batch, sizeof batch[0], 512, &n, 100);
        if (rc != PROCMON_OK) return;
        if (n > 0) last = Clock::now();
        for (size_t i = 0; i < n; ++i) {
            const procmon_event &e = batch[i];
            ++t.events;
            if (e.type == PROCMON_EVENT_LOST) t.lost += e.lost;
            if (e.type == PROCMON_EVENT_START) ++t.starts[e.pid];
            if (e.type == PROCMON_EVENT_EXEC) ++t.execs[e.pid];
            if (e.type == PROCMON_EVENT_EXIT) t.exits[e.pid] = e.exit_code;
        }
        if (stop.load() && n == 0 && us_since(last) > idle_ms_after_stop * 1000.0) return;
    }
}

void fork_storm(const Daemon &d, int storm, int subscribers) {
    procmon_ctx *remote = d.connect();
    std::vector<procmon_subscription *> subs;
    constexpr uint32_t kStuckCapacity = 1024;
    for (int i = 0; i < subscribers; ++i) {
        procmon_subscribe_options o;
        procmon_subscribe_options_init(&o, PROCMON_SUBSCRIBE_VERSION);
        o.descendants_of = static_cast<int32_t>(getpid());
        // The client's own queue holds what it has not read; the daemon lets
        // it lag as far. The stuck one gets a small one.
        o.queue_capacity = i == 0 ? kStuckCapacity : 65536;
        procmon_subscription *s = nullptr;
        if (procmon_subscribe(&s, remote, &o) != PROCMON_OK) die("subscribe");
        subs.push_back(s);
    }
    std::vector<Tally> tallies(subs.size());
    std::atomic<bool> stop{false};
    std::vector<std::thread> readers;
    for (size_t i = 1; i < subs.size(); ++i) readers.emplace_back([&, i] { drain(subs[i], tallies[i], stop, 3000); });

    std::map<int32_t, int32_t> want_exit;
    const Usage before = usage_of(d.pid);
    const auto t0 = Clock::now();
    for (int i = 0; i < storm; ++i) {
        const int code = i % 200;
        const pid_t pid = fork();
        if (pid == 0) {
            char script[32];
            std::snprintf(script, sizeof script, "exit %d", code);
            execl("/bin/sh", "sh", "-c", script, static_cast<char *>(nullptr));
            _exit(127);
        }
        if (pid < 0) die("fork");
        waitpid(pid, nullptr, 0);
        want_exit[pid] = code;
    }
    const double storm_s = us_since(t0) / 1e6;
    stop = true;
    for (std::thread &t : readers) t.join();
    const Usage after = usage_of(d.pid);
    // The stuck one reads only now: what it kept, and LOST for the rest.
    std::atomic<bool> done{true};
    drain(subs[0], tallies[0], done, 500);

    size_t complete = 0;
    for (size_t i = 1; i < tallies.size(); ++i) {
        const Tally &t = tallies[i];
        bool all = t.lost == 0;
        for (const auto &[pid, code] : want_exit) {
            auto s = t.starts.find(pid), x = t.execs.find(pid);
            auto e = t.exits.find(pid);
            all = all && s != t.starts.end() && s->second == 1 && x != t.execs.end() && x->second == 1 &&
                  e != t.exits.end() && e->second == code;
        }
        complete += all;
    }
    const Tally &stuck = tallies[0];
    const uint64_t want_events = 3ull * static_cast<uint64_t>(storm);
    uint64_t stuck_ours = 0;
    for (const auto &[pid, n] : stuck.starts) stuck_ours += want_exit.count(pid) ? static_cast<uint64_t>(n) : 0;
    for (const auto &[pid, n] : stuck.execs) stuck_ours += want_exit.count(pid) ? static_cast<uint64_t>(n) : 0;
    for (const auto &[pid, code] : stuck.exits) stuck_ours += want_exit.count(pid) ? 1 : 0;
    std::printf("storm: %d processes (START, EXEC, EXIT each) in %.1f s with %d subscribers: %zu of %d healthy "
                "subscribers got every event with its exit code\n",
                storm, storm_s, subscribers, complete, subscribers - 1);
    std::printf("storm: the subscriber that never read got %llu of our events and LOST events counting %llu; "
                "together %llu of %llu (%s)\n",
                static_cast<unsigned long long>(stuck_ours), static_cast<unsigned long long>(stuck.lost),
                static_cast<unsigned long long>(stuck_ours + stuck.lost), static_cast<unsigned long long>(want_events),
                stuck_ours + stuck.lost == want_events ? "exact" : "NOT exact");
    std::printf("storm: procmond used %.2f CPU s (%.0f%% of a core over the storm); RSS %.1f MiB, peak %.1f MiB; "
                "arena cap %.0f MiB\n",
                after.cpu_s - before.cpu_s, 100 * (after.cpu_s - before.cpu_s) / storm_s,
                static_cast<double>(after.rss) / (1 << 20), static_cast<double>(after.rss_peak) / (1 << 20),
                static_cast<double>(d.arena_cap) / (1 << 20));
    for (procmon_subscription *s : subs) procmon_unsubscribe(s);
    procmon_close(remote);
}

void hot_reload(Daemon &d, int reloads) {
    procmon_ctx *remote = d.connect();
    std::vector<double> by_signal, by_write;
    for (int i = 0; i < reloads; ++i) {
        // By SIGHUP: the file is unchanged, the daemon reads it again.
        uint64_t g = generation(remote);
        auto t0 = Clock::now();
        kill(d.pid, SIGHUP);
        while (generation(remote) == g)
            if (us_since(t0) > 5e6) die("no reload within 5 s of SIGHUP");
        by_signal.push_back(us_since(t0));
        // By writing the file: a new polling interval.
        g = generation(remote);
        t0 = Clock::now();
        d.write_config(i % 2 == 0 ? 500 : 1000);
        while (generation(remote) == g)
            if (us_since(t0) > 5e6) die("no reload within 5 s of the file's change");
        by_write.push_back(us_since(t0));
    }
    std::printf("reload: from SIGHUP to the new config in force p50 %.2f ms, p99 %.2f ms; from the file's write "
                "p50 %.2f ms, p99 %.2f ms (%d each)\n",
                percentile(by_signal, 50) / 1e3, percentile(by_signal, 99) / 1e3, percentile(by_write, 50) / 1e3,
                percentile(by_write, 99) / 1e3, reloads);
    procmon_close(remote);
}

}  // namespace

int main(int argc, char **argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as it comes, also into a file
    if (argc < 2) {
        std::fprintf(stderr, "usage: daemon_bench PROCMOND [--processes N] [--clients N] [--storm N] "
                             "[--subscribers N] [--reloads N] [--seconds S] [--rounds N]\n");
        return 2;
    }
    int processes = 1000, clients = 64, storm = 10000, subscribers = 16, reloads = 50, rounds = 200;
    double seconds = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const int v = std::atoi(argv[i + 1]);
        if (flag == "--processes") processes = v;
        else if (flag == "--clients") clients = v;
        else if (flag == "--storm") storm = v;
        else if (flag == "--subscribers") subscribers = v;
        else if (flag == "--reloads") reloads = v;
        else if (flag == "--rounds") rounds = v;
        else if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
        else {
            std::fprintf(stderr, "daemon_bench: unknown flag %s\n", flag.c_str());
            return 2;
        }
    }
    if (geteuid() != 0) {
        std::fprintf(stderr, "daemon_bench: needs root (the daemon reads every process)\n");
        return 2;
    }
    char tmpl[] = "/tmp/procmon-daemon-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) die("mkdtemp");
    Daemon d;
    d.binary = argv[1];
    d.dir = tmpl;
    d.config = d.dir + "/procmond.toml";
    d.socket = d.dir + "/procmond.sock";
    d.log = d.dir + "/procmond.log";
    d.start();

    // Idle processes so that the machine holds about `processes` of them.
    size_t existing = 0;
    for (const auto &entry : std::filesystem::directory_iterator("/proc"))
        existing += std::isdigit(static_cast<unsigned char>(entry.path().filename().string()[0])) != 0;
    IdleChildren idle(static_cast<size_t>(processes) > existing ? static_cast<size_t>(processes) - existing : 0);
    std::printf("daemon_bench: %zu processes on the machine (%zu idle children of ours); procmond pid %d\n",
                existing + idle.size(), idle.size(), d.pid);

    rpc_latency(d, rounds);
    many_clients(d, clients, seconds);
    hot_reload(d, reloads);
    if (storm > 0) fork_storm(d, storm, subscribers);
    const Usage end = usage_of(d.pid);
    std::printf("daemon_bench: procmond CPU %.2f s in all, RSS peak %.1f MiB; its log: %s\n", end.cpu_s,
                static_cast<double>(end.rss_peak) / (1 << 20), d.log.c_str());
    return 0;
}
