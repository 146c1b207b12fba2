// What the event collector knows of every live process, and the events that
// follow from a kernel event or from a fresh snapshot. The tracker reads
// /proc and keeps its own state; it returns events and never decides who
// gets them (that is the engine's fan-out). Collector thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "collect/collector.hpp"
#include "core/arena.hpp"
#include "events/event_strings.hpp"
#include "events/latency.hpp"
#include "platform/platform.hpp"
#include "procmon.h"

namespace procmon::events {

// One event on its way out: the engine numbers it and fans it out.
struct Pending {
    procmon_event e{};
    StringsRef strings;
    EventTiming timing;  // set by the engine
};
using Batch = std::vector<Pending, ArenaAllocator<Pending>>;

class Tracker {
public:
    // Opens proc_root (empty = /proc) for the tracker's own reads. Status
    // code, thread's error set on failure; throws ArenaFull.
    static int open(const std::shared_ptr<Arena> &arena, const std::string &proc_root, std::unique_ptr<Tracker> &out);

    // Takes the known set from a snapshot, with no events: the baseline a
    // source starts from once it listens.
    void baseline();
    // The event a kernel event means, if any, appended to `out`. Thread
    // events only when `want_threads`.
    void handle(const platform::KernelEvent &k, bool want_threads, Batch &out);
    // Compares a fresh snapshot with the known set and appends a START,
    // EXEC or EXIT for each difference, with `flags`. A known process that
    // has not run since the last pass (its RunCount is unchanged) is not
    // read again: it cannot have changed. The exited stay known
    // until forget_exited(), so descends() still walks through a parent
    // that exited in the same pass while the batch is delivered.
    void rescan(uint32_t flags, Batch &out);
    void forget_exited();

    // Whether `ppid` is `ancestor` or one of its known descendants.
    bool descends(int32_t ppid, int32_t ancestor) const;

    Tracker(std::shared_ptr<Arena> arena, std::unique_ptr<platform::ProcSource> proc);

private:
    struct Known {
        uint64_t start_ticks = 0, start_boot_ns = 0, start_time_ns = 0;
        int32_t ppid = 0;
        uint32_t uid = 0;
        bool has_uid = false;
        uint64_t seen = 0;  // rescan generation
        StringsRef strings;
        // Probed before the last full read: equal on the next pass means
        // nothing changed since, and the pass skips the full read.
        std::optional<platform::RunCount> ran;  // none: not probed, or the OS did not say
    };
    using KnownMap = std::unordered_map<int32_t, Known, std::hash<int32_t>, std::equal_to<int32_t>,
                                        ArenaAllocator<std::pair<const int32_t, Known>>>;
    // How a process ended, when the source knows (netlink exits).
    struct ExitStatus {
        int32_t code, signal;
        uint64_t lifetime_ns;
    };

    void scan(bool emit_events, uint32_t flags, Batch *out);
    // Identity, uid and image; the exe and argv `carried` holds (an exec's,
    // see KernelEvent::carried) are taken instead of read.
    bool read_process(int32_t pid, Known &out, const platform::KernelEvent *carried = nullptr);
    bool read_identity(int32_t pid, Known &out, platform::Stat &st);  // stat only: start time
    StringsRef make_strings(const char *name, const char *exe, const char *argv, std::size_t argv_len, uint32_t argc);
    static void emit(Batch &out, uint32_t type, uint32_t flags, int32_t pid, const Known &k, int32_t ppid,
                     uint64_t time_wall_ns, const ExitStatus *exit = nullptr);

    std::shared_ptr<Arena> arena_;
    std::unique_ptr<platform::ProcSource> proc_;
    Collector collector_;
    KnownMap known_;
    platform::Bytes scratch_, exe_, argv_;
    platform::PidList pids_, candidates_;  // a scan's pids, and those it reads in full
    std::vector<std::optional<platform::RunCount>, ArenaAllocator<std::optional<platform::RunCount>>> candidate_runs_;
    uint64_t generation_ = 0;
    int64_t mono_to_wall_ = 0, mono_to_boot_ = 0;  // kernel event times are monotonic
};

}  // namespace procmon::events
