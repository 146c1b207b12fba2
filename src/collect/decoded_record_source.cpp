#include "collect/decoded_record_source.hpp"

#include "codec/process.hpp"
#include "core/error.hpp"

namespace procmon {

int DecodedRecordSource::enumerate(const Query &q, SnapshotPtr &out) {
    bytes_.clear();
    if (int rc = fetch_(q, bytes_); rc != PROCMON_OK) return rc;
    return decode_snapshot(arena_, bytes_.data(), bytes_.size(), out, PROCMON_EFORMAT, "records");
}

int decode_snapshot(const std::shared_ptr<Arena> &arena, const unsigned char *p, std::size_t n, SnapshotPtr &out,
                    int bad_status, const char *whose) {
    SnapshotPtr snap = new_snapshot(arena);
    if (codec::Decode d = codec::decode_processes(p, n, *snap); d != codec::Decode::ok)
        return fail(bad_status, 0, "procmon_enumerate: %zu bytes of %s: %s", n, whose, codec::decode_text(d));
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
