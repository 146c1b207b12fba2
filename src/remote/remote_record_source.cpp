#include "remote/remote_record_source.hpp"

#include "collect/decoded_record_source.hpp"
#include "core/error.hpp"

namespace procmon::remote {

int RemoteRecordSource::enumerate(const Query &q, SnapshotPtr &out) {
    constexpr const char *fn = "procmon_enumerate";
    protocol::Enumerate m;
    m.fields = q.fields;
    m.flags = q.refresh ? PROCMON_QUERY_REFRESH : 0;
    m.uid = q.uid;
    if (q.name_glob != nullptr) m.name_glob = q.name_glob;
    if (q.cmdline_glob != nullptr) m.cmdline_glob = q.cmdline_glob;
    m.has_pids = q.pids != nullptr;
    if (q.pids != nullptr) m.pids.assign(q.pids->begin(), q.pids->end());
    request_.clear();
    protocol::encode(request_, m);
    return connection_->call(request_, protocol::Type::snapshot, fn, [&](const protocol::Frame &f) {
        return decode_snapshot(arena_, f.payload, f.size, out, PROCMON_EPROTO, "procmond's snapshot");
    });
}

int RemoteRecordSource::system(SystemFacts &out) {
    constexpr const char *fn = "procmon_system_get";
    request_.clear();
    protocol::encode_empty(request_, protocol::Type::system);
    procmon_system s{};
    int rc = connection_->call(request_, protocol::Type::system_info, fn, [&](const protocol::Frame &f) {
        if (protocol::DecodeError why = protocol::decode(f, s)) return Connection::undecodable(f, why, fn);
        return int{PROCMON_OK};
    });
    if (rc != PROCMON_OK) return rc;
    out.info.cpus = s.cpus;
    out.info.mem_total = s.mem_total_bytes;
    out.info.mem_available = s.mem_available_bytes;
    out.info.mem_free = s.mem_free_bytes;
    out.info.swap_total = s.swap_total_bytes;
    out.info.swap_free = s.swap_free_bytes;
    out.info.load[0] = s.load1, out.info.load[1] = s.load5, out.info.load[2] = s.load15;
    out.info.boot_time_ns = s.boot_time_ns;
    out.processes = s.processes;
    return PROCMON_OK;
}

int RemoteRecordSource::signal(int32_t pid, uint64_t start_ticks, int sig) {
    constexpr const char *fn = "procmon_signal";
    std::vector<unsigned char> request;  // its own: procmon_signal may come from any thread
    protocol::encode(request, protocol::Signal{pid, start_ticks, sig});
    return connection_->call(request, protocol::Type::done, fn, [](const protocol::Frame &) { return int{PROCMON_OK}; });
}

}  // namespace procmon::remote
