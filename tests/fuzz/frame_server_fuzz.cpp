// libFuzzer target: what procmond does with a client's bytes. They are cut
// into frames by a FrameReader at the request maximum, and each frame is
// decoded as the server decodes its type. Whatever the input, this ends,
// never reads outside it (ASan), never overflows (UBSan), allocates only
// what its bytes justify (-malloc_limit_mb); the frames are the same
// however the bytes arrive (all at once, or 7 at a time); and a message
// that decodes re-encodes to bytes that decode to the same message.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

#include "protocol/messages.hpp"

namespace {

using namespace procmon::protocol;
using Bytes = std::vector<unsigned char>;

// encode(decode(f)) decodes, and encodes again to the same bytes.
template <class Message, class Encode>
void check_round_trip(const Frame &f, Encode encode_it) {
    Message first;
    if (decode(f, first) != nullptr) return;
    Bytes once;
    encode_it(once, first);
    FrameReader again(SIZE_MAX);
    again.feed(once.data(), once.size());
    Frame g;
    if (again.next(g) != FrameReader::Status::frame || g.type != f.type) std::abort();
    Message second;
    if (decode(g, second) != nullptr) std::abort();
    Bytes twice;
    encode_it(twice, second);
    if (twice != once) std::abort();
}

void serve(const Frame &f) {
    switch (f.type) {
    case Type::hello: return check_round_trip<Hello>(f, [](Bytes &o, const Hello &m) { encode(o, m); });
    case Type::ping: return check_round_trip<Ping>(f, [](Bytes &o, const Ping &m) { encode(o, m, Type::ping); });
    case Type::enumerate: return check_round_trip<Enumerate>(f, [](Bytes &o, const Enumerate &m) { encode(o, m); });
    case Type::signal: return check_round_trip<Signal>(f, [](Bytes &o, const Signal &m) { encode(o, m); });
    case Type::subscribe: return check_round_trip<Subscribe>(f, [](Bytes &o, const Subscribe &m) { encode(o, m); });
    case Type::system:
    case Type::stats:
    case Type::status:
    case Type::clients:
        if (decode_empty(f) == nullptr && f.size != 0) std::abort();
        return;
    default: return;  // the server answers error EPROTO: nothing to decode
    }
}

// The frames of the input as (type, payload) pairs, fed `step` bytes at a time.
std::vector<std::pair<Type, Bytes>> frames_of(const uint8_t *data, size_t size, size_t step, FrameReader::Status &end) {
    std::vector<std::pair<Type, Bytes>> out;
    FrameReader r(kMaxRequestBytes);
    Frame f;
    end = FrameReader::Status::need_more;
    for (size_t at = 0; at < size && end == FrameReader::Status::need_more; at += step) {
        r.feed(data + at, std::min(step, size - at));
        while ((end = r.next(f)) == FrameReader::Status::frame) {
            out.emplace_back(f.type, Bytes(f.payload, f.payload + f.size));
            serve(f);
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FrameReader::Status whole_end, pieces_end;
    const auto whole = frames_of(data, size, size ? size : 1, whole_end);
    const auto pieces = frames_of(data, size, 7, pieces_end);
    if (whole != pieces || whole_end != pieces_end) std::abort();
    return 0;
}
