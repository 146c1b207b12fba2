// The process groups' figures for /metrics. One thread ("procmond-metrics")
// reads the daemon's journal as a subscriber would, so that every start,
// exec and exit is counted in its group, however short the process lived,
// and every refresh_interval_ms enumerates the processes once for the
// gauges and the CPU, I/O and context-switch counters, in a library context
// of its own: clients' snapshots never wait for a refresh, and their %CPU
// windows are not moved by it. A scrape only renders what is kept here: it
// never reads /proc.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "exposition.hpp"
#include "groups.hpp"
#include "procmon.h"

namespace procmon::daemon {
class State;
}

namespace procmon::daemon::metrics {

// One group's figures. Gauges are the last refresh's; counters only grow.
struct GroupFigures {
    // gauges
    uint64_t processes = 0, threads = 0, rss = 0, vms = 0, pss = 0, fds = 0;
    std::array<uint64_t, 7> states{};  // as kStateNames
    double worst_fd_ratio = 0;
    uint64_t oldest_start_ns = 0;  // 0: no process
    // counters
    uint64_t user_ns = 0, system_ns = 0, read_bytes = 0, write_bytes = 0, voluntary = 0, nonvoluntary = 0;
    uint64_t starts = 0, execs = 0, exits = 0;
    std::map<int, uint64_t> exit_codes, exit_signals;
    HistogramValue lifetime;

    bool fixed = false;        // named by the config (or "other"): never dropped
    uint64_t last_active = 0;  // the refresh that last saw a process or an event of it
};

class Collector {
public:
    explicit Collector(State &state);
    ~Collector();  // stops the thread
    Collector(const Collector &) = delete;
    Collector &operator=(const Collector &) = delete;

    // Opens the journal at its next record and the refresh's context, and
    // starts the thread; false, with why, when either cannot be opened.
    bool start(std::string &why);

    // The groups' families, the context's (events received, arena) and the
    // collector's own, into `w`. Never waits for the context's lock.
    void render(Writer &w);

private:
    struct Tracked {
        uint64_t start_ticks = 0;
        std::string group;                 // as classified (admission is the group map's)
        std::string cgroup, container_id;  // inherited at fork, kept across exec
        // What earlier refreshes counted of it. A reading's first sight
        // counts it whole only for a process started since that reading
        // was switched on; an older one's past is not this daemon's to count.
        uint64_t user_ns = 0, system_ns = 0, read_bytes = 0, write_bytes = 0, voluntary = 0, nonvoluntary = 0;
        bool has_cpu = false, has_io = false, has_ctxsw = false;
        uint64_t fd_limit = 0;  // soft RLIMIT_NOFILE; 0 = unknown or unlimited
        bool fd_limit_read = false;
        uint64_t seen = 0;  // the refresh that last saw it (or was due when an event made it)
    };
    void run();
    void refresh();
    void sample_context();  // the context's stats, for render
    void on_event(const procmon_event &e);
    // The figures of `name`: a fixed group's always, a template's while
    // fewer than max_groups are, else "other"'s. Holds mutex_.
    GroupFigures &admit(const std::string &name, bool &overflowed);
    GroupFigures &count_event(const std::string &name);  // admit, marked active, overflow counted
    void update_rules();
    Tracked &track(int32_t pid, uint64_t start_ticks);

    State &state_;
    procmon_journal_reader *reader_ = nullptr;
    procmon_ctx *context_ = nullptr;  // the refresh's own, used by the thread only
    std::thread thread_;
    std::atomic<bool> stop_{false};
    const uint64_t started_ns_;  // wall clock: processes started since are counted whole

    // The thread's own (no lock): the rules in force, the processes known.
    std::unique_ptr<Classifier> classifier_;
    uint64_t rules_generation_ = 0;
    bool needs_cgroup_ = false;
    uint64_t read_ = 0;  // metrics.read in force
    uint64_t io_since_ns_ = 0, ctxsw_since_ns_ = 0;
    std::unordered_map<int32_t, Tracked> procs_;

    std::mutex mutex_;  // what render reads
    std::map<std::string, GroupFigures> groups_;
    std::size_t template_groups_ = 0;  // groups_ not fixed
    uint32_t max_groups_ = 0;
    uint64_t overflow_events_ = 0, overflow_processes_ = 0, events_lost_ = 0;
    uint64_t refresh_ns_ = 0, refreshes_ = 0;
    procmon_stats stats_{};  // the context's, sampled by the thread
    std::string source_;     // stats_.source_name's text
    std::map<std::string, uint64_t> received_by_source_;
    uint64_t received_seen_ = 0;  // stats_.events_received already shared out
};

}  // namespace procmon::daemon::metrics
