// The snapshot seam (collect/record_source.hpp) for a context procmond
// serves: each call is one request on the context's connection, and a
// snapshot's records are decoded into the context's own arena, as a local
// one's are read into it.
#pragma once

#include <memory>

#include "collect/record_source.hpp"
#include "core/arena.hpp"
#include "remote/connection.hpp"

namespace procmon::remote {

class RemoteRecordSource final : public RecordSource {
public:
    RemoteRecordSource(std::shared_ptr<Arena> arena, std::shared_ptr<Connection> connection)
        : arena_(std::move(arena)), connection_(std::move(connection)) {}

    int enumerate(const Query &q, SnapshotPtr &out) override;
    // The daemon's cache serves these snapshots: procmon_stats_get reports
    // its counters from a stats request, not from here.
    RecordCounters counters() const override { return {}; }
    int system(SystemFacts &out) override;
    // The daemon decides what this peer may signal (EPERM from it).
    int signal(int32_t pid, uint64_t start_ticks, int sig) override;

private:
    std::shared_ptr<Arena> arena_;
    std::shared_ptr<Connection> connection_;
    std::vector<unsigned char> request_;  // reused from call to call
};

}  // namespace procmon::remote
