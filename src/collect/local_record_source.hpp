// The records of this machine: a ProcSource (the OS) read by a Collector.
#pragma once

#include <memory>

#include "collect/collector.hpp"
#include "collect/record_source.hpp"
#include "core/arena.hpp"
#include "platform/platform.hpp"

namespace procmon {

class LocalRecordSource final : public RecordSource {
public:
    // Opens the process table at root (NULL: the system's). Status code;
    // sets the thread's error on failure.
    static int open(const char *root, std::shared_ptr<Arena> arena, const CollectorOptions &opts,
                    std::unique_ptr<RecordSource> &out);
    LocalRecordSource(std::shared_ptr<Arena> arena, std::unique_ptr<platform::ProcSource> source, const CollectorOptions &opts)
        : arena_(std::move(arena)), source_(std::move(source)), collector_(arena_, source_.get(), opts) {}

    int enumerate(const Query &q, SnapshotPtr &out) override { return collector_.enumerate(q, out); }
    RecordCounters counters() const override;
    int system(SystemFacts &out) override;
    int signal(int32_t pid, uint64_t start_ticks, int sig) override { return source_->signal(pid, start_ticks, sig); }

private:
    std::shared_ptr<Arena> arena_;
    std::unique_ptr<platform::ProcSource> source_;
    Collector collector_;  // reads source_: declared after it, so destroyed before it; held in
                           // place, as the perf gate counts a one-shot command's heap allocations
};

}  // namespace procmon
