// Where a context's snapshots come from: the seam between procmon_ctx and
// what fills it. The local source reads this machine (a ProcSource and a
// Collector); another may decode records a daemon sent (codec/process.hpp).
// The C entry points talk to this interface only.
#pragma once

#include <cstdint>

#include "collect/collector.hpp"
#include "platform/platform.hpp"

namespace procmon {

// The counters procmon_stats reports of a source's per-process cache.
struct RecordCounters {
    uint64_t cache_entries = 0;
    uint64_t cache_hits = 0;
    uint64_t cache_misses = 0;
};

// The machine's figures procmon_system_get reports.
struct SystemFacts {
    platform::SystemInfo info;
    uint64_t processes = 0;
};

class RecordSource {
public:
    virtual ~RecordSource() = default;
    // A snapshot of the processes q asks for, sorted by pid. Status code;
    // sets the thread's error on failure. May throw ArenaFull.
    virtual int enumerate(const Query &q, SnapshotPtr &out) = 0;
    virtual RecordCounters counters() const = 0;
    // Status code; sets the thread's error on failure.
    virtual int system(SystemFacts &out) = 0;
    // Sends sig to pid if it is still the process that started at
    // start_ticks. Status code (ENOENT: gone or reused, EPERM, EUNSUPPORTED).
    virtual int signal(int32_t pid, uint64_t start_ticks, int sig) = 0;
};

}  // namespace procmon
