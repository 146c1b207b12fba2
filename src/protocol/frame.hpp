// procmond's wire: length-prefixed frames over a stream socket
// (docs/protocol.md). A frame is a 4-byte little-endian length, then that
// many bytes: a 1-byte message type and the message's payload. The reader
// never trusts a length: one above the side's maximum is refused as soon as
// its 4 bytes arrive, before anything is buffered for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace procmon::protocol {

// The protocol this library speaks; a hello names the range a client speaks.
constexpr uint32_t kVersion = 1;
constexpr std::size_t kLengthBytes = 4;
// A request is small (a query with its pid list); a response may carry a
// whole snapshot. Defaults, each side may be configured lower.
constexpr std::size_t kMaxRequestBytes = 1u << 20;    // 1 MiB
constexpr std::size_t kMaxResponseBytes = 256u << 20; // 256 MiB

enum class Type : uint8_t {
    // client -> server
    hello = 0x01,
    ping = 0x02,
    enumerate = 0x03,
    system = 0x04,
    stats = 0x05,
    signal = 0x06,
    subscribe = 0x07,
    status = 0x08,
    clients = 0x09,
    // server -> client
    welcome = 0x81,
    pong = 0x82,
    snapshot = 0x83,
    system_info = 0x84,
    stats_info = 0x85,
    done = 0x86,         // a request that returns nothing succeeded (signal)
    subscribed = 0x87,   // the stream of events frames begins
    events = 0x88,
    status_info = 0x89,
    client_list = 0x8A,
    history_end = 0x8B,  // PROCMON_SUBSCRIBE_HISTORY: all was sent; the server closes
    error = 0xFF,
};
const char *type_name(Type t);  // "hello", ...; "unknown" for a value not above

// One frame as received: payload points into the reader's buffer, valid
// until the reader is fed or asked again.
struct Frame {
    Type type{};
    const unsigned char *payload = nullptr;
    std::size_t size = 0;
};

// Appends a frame's header for type t to out; end_frame fills its length
// once the payload is appended. start is out.size() before begin_frame.
void begin_frame(std::vector<unsigned char> &out, Type t);
void end_frame(std::vector<unsigned char> &out, std::size_t start);

// Cuts a byte stream into frames, incrementally.
class FrameReader {
public:
    explicit FrameReader(std::size_t max_frame_bytes) : max_(max_frame_bytes) {}

    enum class Status {
        need_more,  // no whole frame buffered yet
        frame,      // `out` holds the next frame
        too_large,  // a length above the maximum: close the connection
        empty,      // a length of 0 (no type byte): close the connection
    };
    // Room for at least `want` more bytes at the end of the buffer, to read
    // into; commit(n) then says how many were read.
    unsigned char *space(std::size_t want);
    void commit(std::size_t n);
    // Or append bytes from elsewhere.
    void feed(const unsigned char *p, std::size_t n);
    Status next(Frame &out);
    // Bytes buffered of a frame not yet whole (0 between frames): a server
    // times how long a frame takes to arrive from its first byte.
    std::size_t partial() const;
    std::size_t max_frame_bytes() const { return max_; }

private:
    void compact();  // moves the bytes not yet returned to the front

    std::size_t max_;
    std::vector<unsigned char> buf_;  // [0, filled_) read; the rest is room from space()
    std::size_t begin_ = 0;   // first byte not yet returned as a frame
    std::size_t filled_ = 0;  // end of the bytes read
};

}  // namespace procmon::protocol
