// What `procmon top` shows, apart from how: the processes of the last
// refresh (filtered, sorted, as a tree if asked), the machine's figures, and
// the lifecycle events as they come. One thread drives it (the library's
// rule: one thread per context at a time); the events' fd is polled beside
// stdin.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fields.hpp"
#include "procmon.h"
#include "top_options.hpp"

namespace procmon::cli::top {

// Seconds on CLOCK_MONOTONIC: refreshes are timed on it.
double monotonic_seconds();

// A process as procmon_signal names it: a pid reused since is another one.
struct Identity {
    int32_t pid = 0;
    uint64_t start_ticks = 0;
    bool operator==(const Identity &o) const { return pid == o.pid && start_ticks == o.start_ticks; }
};
struct IdentityHash {
    std::size_t operator()(const Identity &i) const { return std::hash<uint64_t>()(i.start_ticks * 4194319u ^ static_cast<uint32_t>(i.pid)); }
};

// A table row: the record lives as long as the refresh that read it.
struct Row {
    const procmon_process *p;
    int depth = 0;     // tree view: 0 for a root
    double cpu = 0;    // %CPU over the interval (100 = one core), from its CPU time's change
};

// One line of the events pane.
struct EventLine {
    uint64_t time_ns = 0;
    uint32_t type = 0, flags = 0, uid = 0;
    int32_t pid = 0, ppid = 0;
    int32_t exit_code = 0, exit_signal = 0;
    uint64_t lifetime_ns = 0, lost = 0;
    bool short_lived = false;  // started and ended between two refreshes
    std::string command;
};

// The machine at the last refresh.
struct Summary {
    procmon_system system{};
    bool system_known = false;
    std::size_t processes = 0, threads = 0, running = 0, sleeping = 0, stopped = 0, zombies = 0;
    double cpu_sum = 0;           // %CPU of every process over the interval, summed
    double self_cpu_percent = 0;  // this command's own, over the interval
    uint64_t self_rss = 0;
    uint64_t short_lived = 0;     // processes started and ended since the refresh before
    double seconds = 0;           // the interval these figures cover
};

class Model {
public:
    explicit Model(Options &o) : opt_(o) {}
    ~Model();
    Model(const Model &) = delete;
    Model &operator=(const Model &) = delete;

    // Opens the context and subscribes to its events; the error in the
    // command's words when the context cannot be opened (events that cannot
    // be had are not an error: events_note() says why).
    std::string open();
    // Readable when events wait; -1 without events.
    int event_fd() const;
    // Takes the waiting events into the pane without blocking.
    void drain_events();
    // A new enumeration; empty string when fine, else the error.
    std::string refresh();
    // Filters, sorts and lays out the last refresh again (after a key).
    void rebuild();

    const std::vector<Row> &rows() const { return rows_; }
    const Summary &summary() const { return sum_; }
    const std::deque<EventLine> &events() const { return events_; }
    // Events taken since open: the pane keeps the last kMaxEvents of them.
    uint64_t events_total() const { return events_total_; }
    static constexpr std::size_t kMaxEvents = 1000;
    // "netlink", or why the pane may miss short processes, or why it is empty.
    const std::string &events_note() const { return events_note_; }
    bool has_refreshed() const { return snap_ != nullptr; }
    // procmon_signal on the process drawn: a PROCMON_* status.
    int signal(const Identity &id, int sig);
    Env &env() { return env_; }

private:
    bool matches(const procmon_process &p);
    bool matches(const EventLine &e, const char *name);
    void sort_rows();
    void add_event(const procmon_event &e);

    Options &opt_;
    Env env_;
    procmon_ctx *ctx_ = nullptr;
    procmon_subscription *sub_ = nullptr;
    procmon_snapshot *snap_ = nullptr;
    std::vector<Row> rows_;
    Summary sum_;
    std::deque<EventLine> events_;
    uint64_t events_total_ = 0;
    std::string events_note_;
    std::vector<procmon_event> batch_ = std::vector<procmon_event>(256);
    // started or exec'd since the last refresh, and not in its table: their
    // exit makes them short-lived
    std::unordered_set<Identity, IdentityHash> born_;
    bool in_table(const Identity &id);  // a row of the last refresh's table
    uint64_t short_lived_ = 0;
    // cgroup: terms on events, which carry no cgroup: the pids in the table
    // that matched, and their children started since
    std::unordered_set<int32_t> cgroup_pids_;
    double last_refresh_ = 0, last_cpu_ = 0;  // monotonic and CPU seconds at the last refresh
    // Each process's CPU time at the last refresh, and when that was (wall
    // clock): %CPU is its change over the interval, computed here and not
    // by the library, whose baseline is per context (through procmond,
    // shared with every other client and /metrics).
    std::unordered_map<Identity, uint64_t, IdentityHash> cpu_seen_;
    uint64_t cpu_seen_wall_ns_ = 0;
    std::vector<double> cpu_;  // %CPU of snap_'s records, by index
    void take_cpu(const procmon_snapshot *snap, double seconds, double *sum);
};

}  // namespace procmon::cli::top
