#include "collect/local_record_source.hpp"

namespace procmon {

int LocalRecordSource::open(const char *root, std::shared_ptr<Arena> arena, const CollectorOptions &opts,
                            std::unique_ptr<RecordSource> &out) {
    std::unique_ptr<platform::ProcSource> source;
    if (int rc = platform::ProcSource::open(root, arena.get(), source); rc != PROCMON_OK) return rc;
    out = std::make_unique<LocalRecordSource>(std::move(arena), std::move(source), opts);
    return PROCMON_OK;
}

RecordCounters LocalRecordSource::counters() const {
    RecordCounters c;
    c.cache_entries = collector_.cache_size();
    c.cache_hits = collector_.counters().cache_hits;
    c.cache_misses = collector_.counters().cache_misses;
    return c;
}

int LocalRecordSource::system(SystemFacts &out) {
    if (int rc = source_->system(out.info); rc != PROCMON_OK) return rc;
    platform::PidList pids{ArenaAllocator<int32_t>(arena_.get())};
    if (int rc = source_->list_pids(pids); rc != PROCMON_OK) return rc;
    out.processes = pids.size();
    return PROCMON_OK;
}

}  // namespace procmon
