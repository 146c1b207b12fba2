#include "codec/event.hpp"

#include "codec/primitives.hpp"

namespace procmon::codec {
bool decode_event(const unsigned char *p, std::size_t n, procmon_event &e) {
    Cursor d{p, p + n};
    e = procmon_event{};
    e.size = sizeof e;
    e.type = d.byte();
    e.flags = d.byte();
    e.pid = d.i32();
    e.ppid = d.i32();
    const uint64_t uid = d.varint();
    e.uid = uid == 0 || uid > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(uid - 1);
    e.time_ns = d.varint();
    e.start_time_ns = e.time_ns - static_cast<uint64_t>(unzigzag(d.varint()));
    e.start_ticks = d.varint();
    e.exit_code = d.i32();
    e.exit_signal = d.i32();
    e.lifetime_ns = d.varint();
    e.lost = d.varint();
    e.argc = d.u32();
    std::size_t len;
    e.name = d.bytes(len, kMaxEventBytes);
    e.exe = d.bytes(len, kMaxEventBytes);
    e.argv = d.bytes(e.argv_len, kMaxEventBytes);
    return d.ok && d.p == d.end && is_event_type(e.type);
}

}  // namespace procmon::codec
