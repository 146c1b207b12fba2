// Enumeration: turns the raw facts of a ProcSource into a snapshot, using and
// maintaining the per-identity cache. Portable: no OS calls here.
#pragma once

#include <cstdint>
#include <memory>

#include "collect/cache.hpp"
#include "collect/snapshot.hpp"
#include "core/arena.hpp"
#include "platform/platform.hpp"
#include "procmon.h"

namespace procmon {

struct CollectorOptions {
    std::size_t argv_cap = 0;   // 0 = whole
    bool cache_static = true;   // PROCMON_CACHE_STATIC
    unsigned threads = 0;       // reader threads; 0 = automatic
};

struct Query {
    uint64_t fields = PROCMON_FIELDS_DEFAULT;
    const char *name_glob = nullptr;     // on the full name
    const char *cmdline_glob = nullptr;  // on argv joined by spaces
    int64_t uid = -1;
    const platform::PidList *pids = nullptr;  // sorted, unique; nullptr = all
    bool refresh = false;
};

struct SnapshotDeleter {
    void operator()(procmon_snapshot *s) const noexcept;
};
using SnapshotPtr = std::unique_ptr<procmon_snapshot, SnapshotDeleter>;

SnapshotPtr new_snapshot(const std::shared_ptr<Arena> &arena);  // throws ArenaFull

struct CollectorCounters {
    uint64_t cache_hits = 0;
    uint64_t cache_misses = 0;
};

class Collector {
public:
    Collector(std::shared_ptr<Arena> arena, platform::ProcSource *source, CollectorOptions opts);
    ~Collector();

    // Status code; sets the thread's error on failure. Throws ArenaFull when
    // the cap is reached (the cache is then emptied, the collector stays usable).
    int enumerate(const Query &q, SnapshotPtr &out);

    // Forgets the cache entries of pids not in `alive` (sorted): after
    // pid-filtered enumerations, which keep what they did not list.
    void retain(const platform::PidList &alive);

    std::size_t cache_size() const { return cache_.size(); }
    const CollectorCounters &counters() const { return counters_; }

private:
    struct Range;
    unsigned reader_count(std::size_t pids) const;
    void read_range(const Query &q, Range &range, uint64_t now_ns);

    std::shared_ptr<Arena> arena_;
    platform::ProcSource *source_;
    CollectorOptions opts_;
    Cache cache_;
    platform::PidList pids_;
    CollectorCounters counters_;
    uint64_t mem_total_ = 0;  // for mem_percent: set before the readers start, read-only while they run
};

}  // namespace procmon
