// The process groups' figures for /metrics. One thread ("procmond-metrics")
// reads the daemon's journal as a subscriber would, so that every start,
// exec and exit is counted in its group, however short the process lived,
// and every refresh_interval_ms enumerates the processes once (under the
// context's lock, as a snapshot request does) for the gauges and the CPU,
// I/O and context-switch counters. A scrape only renders what is kept
// here: it never reads /proc.
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
};

class Collector {
public:
    explicit Collector(State &state);
    ~Collector();  // stops the thread
    Collector(const Collector &) = delete;
    Collector &operator=(const Collector &) = delete;

    // Opens the journal at its next record and starts the thread; false
    // with the library's error when the journal cannot be read.
    bool start();

    // The groups' families and the collector's own, into `w`.
    void render(Writer &w);

    // For tests and the first scrape: true once a refresh has completed.
    bool refreshed() const { return refreshes_.load() > 0; }

private:
    struct Tracked {
        uint64_t start_ticks = 0;
        std::string group;
        std::string cgroup, container_id;  // inherited at fork, kept across exec
        // what earlier refreshes had counted of it
        uint64_t user_ns = 0, system_ns = 0, read_bytes = 0, write_bytes = 0, voluntary = 0, nonvoluntary = 0;
        uint64_t fd_limit = 0;  // soft RLIMIT_NOFILE, read once; 0 = unknown
        uint64_t seen_refresh = 0;
    };

    void run();
    void refresh();
    void on_event(const procmon_event &e);
    // The figures of `name`, made if new and room is left; else "other"'s
    // (counted as an overflow). Holds mutex_.
    GroupFigures &group(const std::string &name);
    void update_rules();

    State &state_;
    procmon_journal_reader *reader_ = nullptr;
    std::thread thread_;
    std::atomic<bool> stop_{false};

    // The thread's own (no lock): the rules in force, the processes known.
    std::unique_ptr<Classifier> classifier_;
    uint64_t rules_generation_ = 0;
    bool needs_cgroup_ = false;
    std::unordered_map<int32_t, Tracked> procs_;

    std::mutex mutex_;  // what render reads
    std::map<std::string, GroupFigures> groups_;
    uint32_t max_groups_ = 0;
    uint64_t overflow_ = 0, events_lost_ = 0;
    uint64_t refresh_ns_ = 0;
    std::atomic<uint64_t> refreshes_{0};
};

}  // namespace procmon::daemon::metrics
