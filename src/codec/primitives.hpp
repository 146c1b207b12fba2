// The wire's building blocks, shared by every codec (the journal's events,
// the process records): LEB128 varints, zigzag for signed values, fixed
// little-endian words, and length-prefixed bytes; and a Cursor that reads
// them back without ever trusting a length. Little-endian, no padding.
// The put_* are static inline, put_bytes kept out of line: the journal
// encodes every event with them, and so it costs what it did before they
// were shared (codec/event.hpp has the figures).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace procmon::codec {

static_assert(std::endian::native == std::endian::little, "the wire formats are little-endian");

constexpr std::size_t kMaxVarintBytes = 10;  // 64 bits, 7 a byte

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

static inline void put_varint(std::vector<unsigned char> &out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<unsigned char>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<unsigned char>(v));
}

// A double as its 8 IEEE-754 bytes: exact, NaN and infinities included.
inline void put_f64(std::vector<unsigned char> &out, double v) {
    const uint64_t bits = std::bit_cast<uint64_t>(v);
    for (int i = 0; i < 64; i += 8) out.push_back(static_cast<unsigned char>(bits >> i));
}

// Bytes: their length as a varint, the bytes, then a 0 so that a reader may
// point at them in place as a C string.
[[gnu::noinline]] static inline void put_bytes(std::vector<unsigned char> &out, const char *s, std::size_t len) {
    put_varint(out, len);
    if (len > 0) out.insert(out.end(), s, s + len);
    out.push_back(0);
}

// Reads back what the put_* wrote, every read bounded by `end`. The first
// failure clears `ok` and every later read returns zero or empty: check ok
// once at the end. A length is checked against what remains and against
// the caller's maximum before anything is pointed at, copied or allocated.
struct Cursor {
    const unsigned char *p, *end;
    bool ok = true;

    std::size_t remaining() const { return static_cast<std::size_t>(end - p); }
    bool fail() { return ok = false; }

    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= end) return fail(), 0;
            const unsigned char b = *p++;
            if (shift == 63 && b > 1) return fail(), 0;  // a 10th byte holds only bit 63
            v |= static_cast<uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
        return fail(), 0;  // an 11th byte: no 64-bit value is that long
    }
    // A varint that must be at most `max`.
    uint64_t varint_max(uint64_t max) {
        const uint64_t v = varint();
        return v > max ? (fail(), 0) : v;
    }
    uint32_t u32() { return static_cast<uint32_t>(varint_max(UINT32_MAX)); }
    int32_t i32() {
        const int64_t v = unzigzag(varint());
        if (v < INT32_MIN || v > INT32_MAX) return fail(), 0;
        return static_cast<int32_t>(v);
    }
    uint8_t byte() {
        if (p >= end) return fail(), 0;
        return *p++;
    }
    double f64() {
        if (remaining() < 8) return fail(), 0.0;
        uint64_t bits = 0;
        for (int i = 0; i < 64; i += 8) bits |= static_cast<uint64_t>(*p++) << i;
        return std::bit_cast<double>(bits);
    }
    // Bytes of at most `max`: a pointer into the input (NUL-terminated
    // there) and their length; "" and 0 on failure.
    const char *bytes(std::size_t &len, std::size_t max) {
        len = 0;
        const uint64_t n = varint();
        if (!ok || n > max || n >= remaining() || p[n] != 0) return fail(), "";
        const char *s = reinterpret_cast<const char *>(p);
        p += n + 1;
        len = static_cast<std::size_t>(n);
        return s;
    }
    // The next n bytes as a cursor of their own (n checked first).
    Cursor take(uint64_t n) {
        if (!ok || n > remaining()) return fail(), Cursor{end, end, false};
        const Cursor part{p, p + n};
        p += n;
        return part;
    }
};

}  // namespace procmon::codec
