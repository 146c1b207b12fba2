#include "collect/decoded_record_source.hpp"

#include "codec/process.hpp"
#include "core/error.hpp"

namespace procmon {

int DecodedRecordSource::enumerate(const Query &q, SnapshotPtr &out) {
    bytes_.clear();
    if (int rc = fetch_(q, bytes_); rc != PROCMON_OK) return rc;
    SnapshotPtr snap = new_snapshot(arena_);
    if (codec::Decode d = codec::decode_processes(bytes_.data(), bytes_.size(), *snap); d != codec::Decode::ok)
        return fail(PROCMON_EFORMAT, 0, "procmon_enumerate: %zu bytes of records: %s", bytes_.size(), codec::decode_text(d));
    out = std::move(snap);
    return PROCMON_OK;
}

int DecodedRecordSource::system(SystemFacts &) {
    return fail(PROCMON_EUNSUPPORTED, 0, "procmon_system_get: this context's records are decoded from bytes, "
                                         "which carry no system figures");
}

int DecodedRecordSource::signal(int32_t pid, uint64_t, int) {
    return fail(PROCMON_EUNSUPPORTED, 0, "procmon_signal: pid %d: this context's records are decoded from bytes, "
                                         "it cannot signal their processes", pid);
}

}  // namespace procmon
