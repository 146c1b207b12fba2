// procmon_process records as bytes, for a snapshot served over a wire (the
// daemon's socket) and decoded into a procmon_snapshot on the other side.
// The encoding is docs/wire.md's "Process records"; every field of the
// struct travels, strings byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/primitives.hpp"
#include "collect/snapshot.hpp"
#include "procmon.h"

namespace procmon::codec {

// Version 1: procmon_process as of 0.3 (state_kind appended). A writer that
// appends fields bumps it; a reader refuses a record of a newer version
// rather than guess which of its bytes mean what.
constexpr uint8_t kRecordVersion = 1;
// Bounds a reader checks before it allocates: a string (an argv is at most
// the kernel's ARG_MAX area, 16 MiB with room), one record (seven strings
// and the fixed fields), and the records in one list (Linux's largest pid_max).
constexpr std::size_t kMaxStringBytes = 16u << 20;
constexpr std::size_t kMaxRecordBytes = 32u << 20;
constexpr uint64_t kMaxRecords = 1u << 22;
// The fewest bytes a record takes (a zeroed struct): its version, its
// length and a body of 67 bytes. Bounds a list's count by the bytes it has.
constexpr std::size_t kMinRecordBytes = 1 + 1 + 67;

enum class Decode {
    ok,
    truncated,      // the bytes end before what a length or count promised
    too_large,      // a length or count above its maximum
    malformed,      // a field that does not decode, bytes left over, pids out of order
    newer_version,  // a record from a newer writer
};
// What went wrong, in words ("a record's version is newer than 1").
const char *decode_text(Decode d);

// Appends one record: version, body length, body.
void encode_process(std::vector<unsigned char> &out, const procmon_process &p);
// Appends a list: the count, then each record.
void encode_processes(std::vector<unsigned char> &out, const procmon_process *records, std::size_t n);

// Reads one record at c into `out`, its strings copied into `strings`.
// Throws ArenaFull (from the pool) when the arena's cap is reached.
Decode decode_process(Cursor &c, procmon_process &out, StringPool &strings);
// Reads a list, which must be all of p[0, n), into `snap` (records ascending
// by pid, as every snapshot is). On failure `snap` holds part of it.
Decode decode_processes(const unsigned char *p, std::size_t n, procmon_snapshot &snap);

}  // namespace procmon::codec
