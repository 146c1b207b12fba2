// The journal's on-disk format, version 1 (docs/journal.md). Little-endian.
//
// A segment file "<first seq, 20 digits>.pmj" is a 64-byte header, then
// records back to back:
//   header: magic "procmonJ", u32 format version, u32 header size (64),
//           u64 first seq, u64 created (ns since the epoch), 16 bytes of
//           boot id, 12 reserved bytes, u32 CRC-32C of the 60 before it
//   record: u32 payload length, u32 CRC-32C of (length, seq, payload),
//           u64 seq, payload (one event: codec/event.hpp)
// Nothing here touches a file: the writer and the reader do.
#pragma once

#include <bit>
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <string>
#include <vector>

#include "codec/event.hpp"
#include "procmon.h"

namespace procmon::journal {

static_assert(std::endian::native == std::endian::little, "the journal format is little-endian");

constexpr uint32_t kFormatVersion = 1;
constexpr std::size_t kHeaderBytes = 64;
constexpr std::size_t kRecordHeaderBytes = 16;
// A payload is one event's bytes (codec/event.hpp), and bounded as they are.
constexpr uint32_t kMaxPayload = codec::kMaxEventBytes;
constexpr std::size_t kMaxFixedPayload = codec::kMaxEventFixedBytes;
// A record's flag (procmon_event.flags) for an argv the journal cut so that
// the record fits kMaxPayload (docs/journal.md).
constexpr uint32_t kFlagArgvCut = PROCMON_EVENT_FLAG_ARGV_TRUNCATED;
constexpr const char *kSegmentSuffix = ".pmj";

// The smallest procmon_event a caller may hand in: 0.1's, which ended
// before full_name (what the journal stores is all in it).
constexpr std::size_t kEventSizeV1 = offsetof(procmon_event, full_name);

// Event i of a caller's array laid out every `stride` bytes, copied as far
// as the caller's struct goes (a 0.1 caller's is smaller: the rest is zero).
inline procmon_event event_at(const procmon_event *events, std::size_t stride, std::size_t i) {
    procmon_event e{};
    std::memcpy(&e, reinterpret_cast<const char *>(events) + i * stride, std::min(stride, sizeof e));
    return e;
}

struct SegmentHeader {
    uint64_t first_seq = 0;
    uint64_t created_ns = 0;
    unsigned char boot_id[16] = {};
};

void encode_header(const SegmentHeader &h, unsigned char out[kHeaderBytes]);

enum class HeaderCheck { ok, short_file, bad_magic, newer_version, bad_crc };
HeaderCheck decode_header(const unsigned char *p, std::size_t n, SegmentHeader &out, uint32_t &version);

// "<first seq>.pmj", and back (false when the name is not a segment's).
std::string segment_name(uint64_t first_seq);
bool parse_segment_name(const char *name, uint64_t &first_seq);

using codec::is_event_type;

// Appends s[0, len) and a NUL to buf; returns where it starts (an offset,
// as buf may move). For the strings of events held in one buffer.
inline std::size_t append_string(std::vector<char> &buf, const char *s, std::size_t len) {
    const std::size_t at = buf.size();
    if (len > 0) buf.insert(buf.end(), s, s + len);
    buf.push_back('\0');
    return at;
}

// At least the payload bytes of e's record: whether it fits kMaxPayload.
std::size_t payload_bound(const procmon_event &e);
// Cuts e's argv, if need be, so that its record fits kMaxPayload (into
// `copy`: the cut argument stays, NUL-terminated; argc counts what is left)
// and flags it kFlagArgvCut; false if it cannot fit even without argv (a
// name or exe of megabytes).
bool cut_to_fit(procmon_event &e, std::string &copy);

// Appends one whole record (header and payload) for `e` with sequence `seq`;
// payload_bound(e) must be at most kMaxPayload.
void append_record(std::vector<unsigned char> &out, uint64_t seq, const procmon_event &e);

// One record at p, if whole and intact.
struct RecordView {
    uint64_t seq = 0;
    const unsigned char *payload = nullptr;
    uint32_t payload_len = 0;
    std::size_t total = 0;  // bytes of the whole record
};
enum class RecordCheck {
    ok,
    incomplete,  // fewer than its bytes are there yet (a torn tail, or a write in progress)
    bad,         // its length is impossible or its CRC fails
};
RecordCheck check_record(const unsigned char *p, std::size_t avail, RecordView &out);

// The event in a checked record's payload; strings point into the payload
// (each NUL-terminated there). False if the payload does not decode.
using codec::decode_event;

// After a bad record: the first offset in [from, limit) of a whole, intact
// record in p[0, n) whose seq follows `after_seq` (within a million); npos
// if none. What lies before it is corruption, to be skipped.
constexpr std::size_t kNotFound = ~std::size_t{0};
std::size_t resync(const unsigned char *p, std::size_t n, std::size_t from, std::size_t limit, uint64_t after_seq);

}  // namespace procmon::journal
