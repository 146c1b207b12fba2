// One procmon_event as bytes: the payload of a journal record
// (docs/journal.md, "Payload"), and of an event on any other wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "codec/primitives.hpp"
#include "procmon.h"

namespace procmon::codec {

// An event's bytes hold its fixed fields (< 100 bytes) and three strings,
// argv at most the kernel's ARG_MAX area: 16 MiB bounds them with room.
constexpr std::size_t kMaxEventBytes = 16u << 20;
// The most an event takes besides its strings' bytes: type and flags, 11
// varints of at most 10 bytes, and 3 string lengths with their NULs.
constexpr std::size_t kMaxEventFixedBytes = 2 + 11 * 10 + 3 * 11;

// Whether t is exactly one PROCMON_EVENT_* type.
inline bool is_event_type(uint32_t t) {
    return t != 0 && (t & (t - 1)) == 0 && (t & ~uint32_t{PROCMON_EVENTS_ALL}) == 0;
}

// Appends e's bytes to out (the type and flags are stored as one byte each:
// every PROCMON_EVENT_* and event flag fits). Static inline, as are the
// put_* it uses (codec/primitives.hpp): the journal's encoder then compiles
// to what it was when all of it lived in journal/format.cpp, 1253
// instructions an event (cachegrind, -O2); an out-of-line encode_event took
// 1350, external linkage 1270.
static inline void encode_event(std::vector<unsigned char> &out, const procmon_event &e) {
    out.push_back(static_cast<unsigned char>(e.type));
    out.push_back(static_cast<unsigned char>(e.flags));
    put_varint(out, zigzag(e.pid));
    put_varint(out, zigzag(e.ppid));
    put_varint(out, e.uid == UINT32_MAX ? 0 : uint64_t{e.uid} + 1);
    put_varint(out, e.time_ns);
    put_varint(out, zigzag(static_cast<int64_t>(e.time_ns - e.start_time_ns)));  // small: how long it has lived
    put_varint(out, e.start_ticks);
    put_varint(out, zigzag(e.exit_code));
    put_varint(out, zigzag(e.exit_signal));
    put_varint(out, e.lifetime_ns);
    put_varint(out, e.lost);
    put_varint(out, e.argc);
    const char *name = e.name ? e.name : "", *exe = e.exe ? e.exe : "";
    put_bytes(out, name, std::strlen(name));
    put_bytes(out, exe, std::strlen(exe));
    put_bytes(out, e.argv ? e.argv : "", e.argv ? e.argv_len : 0);
}

// The event in p[0, n), which must be all of it; strings point into p (each
// NUL-terminated there). False if the bytes do not decode to one event.
bool decode_event(const unsigned char *p, std::size_t n, procmon_event &out);

}  // namespace procmon::codec
