#include "protocol/frame.hpp"

#include <cstring>

namespace procmon::protocol {
namespace {

uint32_t read_length(const unsigned char *p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

const char *type_name(Type t) {
    switch (t) {
    case Type::hello: return "hello";
    case Type::ping: return "ping";
    case Type::enumerate: return "enumerate";
    case Type::system: return "system";
    case Type::stats: return "stats";
    case Type::signal: return "signal";
    case Type::subscribe: return "subscribe";
    case Type::status: return "status";
    case Type::clients: return "clients";
    case Type::welcome: return "welcome";
    case Type::pong: return "pong";
    case Type::snapshot: return "snapshot";
    case Type::system_info: return "system_info";
    case Type::stats_info: return "stats_info";
    case Type::done: return "done";
    case Type::subscribed: return "subscribed";
    case Type::events: return "events";
    case Type::status_info: return "status_info";
    case Type::client_list: return "client_list";
    case Type::history_end: return "history_end";
    case Type::error: return "error";
    }
    return "unknown";
}

void begin_frame(std::vector<unsigned char> &out, Type t) {
    out.insert(out.end(), kLengthBytes, 0);  // end_frame writes it
    out.push_back(static_cast<unsigned char>(t));
}

void end_frame(std::vector<unsigned char> &out, std::size_t start) {
    // The length counts the type byte and the payload, not itself. A frame
    // above 4 GiB cannot be said in 4 bytes; every side's maximum is far
    // below, and a writer checks its frame against that maximum.
    const std::size_t length = out.size() - start - kLengthBytes;
    for (std::size_t i = 0; i < kLengthBytes; ++i) out[start + i] = static_cast<unsigned char>(length >> (8 * i));
}

void FrameReader::compact() {
    if (begin_ == 0) return;
    const std::size_t kept = filled_ - begin_;
    if (kept > 0) std::memmove(buf_.data(), buf_.data() + begin_, kept);
    begin_ = 0;
    filled_ = kept;
}

unsigned char *FrameReader::space(std::size_t want) {
    // The frame last returned is given up here (its payload pointed into
    // the bytes now moved), so the buffer holds only what is not yet a
    // frame, plus the room asked for.
    compact();
    // A connection that once took a large frame does not keep its memory
    // while it idles: with nothing buffered, a large buffer is let go.
    constexpr std::size_t kKeepBytes = 1u << 20;
    if (filled_ == 0 && buf_.size() > kKeepBytes && want <= kKeepBytes) buf_ = {};
    if (buf_.size() < filled_ + want) buf_.resize(filled_ + want);
    return buf_.data() + filled_;
}

void FrameReader::commit(std::size_t n) { filled_ += n; }

void FrameReader::feed(const unsigned char *p, std::size_t n) {
    if (n == 0) return;  // p may be null then, and memcpy may not take it
    std::memcpy(space(n), p, n);
    commit(n);
}

FrameReader::Status FrameReader::next(Frame &out) {
    const std::size_t have = filled_ - begin_;
    if (have < kLengthBytes) return Status::need_more;
    const unsigned char *head = buf_.data() + begin_;
    const uint32_t length = read_length(head);
    // Refused before its body is waited for, let alone buffered; the bytes
    // stay, so every later call says the same.
    if (length > max_) return Status::too_large;
    if (length == 0) return Status::empty;
    if (have - kLengthBytes < length) return Status::need_more;
    out.type = static_cast<Type>(head[kLengthBytes]);
    out.payload = head + kLengthBytes + 1;
    out.size = length - 1;
    begin_ += kLengthBytes + length;
    if (begin_ == filled_) begin_ = filled_ = 0;  // nothing left: start over without a move
    return Status::frame;
}

std::size_t FrameReader::partial() const {
    const std::size_t have = filled_ - begin_;
    if (have < kLengthBytes) return have;
    const uint32_t length = read_length(buf_.data() + begin_);
    return have - kLengthBytes >= length ? 0 : have;  // a whole frame waiting is not late
}

}  // namespace procmon::protocol
