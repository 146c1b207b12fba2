// libFuzzer target: what a procmon client does with the daemon's bytes. A
// FrameReader at the response maximum cuts them into frames, and each is
// decoded as the client decodes its type (a snapshot by
// codec::decode_processes into a procmon_snapshot, events one by one with
// their strings read). Whatever the input, decoding ends, never reads
// outside it (ASan), never overflows (UBSan) and allocates only what its
// bytes justify (-malloc_limit_mb); a message that decodes re-encodes to
// bytes that decode to the same message.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "codec/process.hpp"
#include "collect/snapshot.hpp"
#include "core/arena.hpp"
#include "fuzz_arena.hpp"
#include "protocol/messages.hpp"

namespace {

using namespace procmon::protocol;
using Bytes = std::vector<unsigned char>;

Frame only_frame_of(const Bytes &once, FrameReader &r) {
    r.feed(once.data(), once.size());
    Frame g;
    if (r.next(g) != FrameReader::Status::frame) std::abort();
    return g;
}

// encode(decode(f)) decodes, and encodes again to the same bytes;
// decode_it returns the DecodeError.
template <class Message, class Decode, class Encode>
void check_round_trip(const Frame &f, Decode decode_it, Encode encode_it) {
    Message first{};
    if (decode_it(f, first) != nullptr) return;
    Bytes once;
    encode_it(once, first);
    FrameReader r(SIZE_MAX);
    const Frame g = only_frame_of(once, r);
    Message second{};
    if (g.type != f.type || decode_it(g, second) != nullptr) std::abort();
    Bytes twice;
    encode_it(twice, second);
    if (twice != once) std::abort();
}

template <class Message>
void plain(const Frame &f) {
    check_round_trip<Message>(f, [](const Frame &g, Message &m) { return decode(g, m); },
                              [](Bytes &o, const Message &m) { encode(o, m); });
}

// The numbers and the strings a stats or status message decodes into.
template <class Struct, class Strings>
struct WithStrings {
    Struct s;
    Strings strings;
    WithStrings() = default;
    WithStrings(const WithStrings &) = delete;  // s points into strings
};
template <class Struct, class Strings>
void with_strings(const Frame &f) {
    auto first = std::make_unique<WithStrings<Struct, Strings>>();
    if (decode(f, first->s, first->strings) != nullptr) return;
    Bytes once;
    encode(once, first->s);
    FrameReader r(SIZE_MAX);
    const Frame g = only_frame_of(once, r);
    auto second = std::make_unique<WithStrings<Struct, Strings>>();
    if (decode(g, second->s, second->strings) != nullptr) std::abort();
    Bytes twice;
    encode(twice, second->s);
    if (twice != once) std::abort();
}

void snapshot(const Frame &f) {
    procmon_snapshot first(fuzz_arena());
    if (procmon::codec::decode_processes(f.payload, f.size, first) != procmon::codec::Decode::ok) return;
    Bytes once;
    encode_snapshot(once, first.records.data(), first.records.size());
    FrameReader r(SIZE_MAX);
    const Frame g = only_frame_of(once, r);
    procmon_snapshot second(fuzz_arena());
    if (procmon::codec::decode_processes(g.payload, g.size, second) != procmon::codec::Decode::ok) std::abort();
}

void events(const Frame &f) {
    std::vector<procmon_event> first;
    std::size_t check = 0;
    const DecodeError why = decode_events(f, [&](const procmon_event &e) {
        // every string the decoder points at is readable (ASan), full_name too
        for (const char *s : {e.name, e.exe, e.full_name}) check += std::strlen(s);
        for (std::size_t k = 0; k < e.argv_len; ++k) check += static_cast<unsigned char>(e.argv[k]);
        first.push_back(e);
    });
    if (why != nullptr || check == SIZE_MAX) return;
    Bytes once;
    encode_events(once, first.data(), first.size());  // strings still point into f
    FrameReader r(SIZE_MAX);
    const Frame g = only_frame_of(once, r);
    std::vector<procmon_event> second;
    if (decode_events(g, [&](const procmon_event &e) { second.push_back(e); }) != nullptr) std::abort();
    Bytes twice;
    encode_events(twice, second.data(), second.size());
    if (twice != once) std::abort();
}

void receive(const Frame &f) {
    switch (f.type) {
    case Type::welcome: return plain<Welcome>(f);
    case Type::pong:
        return check_round_trip<Ping>(f, [](const Frame &g, Ping &m) { return decode(g, m); },
                                      [](Bytes &o, const Ping &m) { encode(o, m, Type::pong); });
    case Type::snapshot: return snapshot(f);
    case Type::system_info: return plain<procmon_system>(f);
    case Type::stats_info: return with_strings<procmon_stats, StatsStrings>(f);
    case Type::done: decode_empty(f); return;
    case Type::subscribed: return plain<Subscribed>(f);
    case Type::events: return events(f);
    case Type::status_info: return with_strings<procmon_daemon_status, StatusStrings>(f);
    case Type::client_list: return plain<std::vector<procmon_daemon_client>>(f);
    case Type::history_end: return plain<HistoryEnd>(f);
    case Type::error: return plain<Error>(f);
    default: return;  // the client says EPROTO: nothing to decode
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FrameReader r(kMaxResponseBytes);
    r.feed(data, size);
    Frame f;
    while (r.next(f) == FrameReader::Status::frame) receive(f);
    return 0;
}
