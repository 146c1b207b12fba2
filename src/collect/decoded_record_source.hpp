// Records decoded from bytes someone else encoded (codec/process.hpp): the
// shape of a context whose snapshots a daemon serves. It has no cache, no
// system figures and no way to signal: those stay with whoever read /proc.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "collect/record_source.hpp"
#include "core/arena.hpp"

namespace procmon {

// Fills `out` with the encoded records (codec::encode_processes) that answer
// q. Status code; sets the thread's error on failure.
using RecordFetch = std::function<int(const Query &q, std::vector<unsigned char> &out)>;

// Records encoded by codec::encode_processes, p[0, n), decoded into a new
// snapshot in arena: the one decode path of every context whose records
// come as bytes. A fault is `bad_status` (EFORMAT for bytes handed in,
// EPROTO for a daemon's answer), its message naming `whose` bytes they were.
// May throw ArenaFull.
int decode_snapshot(const std::shared_ptr<Arena> &arena, const unsigned char *p, std::size_t n, SnapshotPtr &out,
                    int bad_status, const char *whose);

class DecodedRecordSource final : public RecordSource {
public:
    DecodedRecordSource(std::shared_ptr<Arena> arena, RecordFetch fetch)
        : arena_(std::move(arena)), fetch_(std::move(fetch)) {}

    // EFORMAT, naming the fault, when the bytes do not decode.
    int enumerate(const Query &q, SnapshotPtr &out) override;
    RecordCounters counters() const override { return {}; }
    int system(SystemFacts &out) override;                              // EUNSUPPORTED
    int signal(int32_t pid, uint64_t start_ticks, int sig) override;    // EUNSUPPORTED

private:
    std::shared_ptr<Arena> arena_;
    RecordFetch fetch_;
    std::vector<unsigned char> bytes_;  // reused from call to call
};

}  // namespace procmon
