#include "journal/format.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "journal/crc32c.hpp"

namespace procmon::journal {
namespace {

constexpr unsigned char kMagic[8] = {'p', 'r', 'o', 'c', 'm', 'o', 'n', 'J'};
constexpr uint64_t kResyncWindow = 1000000;  // seqs a run of corruption may swallow

template <class T>
void put(unsigned char *p, T v) {
    std::memcpy(p, &v, sizeof v);
}
template <class T>
T get(const unsigned char *p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

uint32_t record_crc(const unsigned char *record, std::size_t payload_len) {
    uint32_t c = crc32c(0, record, 4);                         // length
    return crc32c(c, record + 8, 8 + payload_len);             // seq and payload
}

}  // namespace

void encode_header(const SegmentHeader &h, unsigned char out[kHeaderBytes]) {
    std::memset(out, 0, kHeaderBytes);
    std::memcpy(out, kMagic, 8);
    put<uint32_t>(out + 8, kFormatVersion);
    put<uint32_t>(out + 12, static_cast<uint32_t>(kHeaderBytes));
    put<uint64_t>(out + 16, h.first_seq);
    put<uint64_t>(out + 24, h.created_ns);
    std::memcpy(out + 32, h.boot_id, 16);
    put<uint32_t>(out + 60, crc32c(0, out, 60));
}

HeaderCheck decode_header(const unsigned char *p, std::size_t n, SegmentHeader &out, uint32_t &version) {
    if (n < 12) return n >= 8 && std::memcmp(p, kMagic, 8) != 0 ? HeaderCheck::bad_magic : HeaderCheck::short_file;
    if (std::memcmp(p, kMagic, 8) != 0) return HeaderCheck::bad_magic;
    version = get<uint32_t>(p + 8);
    if (version > kFormatVersion) return HeaderCheck::newer_version;
    if (n < kHeaderBytes) return HeaderCheck::short_file;
    if (get<uint32_t>(p + 60) != crc32c(0, p, 60) || get<uint32_t>(p + 12) != kHeaderBytes) return HeaderCheck::bad_crc;
    out.first_seq = get<uint64_t>(p + 16);
    out.created_ns = get<uint64_t>(p + 24);
    std::memcpy(out.boot_id, p + 32, 16);
    return HeaderCheck::ok;
}

std::string segment_name(uint64_t first_seq) {
    char name[40];
    std::snprintf(name, sizeof name, "%020llu%s", static_cast<unsigned long long>(first_seq), kSegmentSuffix);
    return name;
}

bool parse_segment_name(const char *name, uint64_t &first_seq) {
    uint64_t v = 0;
    int digits = 0;
    for (; name[digits] >= '0' && name[digits] <= '9'; ++digits) {
        if (digits == 20) return false;
        const uint64_t d = static_cast<uint64_t>(name[digits] - '0');
        if (v > (~uint64_t{0} - d) / 10) return false;
        v = v * 10 + d;
    }
    if (digits != 20 || std::strcmp(name + digits, kSegmentSuffix) != 0) return false;
    first_seq = v;
    return true;
}

std::size_t payload_bound(const procmon_event &e) {
    return kMaxFixedPayload + (e.name ? std::strlen(e.name) : 0) + (e.exe ? std::strlen(e.exe) : 0) +
           (e.argv ? e.argv_len : 0);
}

bool cut_to_fit(procmon_event &e, std::string &copy) {
    const std::size_t others = payload_bound(e) - (e.argv ? e.argv_len : 0);
    if (others >= kMaxPayload) return false;
    const std::size_t len = kMaxPayload - others;
    if (e.argv == nullptr || e.argv_len <= len) return true;
    // As procfs cuts an argv at argv_cap_bytes: the cut argument stays,
    // its last byte made its NUL (in a copy: the event's bytes are not ours).
    copy.assign(e.argv, len);
    if (len > 0) copy.back() = '\0';
    e.argv = copy.data();
    e.argv_len = len;
    e.argc = static_cast<uint32_t>(std::count(copy.begin(), copy.end(), '\0'));
    e.flags |= kFlagArgvCut;
    return true;
}

void append_record(std::vector<unsigned char> &out, uint64_t seq, const procmon_event &e) {
    const std::size_t at = out.size();
    out.resize(at + kRecordHeaderBytes);
    codec::encode_event(out, e);
    const std::size_t payload = out.size() - at - kRecordHeaderBytes;
    unsigned char *r = out.data() + at;
    put<uint32_t>(r, static_cast<uint32_t>(payload));
    put<uint64_t>(r + 8, seq);
    put<uint32_t>(r + 4, record_crc(r, payload));
}

RecordCheck check_record(const unsigned char *p, std::size_t avail, RecordView &out) {
    if (avail < kRecordHeaderBytes) return RecordCheck::incomplete;
    const uint32_t len = get<uint32_t>(p);
    if (len == 0 || len > kMaxPayload) return RecordCheck::bad;
    if (avail - kRecordHeaderBytes < len) return RecordCheck::incomplete;
    if (get<uint32_t>(p + 4) != record_crc(p, len)) return RecordCheck::bad;
    out.seq = get<uint64_t>(p + 8);
    out.payload = p + kRecordHeaderBytes;
    out.payload_len = len;
    out.total = kRecordHeaderBytes + len;
    return RecordCheck::ok;
}

std::size_t resync(const unsigned char *p, std::size_t n, std::size_t from, std::size_t limit, uint64_t after_seq) {
    for (std::size_t at = from; at < limit && at + kRecordHeaderBytes <= n; ++at) {
        const uint64_t seq = get<uint64_t>(p + at + 8);  // cheap test first: a plausible next seq
        if (seq <= after_seq || seq - after_seq > kResyncWindow) continue;
        RecordView v;
        procmon_event e;
        if (check_record(p + at, n - at, v) == RecordCheck::ok && decode_event(v.payload, v.payload_len, e)) return at;
    }
    return kNotFound;
}

}  // namespace procmon::journal
