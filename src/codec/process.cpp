#include "codec/process.hpp"

namespace procmon::codec {
namespace {

void put_string(std::vector<unsigned char> &out, const char *s) {
    put_bytes(out, s ? s : "", s ? std::strlen(s) : 0);
}

// A string field: copied into the snapshot's pool ("" stays the literal).
const char *get_string(Cursor &c, StringPool &strings, std::size_t *len_out = nullptr) {
    std::size_t len = 0;
    const char *s = c.bytes(len, kMaxStringBytes);
    if (len_out) *len_out = len;
    return c.ok ? strings.add(s, len) : "";
}

// The body, in the order docs/wire.md lists it.
void put_body(std::vector<unsigned char> &out, const procmon_process &p) {
    put_varint(out, p.flags);
    put_varint(out, p.valid);
    for (int32_t v : {p.pid, p.ppid, p.pgid, p.sid, p.tty}) put_varint(out, zigzag(v));
    out.push_back(static_cast<unsigned char>(p.state));
    for (uint32_t v : {p.uid, p.euid, p.suid, p.gid, p.egid, p.sgid}) put_varint(out, v);
    put_string(out, p.name);
    put_string(out, p.exe);
    put_bytes(out, p.argv ? p.argv : "", p.argv ? p.argv_len : 0);
    put_varint(out, p.argc);
    put_varint(out, p.threads);
    for (uint64_t v : {p.start_ticks, p.start_time_ns, p.utime_ns, p.stime_ns}) put_varint(out, v);
    put_f64(out, p.cpu_percent);
    put_varint(out, p.rss_bytes);
    put_varint(out, p.vms_bytes);
    put_varint(out, zigzag(p.nice));
    put_varint(out, zigzag(p.priority));
    put_string(out, p.cwd);
    put_varint(out, p.fd_count);
    for (uint64_t v : {p.io_rchar, p.io_wchar, p.io_syscr, p.io_syscw, p.io_read_bytes, p.io_write_bytes,
                       p.voluntary_ctxt_switches, p.nonvoluntary_ctxt_switches})
        put_varint(out, v);
    put_string(out, p.cgroup);
    put_string(out, p.container_id);
    put_string(out, p.full_name);
    put_f64(out, p.mem_percent);
    for (uint64_t v : {p.pss_bytes, p.uss_bytes, p.swap_bytes}) put_varint(out, v);
    put_varint(out, p.state_kind);
}

void get_body(Cursor &c, procmon_process &p, StringPool &strings) {
    p.flags = c.u32();
    p.valid = c.varint();
    for (int32_t *v : {&p.pid, &p.ppid, &p.pgid, &p.sid, &p.tty}) *v = c.i32();
    p.state = static_cast<char>(c.byte());
    for (uint32_t *v : {&p.uid, &p.euid, &p.suid, &p.gid, &p.egid, &p.sgid}) *v = c.u32();
    p.name = get_string(c, strings);
    p.exe = get_string(c, strings);
    p.argv = get_string(c, strings, &p.argv_len);
    p.argc = c.u32();
    p.threads = c.u32();
    for (uint64_t *v : {&p.start_ticks, &p.start_time_ns, &p.utime_ns, &p.stime_ns}) *v = c.varint();
    p.cpu_percent = c.f64();
    p.rss_bytes = c.varint();
    p.vms_bytes = c.varint();
    p.nice = c.i32();
    p.priority = c.i32();
    p.cwd = get_string(c, strings);
    p.fd_count = c.u32();
    for (uint64_t *v : {&p.io_rchar, &p.io_wchar, &p.io_syscr, &p.io_syscw, &p.io_read_bytes, &p.io_write_bytes,
                        &p.voluntary_ctxt_switches, &p.nonvoluntary_ctxt_switches})
        *v = c.varint();
    p.cgroup = get_string(c, strings);
    p.container_id = get_string(c, strings);
    p.full_name = get_string(c, strings);
    p.mem_percent = c.f64();
    for (uint64_t *v : {&p.pss_bytes, &p.uss_bytes, &p.swap_bytes}) *v = c.varint();
    p.state_kind = c.u32();
}

// Why a cursor failed: it ran out of bytes, or what it read made no sense
// (an 11-byte varint, a value out of its field's range).
Decode failure(const Cursor &c) { return c.p >= c.end ? Decode::truncated : Decode::malformed; }

}  // namespace

const char *decode_text(Decode d) {
    switch (d) {
    case Decode::ok: return "ok";
    case Decode::truncated: return "the bytes end before a record does";
    case Decode::too_large: return "a length or count is above its maximum";
    case Decode::malformed: return "a record does not decode (a bad field, bytes left over, or pids out of order)";
    case Decode::newer_version: return "a record is of a newer version than this reader knows";
    }
    return "?";
}

void encode_process(std::vector<unsigned char> &out, const procmon_process &p) {
    // The length goes first and is known only once the body is written: the
    // body is written aside first (one buffer a thread, reused).
    thread_local std::vector<unsigned char> body;
    body.clear();
    put_body(body, p);
    out.push_back(kRecordVersion);
    put_varint(out, body.size());
    out.insert(out.end(), body.begin(), body.end());
}

void encode_processes(std::vector<unsigned char> &out, const procmon_process *records, std::size_t n) {
    put_varint(out, n);
    for (std::size_t i = 0; i < n; ++i) encode_process(out, records[i]);
}

Decode decode_process(Cursor &c, procmon_process &out, StringPool &strings) {
    if (c.remaining() == 0) return Decode::truncated;
    const uint8_t version = c.byte();
    if (version > kRecordVersion) return Decode::newer_version;
    if (version == 0) return Decode::malformed;  // versions start at 1
    const uint64_t len = c.varint();
    if (!c.ok) return failure(c);
    if (len > kMaxRecordBytes) return Decode::too_large;
    if (len > c.remaining()) return Decode::truncated;
    Cursor body = c.take(len);
    out = procmon_process{};
    out.size = sizeof out;
    get_body(body, out, strings);
    return body.ok && body.remaining() == 0 ? Decode::ok : Decode::malformed;
}

Decode decode_processes(const unsigned char *p, std::size_t n, procmon_snapshot &snap) {
    Cursor c{p, p + n};
    const uint64_t count = c.varint();
    if (!c.ok) return failure(c);
    if (count > kMaxRecords) return Decode::too_large;
    if (count > c.remaining() / kMinRecordBytes) return Decode::truncated;
    snap.records.reserve(static_cast<std::size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
        procmon_process rec;
        if (Decode d = decode_process(c, rec, snap.strings); d != Decode::ok) return d;
        if (!snap.records.empty() && rec.pid <= snap.records.back().pid) return Decode::malformed;
        snap.records.push_back(rec);
    }
    return c.remaining() == 0 ? Decode::ok : Decode::malformed;
}

}  // namespace procmon::codec
