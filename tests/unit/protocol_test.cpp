// procmond's wire (src/protocol) and its transport (platform/socket.hpp):
// every message survives encoding and decoding with its extreme values;
// every decoder refuses a payload cut at any byte, bytes left over, a count
// its bytes cannot hold and a string over its cap; the frame reader cuts a
// stream however it arrives and refuses a bad length on its 4th byte; and
// the Unix socket does what the daemon and its clients rely on (stale
// files replaced, live ones refused, the mode set, peers known by the
// kernel, a closed peer said as closed, never a SIGPIPE).
#include <criterion/criterion.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "codec/process.hpp"
#include "collect/snapshot.hpp"
#include "core/arena.hpp"
#include "core/error.hpp"
#include "platform/socket.hpp"
#include "protocol/messages.hpp"

using namespace procmon;
using namespace procmon::protocol;
using Bytes = std::vector<unsigned char>;

namespace {

// One encoded frame, its payload copied into a buffer of exactly its size
// (so that a decoder reading past it reads past an allocation).
struct Held {
    Type type{};
    std::unique_ptr<unsigned char[]> bytes;
    std::size_t size = 0;
    Frame frame() const { return Frame{type, bytes.get(), size}; }
};

Held hold(Type t, const unsigned char *p, std::size_t n) {
    Held h{t, std::unique_ptr<unsigned char[]>(new unsigned char[n ? n : 1]), n};
    if (n) std::memcpy(h.bytes.get(), p, n);
    return h;
}

// The one frame in `wire`, as a reader gives it.
Held only_frame(const Bytes &wire) {
    FrameReader r(kMaxResponseBytes);
    r.feed(wire.data(), wire.size());
    Frame f;
    cr_assert_eq(r.next(f), FrameReader::Status::frame);
    cr_assert_eq(r.next(f), FrameReader::Status::need_more, "one frame, nothing after it");
    return hold(f.type, f.payload, f.size);
}

// The decoder refuses the payload cut at every byte short of its end, and
// with one byte too many; `decode` returns its DecodeError.
template <class Decode>
void expect_refuses_cuts_and_extra(const Bytes &wire, Decode decode) {
    const Held whole = only_frame(wire);
    cr_assert_null(decode(whole.frame()), "the whole payload decodes: %s", decode(whole.frame()));
    for (std::size_t cut = 0; cut < whole.size; ++cut) {
        const Held part = hold(whole.type, whole.bytes.get(), cut);
        cr_assert_not_null(decode(part.frame()), "a %s cut to %zu of %zu bytes decoded", type_name(whole.type), cut, whole.size);
    }
    Bytes longer(whole.bytes.get(), whole.bytes.get() + whole.size);
    longer.push_back(0);
    const Held extra = hold(whole.type, longer.data(), longer.size());
    DecodeError why = decode(extra.frame());
    cr_assert_not_null(why, "a %s with a byte left over decoded", type_name(whole.type));
}

// A payload of raw bytes, for hand-made hostile messages.
DecodeError decode_raw(Type t, const Bytes &payload, auto decode) {
    const Held h = hold(t, payload.data(), payload.size());
    return decode(h.frame());
}

std::string text_of(std::size_t n, char c = 'x') { return std::string(n, c); }

}  // namespace

// ------------------------------------------------------------------ frames

Test(frame, layout_is_length_then_type_then_payload) {
    Bytes out;
    encode(out, Ping{0x0102}, Type::ping);
    // length 3 (type + a 2-byte varint), little-endian; type 0x02; 0x82 0x02
    const Bytes expected = {0x03, 0x00, 0x00, 0x00, 0x02, 0x82, 0x02};
    cr_assert(out == expected);
    // docs/protocol.md's hello example, byte for byte
    Bytes hello;
    encode(hello, Hello{1, 1, kCapAll, "cli"});
    const Bytes documented = {0x09, 0, 0, 0, 0x01, 0x01, 0x01, 0x07, 0x03, 'c', 'l', 'i', 0x00};
    cr_assert(hello == documented);
}

Test(frame, a_stream_fed_one_byte_at_a_time_gives_every_frame_once) {
    Bytes wire;
    for (uint64_t token = 0; token < 50; ++token) encode(wire, Ping{token * 1000003}, Type::ping);
    encode(wire, Hello{1, 7, kCapAll, text_of(60000, 'h')});  // many feeds of one byte
    FrameReader r(kMaxRequestBytes);
    uint64_t next_token = 0;
    bool got_hello = false;
    for (std::size_t i = 0; i < wire.size(); ++i) {
        r.feed(&wire[i], 1);
        Frame f;
        const FrameReader::Status s = r.next(f);
        if (s == FrameReader::Status::need_more) {
            cr_assert_gt(r.partial(), 0u);
            continue;
        }
        cr_assert_eq(s, FrameReader::Status::frame);
        cr_assert_eq(r.partial(), 0u, "nothing partial right after a whole frame");
        if (f.type == Type::ping) {
            Ping p;
            cr_assert_null(decode(f, p));
            cr_assert_eq(p.token, next_token++ * 1000003);
        } else {
            Hello h;
            cr_assert_null(decode(f, h));
            cr_assert_eq(h.client.size(), 60000u);
            cr_assert_eq(h.version_max, 7u);
            got_hello = true;
        }
    }
    cr_assert_eq(next_token, 50u);
    cr_assert(got_hello);
}

Test(frame, many_frames_in_one_read_through_space_and_commit) {
    Bytes wire;
    for (uint64_t token = 0; token < 1000; ++token) encode(wire, Ping{token}, Type::pong);
    FrameReader r(64);
    std::memcpy(r.space(wire.size()), wire.data(), wire.size());
    r.commit(wire.size());
    Frame f;
    for (uint64_t token = 0; token < 1000; ++token) {
        cr_assert_eq(r.next(f), FrameReader::Status::frame);
        cr_assert_eq(f.type, Type::pong);
        Ping p;
        cr_assert_null(decode(f, p));
        cr_assert_eq(p.token, token);
    }
    cr_assert_eq(r.next(f), FrameReader::Status::need_more);
    cr_assert_eq(r.partial(), 0u);
}

Test(frame, a_length_above_the_maximum_is_refused_on_its_fourth_byte) {
    FrameReader r(1000);
    const unsigned char length[4] = {0xE9, 0x03, 0, 0};  // 1001
    Frame f;
    for (int i = 0; i < 3; ++i) {
        r.feed(&length[i], 1);
        cr_assert_eq(r.next(f), FrameReader::Status::need_more);
    }
    r.feed(&length[3], 1);
    cr_assert_eq(r.next(f), FrameReader::Status::too_large);
    cr_assert_eq(r.next(f), FrameReader::Status::too_large, "and it stays refused");
    // The largest allowed is taken.
    FrameReader ok(1000);
    Bytes wire = {0xE8, 0x03, 0, 0, static_cast<unsigned char>(Type::enumerate)};
    wire.resize(4 + 1000, 0);
    ok.feed(wire.data(), wire.size());
    cr_assert_eq(ok.next(f), FrameReader::Status::frame);
    cr_assert_eq(f.size, 999u);
    // The absolute maximum: 4 GiB - 1 is refused without a byte of it.
    FrameReader big(kMaxResponseBytes);
    const unsigned char huge[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    big.feed(huge, 4);
    cr_assert_eq(big.next(f), FrameReader::Status::too_large);
}

Test(frame, a_length_of_zero_is_refused) {
    FrameReader r(kMaxRequestBytes);
    const unsigned char zero[4] = {};
    r.feed(zero, 4);
    Frame f;
    cr_assert_eq(r.next(f), FrameReader::Status::empty);
}

Test(frame, feeding_nothing_changes_nothing) {
    FrameReader r(kMaxRequestBytes);
    r.feed(nullptr, 0);  // a read of 0 bytes, before any buffer exists (frame_client_fuzz found it)
    Frame f;
    cr_assert_eq(r.next(f), FrameReader::Status::need_more);
    cr_assert_eq(r.partial(), 0u);
}

Test(frame, an_empty_payload_is_a_frame) {
    Bytes wire;
    encode_empty(wire, Type::status);
    cr_assert_eq(wire.size(), 5u);
    const Held h = only_frame(wire);
    cr_assert_eq(h.type, Type::status);
    cr_assert_null(decode_empty(h.frame()));
    const Bytes one = {0};
    cr_assert_not_null(decode_raw(Type::stats, one, [](const Frame &f) { return decode_empty(f); }));
}

Test(frame, every_type_has_its_name) {
    cr_assert_str_eq(type_name(Type::hello), "hello");
    cr_assert_str_eq(type_name(Type::history_end), "history_end");
    cr_assert_str_eq(type_name(Type::error), "error");
    cr_assert_str_eq(type_name(static_cast<Type>(0x40)), "unknown");
}

// ---------------------------------------------------------------- messages

Test(messages, hello_and_welcome_round_trip_and_choose_a_version) {
    const Hello h{0, UINT32_MAX, UINT64_MAX, text_of(kMaxTextBytes)};
    Bytes wire;
    encode(wire, h);
    Hello back;
    cr_assert_null(decode(only_frame(wire).frame(), back));
    cr_assert_eq(back.version_min, 0u);
    cr_assert_eq(back.version_max, UINT32_MAX);
    cr_assert_eq(back.capabilities, UINT64_MAX);
    cr_assert(back.client == h.client);
    Bytes small;
    encode(small, Hello{1, 300, kCapStatus, "procmon 0.4.0 (pid 123)"});
    expect_refuses_cuts_and_extra(small, [](const Frame &f) { Hello m; return decode(f, m); });

    Bytes too_long;
    encode(too_long, Hello{1, 1, 0, text_of(kMaxTextBytes + 1)});
    cr_assert_str_eq(decode(only_frame(too_long).frame(), back), "a text longer than 64 KiB");

    cr_assert_eq(choose_version(Hello{1, 5, 0, ""}, 1, 3), 3u);
    cr_assert_eq(choose_version(Hello{2, 2, 0, ""}, 1, 3), 2u);
    cr_assert_eq(choose_version(Hello{4, 9, 0, ""}, 1, 3), 0u, "no version in common");
    cr_assert_eq(choose_version(Hello{}), kVersion);

    const Welcome w{UINT32_MAX, kCapAll, UINT64_MAX, "procmond 0.4.0", INT32_MIN, UINT32_MAX, 0, UINT32_MAX};
    Bytes ww;
    encode(ww, w);
    Welcome wb;
    cr_assert_null(decode(only_frame(ww).frame(), wb));
    cr_assert_eq(wb.version, UINT32_MAX);
    cr_assert_eq(wb.permissions, UINT64_MAX);
    cr_assert_eq(wb.peer_pid, INT32_MIN);
    cr_assert_eq(wb.peer_uid, UINT32_MAX);
    cr_assert_eq(wb.max_request_bytes, UINT32_MAX);
    cr_assert_str_eq(wb.server.c_str(), "procmond 0.4.0");
    expect_refuses_cuts_and_extra(ww, [](const Frame &f) { Welcome m; return decode(f, m); });
}

Test(messages, a_decoder_refuses_a_frame_of_another_type) {
    Bytes wire;
    encode(wire, Ping{7}, Type::ping);
    Held h = only_frame(wire);
    Hello hello;
    cr_assert_not_null(decode(h.frame(), hello));
    Subscribed s;
    cr_assert_not_null(decode(h.frame(), s));
    EventsCursor c;
    cr_assert_not_null(begin_events(h.frame(), c));
}

Test(messages, error_round_trips_and_must_be_an_error) {
    Bytes wire;
    encode(wire, Error{PROCMON_EPROTO, "no version in common: the client speaks 4..9, procmond 1..1"});
    Error e;
    cr_assert_null(decode(only_frame(wire).frame(), e));
    cr_assert_eq(e.status, PROCMON_EPROTO);
    cr_assert_str_eq(e.message.c_str(), "no version in common: the client speaks 4..9, procmond 1..1");
    expect_refuses_cuts_and_extra(wire, [](const Frame &f) { Error m; return decode(f, m); });

    Bytes ok;
    encode(ok, Error{PROCMON_OK, "fine"});
    cr_assert_not_null(decode(only_frame(ok).frame(), e), "status 0 is not an error");
    Bytes huge;
    encode(huge, Error{INT32_MIN, text_of(kMaxTextBytes * 2)});
    cr_assert_null(decode(only_frame(huge).frame(), e), "a long message is cut to what a reader takes");
    cr_assert_eq(e.message.size(), kMaxTextBytes);
    cr_assert_eq(e.status, INT32_MIN);
}

Test(messages, ping_and_pong_round_trip) {
    for (Type t : {Type::ping, Type::pong}) {
        Bytes wire;
        encode(wire, Ping{UINT64_MAX}, t);
        const Held h = only_frame(wire);
        cr_assert_eq(h.type, t);
        Ping p;
        cr_assert_null(decode(h.frame(), p));
        cr_assert_eq(p.token, UINT64_MAX);
        expect_refuses_cuts_and_extra(wire, [](const Frame &f) { Ping m; return decode(f, m); });
    }
}

Test(messages, enumerate_round_trips_with_extreme_values) {
    Enumerate many;
    many.fields = UINT64_MAX;
    many.flags = UINT32_MAX;
    many.uid = INT64_MIN;
    many.name_glob = "";
    many.cmdline_glob = text_of(kMaxGlobBytes, '*');
    many.has_pids = true;
    for (int32_t i = 0; i < 100000; ++i) many.pids.push_back(i % 2 ? INT32_MAX - i : INT32_MIN + i);
    Enumerate none;
    none.uid = INT64_MAX;
    none.has_pids = true;  // an empty list: keeps no process
    Enumerate all;         // no globs, no list

    for (const Enumerate *m : {&many, &none, &all}) {
        Bytes wire;
        encode(wire, *m);
        Enumerate back;
        back.pids = {1, 2, 3};  // a decode replaces what was there
        cr_assert_null(decode(only_frame(wire).frame(), back));
        cr_assert_eq(back.fields, m->fields);
        cr_assert_eq(back.flags, m->flags);
        cr_assert_eq(back.uid, m->uid);
        cr_assert(back.name_glob == m->name_glob);
        cr_assert(back.cmdline_glob == m->cmdline_glob);
        cr_assert_eq(back.has_pids, m->has_pids);
        cr_assert(back.pids == m->pids);
        if (m != &many) expect_refuses_cuts_and_extra(wire, [](const Frame &f) { Enumerate e; return decode(f, e); });
    }
    // The long list cut at a few places (every byte would be 400k decodes).
    Bytes wire;
    encode(wire, many);
    const Held whole = only_frame(wire);
    Enumerate back;
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, whole.size / 2, whole.size - 1}) {
        const Held part = hold(Type::enumerate, whole.bytes.get(), cut);
        cr_assert_not_null(decode(part.frame(), back), "cut to %zu", cut);
    }
}

Test(messages, enumerate_refuses_hostile_counts_and_strings) {
    const auto dec = [](const Frame &f) { Enumerate m; return decode(f, m); };
    // fields, flags, uid, no globs, a list of 5 pids with 4 bytes after the count
    const Bytes short_list = {0, 0, 1, 0, 0, 1, 5, 2, 4, 6, 8};
    cr_assert_str_eq(decode_raw(Type::enumerate, short_list, dec), "a pid list longer than its bytes");
    const Bytes huge_count = {0, 0, 1, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    cr_assert_str_eq(decode_raw(Type::enumerate, huge_count, dec), "a pid list longer than its bytes");
    const Bytes bad_presence = {0, 0, 1, 2, 0, 0};
    cr_assert_str_eq(decode_raw(Type::enumerate, bad_presence, dec), "a presence byte other than 0 or 1");
    Enumerate long_glob;
    long_glob.name_glob = text_of(kMaxGlobBytes + 1);
    Bytes wire;
    encode(wire, long_glob);
    cr_assert_str_eq(dec(only_frame(wire).frame()), "a glob longer than 4096 bytes");
    const Bytes pid_out_of_range = {0, 0, 1, 0, 0, 1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F};  // zigzag 2^33-1
    cr_assert_not_null(decode_raw(Type::enumerate, pid_out_of_range, dec));
    const Bytes no_nul = {0, 0, 1, 1, 2, 'a', 'b', 'c', 0, 0};  // "ab" followed by 'c', not its NUL
    cr_assert_not_null(decode_raw(Type::enumerate, no_nul, dec));
}

Test(messages, subscribe_signal_and_sequence_numbers_round_trip) {
    const Subscribe s{UINT32_MAX, UINT32_MAX, INT64_MIN, INT32_MIN, UINT32_MAX, text_of(kMaxGlobBytes), "", UINT64_MAX};
    Bytes wire;
    encode(wire, s);
    Subscribe back;
    back.name_glob = "stale";
    cr_assert_null(decode(only_frame(wire).frame(), back));
    cr_assert_eq(back.events, UINT32_MAX);
    cr_assert_eq(back.flags, UINT32_MAX);
    cr_assert_eq(back.uid, INT64_MIN);
    cr_assert_eq(back.descendants_of, INT32_MIN);
    cr_assert_eq(back.queue_capacity, UINT32_MAX);
    cr_assert(back.name_glob == s.name_glob);
    cr_assert(back.cmdline_glob == std::optional<std::string>(""));
    cr_assert_eq(back.from_seq, UINT64_MAX);
    expect_refuses_cuts_and_extra(wire, [](const Frame &f) { Subscribe m; return decode(f, m); });
    Bytes absent;
    encode(absent, Subscribe{});
    cr_assert_null(decode(only_frame(absent).frame(), back));
    cr_assert(!back.name_glob && !back.cmdline_glob, "an absent glob stays absent, not empty");
    cr_assert_eq(back.uid, -1);

    Bytes sig;
    encode(sig, Signal{INT32_MIN, UINT64_MAX, INT32_MAX});
    Signal sb;
    cr_assert_null(decode(only_frame(sig).frame(), sb));
    cr_assert_eq(sb.pid, INT32_MIN);
    cr_assert_eq(sb.start_ticks, UINT64_MAX);
    cr_assert_eq(sb.sig, INT32_MAX);
    expect_refuses_cuts_and_extra(sig, [](const Frame &f) { Signal m; return decode(f, m); });

    Bytes sub, end;
    encode(sub, Subscribed{UINT64_MAX});
    encode(end, HistoryEnd{0});
    Subscribed sd;
    HistoryEnd he{5};
    cr_assert_null(decode(only_frame(sub).frame(), sd));
    cr_assert_null(decode(only_frame(end).frame(), he));
    cr_assert_eq(sd.first_seq, UINT64_MAX);
    cr_assert_eq(he.last_seq, 0u);
    expect_refuses_cuts_and_extra(sub, [](const Frame &f) { Subscribed m; return decode(f, m); });
    expect_refuses_cuts_and_extra(end, [](const Frame &f) { HistoryEnd m; return decode(f, m); });
}

Test(messages, system_stats_and_status_carry_every_field) {
    procmon_system sys{};
    sys.size = sizeof sys;
    sys.cpus = UINT32_MAX;
    sys.mem_total_bytes = UINT64_MAX, sys.mem_available_bytes = 1, sys.mem_used_bytes = 2, sys.mem_free_bytes = 3;
    sys.swap_total_bytes = 4, sys.swap_free_bytes = 5;
    sys.load1 = std::nan(""), sys.load5 = -0.0, sys.load15 = 1e308;
    sys.boot_time_ns = 1764600000123456789ull, sys.processes = 6;
    Bytes wire;
    encode(wire, sys);
    procmon_system sb;
    cr_assert_null(decode(only_frame(wire).frame(), sb));
    cr_assert(std::memcmp(&sys, &sb, sizeof sys) == 0, "a field of procmon_system differs");
    expect_refuses_cuts_and_extra(wire, [](const Frame &f) { procmon_system m; return decode(f, m); });

    // Every number distinct, so a field swapped with another shows.
    procmon_stats st{};
    st.size = sizeof st;
    uint64_t v = UINT64_MAX - 100;
    for (uint64_t *f : {&st.arena_cap_bytes, &st.arena_used_bytes, &st.arena_peak_bytes, &st.enumerations, &st.cache_entries,
                        &st.cache_hits, &st.cache_misses, &st.events_received, &st.events_filtered, &st.events_delivered,
                        &st.events_dropped, &st.events_lost, &st.resyncs, &st.backpressure_activations,
                        &st.backpressure_delay_ns, &st.collector_cpu_ns, &st.process_rss_bytes})
        *f = v++;
    st.event_source = PROCMON_STATS_SOURCE_POLLING, st.poll_interval_ms = UINT32_MAX;
    st.source_reason = "netlink: Operation not permitted";
    st.allocator = "mimalloc arena";
    st.source_name = nullptr;  // sent as ""
    Bytes sw;
    encode(sw, st);
    procmon_stats stb;
    StatsStrings strings;
    cr_assert_null(decode(only_frame(sw).frame(), stb, strings));
    cr_assert_str_eq(stb.source_reason, st.source_reason);
    cr_assert_str_eq(stb.allocator, st.allocator);
    cr_assert_str_eq(stb.source_name, "");
    procmon_stats x = st, y = stb;
    x.source_reason = x.allocator = x.source_name = y.source_reason = y.allocator = y.source_name = nullptr;
    cr_assert(std::memcmp(&x, &y, sizeof x) == 0, "a field of procmon_stats differs");
    expect_refuses_cuts_and_extra(sw, [](const Frame &f) { procmon_stats m; StatsStrings s; return decode(f, m, s); });

    procmon_daemon_status ds{};
    ds.size = sizeof ds;
    ds.protocol_version = UINT32_MAX, ds.daemon_pid = INT32_MIN, ds.peer_uid = UINT32_MAX;
    v = 1;
    for (uint64_t *f : {&ds.started_ns, &ds.clients, &ds.subscriptions, &ds.connections_total, &ds.connections_refused,
                        &ds.requests_total, &ds.events_delivered, &ds.events_dropped, &ds.journal_next_seq,
                        &ds.journal_durable_seq, &ds.journal_bytes, &ds.journal_segments, &ds.journal_lost,
                        &ds.config_generation, &ds.config_loaded_ns, &ds.config_reload_failures, &ds.rss_bytes,
                        &ds.arena_used_bytes})
        *f = v++;
    ds.arena_cap_bytes = UINT64_MAX;
    ds.daemon_version = "0.4.0", ds.config_path = "/etc/procmond.toml", ds.source_name = "netlink";
    Bytes dw;
    encode(dw, ds);
    procmon_daemon_status dsb;
    StatusStrings ss;
    cr_assert_null(decode(only_frame(dw).frame(), dsb, ss));
    cr_assert_str_eq(dsb.daemon_version, "0.4.0");
    cr_assert_str_eq(dsb.config_path, "/etc/procmond.toml");
    cr_assert_str_eq(dsb.source_name, "netlink");
    procmon_daemon_status a = ds, b = dsb;
    a.daemon_version = a.config_path = a.source_name = b.daemon_version = b.config_path = b.source_name = nullptr;
    cr_assert(std::memcmp(&a, &b, sizeof a) == 0, "a field of procmon_daemon_status differs");
    expect_refuses_cuts_and_extra(dw, [](const Frame &f) { procmon_daemon_status m; StatusStrings s; return decode(f, m, s); });
}

Test(messages, client_lists_round_trip_and_refuse_counts_past_their_bytes) {
    const auto dec = [](const Frame &f) { std::vector<procmon_daemon_client> m; return decode(f, m); };
    std::vector<procmon_daemon_client> clients;
    for (uint32_t i = 0; i < 1000; ++i) {
        procmon_daemon_client c{};
        c.size = sizeof c;
        c.kind = i % 2 ? PROCMON_CLIENT_SUBSCRIBER : PROCMON_CLIENT_REQUESTS;
        c.pid = i == 0 ? INT32_MIN : static_cast<int32_t>(i);
        c.uid = UINT32_MAX - i, c.gid = i;
        c.connected_ns = UINT64_MAX - i, c.requests = i, c.events_delivered = 2 * i, c.events_dropped = 3 * i;
        c.queue_depth = 4 * i, c.queue_capacity = 5 * i, c.next_seq = UINT64_MAX / (i + 1);
        clients.push_back(c);
    }
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, clients.size()}) {
        const std::vector<procmon_daemon_client> some(clients.begin(), clients.begin() + static_cast<long>(n));
        Bytes wire;
        encode(wire, some);
        std::vector<procmon_daemon_client> back(3);
        cr_assert_null(decode(only_frame(wire).frame(), back));
        cr_assert_eq(back.size(), n);
        for (std::size_t i = 0; i < n; ++i) cr_assert(std::memcmp(&back[i], &some[i], sizeof back[i]) == 0, "client %zu differs", i);
        if (n <= 1) expect_refuses_cuts_and_extra(wire, dec);
    }
    const Bytes count_past_bytes = {2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // 2 clients, 11 bytes: room for one
    cr_assert_str_eq(decode_raw(Type::client_list, count_past_bytes, dec), "a client list longer than its bytes");
}

namespace {

procmon_event event_of(uint32_t type, uint64_t seq) {
    procmon_event e{};
    e.size = sizeof e;
    e.type = type;
    e.seq = seq;
    e.pid = INT32_MAX, e.ppid = INT32_MIN, e.uid = UINT32_MAX - 1;
    e.time_ns = 1764600000123456789ull, e.start_time_ns = 1764600000000000000ull;
    e.start_ticks = UINT64_MAX, e.exit_code = INT32_MIN, e.exit_signal = INT32_MAX;
    e.lifetime_ns = UINT64_MAX, e.lost = type == PROCMON_EVENT_LOST ? 12345 : 0;
    e.name = "", e.exe = "", e.argv = "", e.argv_len = 0;
    return e;
}

std::vector<procmon_event> decode_all(const Held &h, DecodeError &why) {
    std::vector<procmon_event> out;
    why = decode_events(h.frame(), [&](const procmon_event &e) { out.push_back(e); });
    return out;
}

}  // namespace

Test(messages, events_round_trip_with_their_sequence_numbers) {
    // 1 MiB of argv, and a full name derived from it (the comm was cut).
    std::string argv = "/usr/lib/longer-program-name";
    argv.push_back('\0');
    argv += text_of((1u << 20) - argv.size() - 1, 'a');
    argv.push_back('\0');
    procmon_event exec = event_of(PROCMON_EVENT_EXEC, UINT64_MAX);
    exec.name = "longer-program-", exec.exe = "/usr/lib/longer-program-name";
    exec.argv = argv.data(), exec.argv_len = argv.size(), exec.argc = 2;
    procmon_event lost = event_of(PROCMON_EVENT_LOST, 0);
    procmon_event deleted = event_of(PROCMON_EVENT_START, 7);
    deleted.name = "deleted-program", deleted.exe = "/opt/deleted-program-v2 (deleted)";
    const std::vector<procmon_event> sent = {exec, lost, deleted};

    Bytes wire;
    encode_events(wire, sent.data(), sent.size());
    const Held h = only_frame(wire);
    DecodeError why;
    const std::vector<procmon_event> got = decode_all(h, why);
    cr_assert_null(why, "%s", why);
    cr_assert_eq(got.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const procmon_event &a = sent[i], &b = got[i];
        cr_assert_eq(b.size, sizeof b);
        cr_assert_eq(b.seq, a.seq, "event %zu", i);
        cr_assert_eq(b.type, a.type);
        cr_assert_eq(b.pid, a.pid);
        cr_assert_eq(b.ppid, a.ppid);
        cr_assert_eq(b.uid, a.uid);
        cr_assert_eq(b.time_ns, a.time_ns);
        cr_assert_eq(b.start_time_ns, a.start_time_ns);
        cr_assert_eq(b.start_ticks, a.start_ticks);
        cr_assert_eq(b.exit_code, a.exit_code);
        cr_assert_eq(b.exit_signal, a.exit_signal);
        cr_assert_eq(b.lifetime_ns, a.lifetime_ns);
        cr_assert_eq(b.lost, a.lost);
        cr_assert_eq(b.argc, a.argc);
        cr_assert_str_eq(b.name, a.name);
        cr_assert_str_eq(b.exe, a.exe);
        cr_assert_eq(b.argv_len, a.argv_len);
        cr_assert(std::memcmp(b.argv, a.argv, a.argv_len) == 0);
        const bool in_frame = b.name >= reinterpret_cast<const char *>(h.bytes.get()) &&
                              b.name < reinterpret_cast<const char *>(h.bytes.get() + h.size);
        cr_assert(in_frame, "strings point into the frame");
    }
    cr_assert_str_eq(got[0].full_name, "longer-program-name", "the name users see, from argv[0]");
    cr_assert_str_eq(got[1].full_name, "");
    // full_name for the third is read while its cursor lives: walk by hand
    EventsCursor c;
    cr_assert_null(begin_events(h.frame(), c));
    procmon_event e;
    for (int i = 0; i < 3; ++i) cr_assert_null(next_event(c, e));
    cr_assert_str_eq(e.full_name, "deleted-program-v2", "\" (deleted)\" is not part of the name");
    cr_assert_not_null(next_event(c, e), "no fourth event");

    Bytes none;
    encode_events(none, nullptr, 0);
    cr_assert_eq(decode_all(only_frame(none), why).size(), 0u);
    cr_assert_null(why);
    const auto dec = [](const Frame &f) { return decode_events(f, [](const procmon_event &) {}); };
    expect_refuses_cuts_and_extra(none, dec);
    Bytes small;
    const std::vector<procmon_event> two = {lost, deleted};
    encode_events(small, two.data(), two.size());
    expect_refuses_cuts_and_extra(small, dec);
}

Test(messages, events_refuse_counts_and_lengths_past_their_bytes) {
    const auto dec = [](const Frame &f) { return decode_events(f, [](const procmon_event &) {}); };
    Bytes one;
    const procmon_event lost = event_of(PROCMON_EVENT_LOST, 3);
    encode_events(one, &lost, 1);
    Held h = only_frame(one);
    Bytes payload(h.bytes.get(), h.bytes.get() + h.size);
    payload[0] = 100;  // a hundred events promised, bytes for one
    cr_assert_str_eq(decode_raw(Type::events, payload, dec), "an events count larger than its bytes");
    payload[0] = 1;
    payload[2] = 0x7F;  // the event's length, far past the frame
    cr_assert_str_eq(decode_raw(Type::events, payload, dec), "an event cut short");
    payload[2] = static_cast<unsigned char>(h.size - 3 - 1);  // one byte short of its event
    cr_assert_not_null(decode_raw(Type::events, payload, dec));
    payload[2] = static_cast<unsigned char>(h.size - 3);
    payload[3] = 3;  // a type that is no single PROCMON_EVENT_*
    cr_assert_str_eq(decode_raw(Type::events, payload, dec), "an event that does not decode");
}

Test(messages, a_snapshot_is_the_codec_s_process_list) {
    procmon_process p[2]{};
    for (int i = 0; i < 2; ++i) {
        p[i].size = sizeof p[i];
        p[i].pid = i + 1;
        p[i].name = p[i].exe = p[i].cwd = p[i].cgroup = p[i].container_id = p[i].full_name = "x";
        p[i].argv = "x";
        p[i].argv_len = 2;
    }
    Bytes wire;
    encode_snapshot(wire, p, 2);
    const Held h = only_frame(wire);
    cr_assert_eq(h.type, Type::snapshot);
    std::shared_ptr<Arena> arena;
    cr_assert_eq(Arena::create(16u << 20, arena), PROCMON_OK);
    procmon_snapshot snap(arena);
    cr_assert_eq(codec::decode_processes(h.bytes.get(), h.size, snap), codec::Decode::ok);
    cr_assert_eq(snap.records.size(), 2u);
    cr_assert_eq(snap.records[1].pid, 2);
}

// ----------------------------------------------------------------- sockets

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char name[] = "/tmp/procmon-protocol-XXXXXX";
        cr_assert_not_null(mkdtemp(name));
        path = name;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string operator/(const char *name) const { return path + "/" + name; }
};

const char *last_message() { return last_error()->message; }

struct Pair {
    platform::Socket listener, client, server;
};

void connect_pair(const std::string &path, Pair &p) {
    cr_assert_eq(platform::listen_local(path, 0600, -1, 16, p.listener), PROCMON_OK, "%s", last_message());
    cr_assert_eq(platform::connect_local(path, 1000, p.client), PROCMON_OK, "%s", last_message());
    cr_assert_eq(platform::accept_local(p.listener, p.server), PROCMON_OK, "%s", last_message());
}

}  // namespace

Test(socket, connect_accept_and_the_kernel_s_word_on_the_peer) {
    TempDir dir;
    Pair p;
    connect_pair(dir / "s", p);
    platform::PeerCredentials who;
    cr_assert_eq(p.server.peer(who), PROCMON_OK);
    cr_assert_eq(who.pid, getpid());
    cr_assert_eq(who.uid, getuid());
    cr_assert_eq(who.gid, getgid());
    platform::Socket none;
    cr_assert_eq(platform::accept_local(p.listener, none), PROCMON_EAGAIN, "no second connection waits");

    Bytes wire;
    encode(wire, Hello{});
    cr_assert_eq(p.client.send_all(wire.data(), wire.size(), 1000), PROCMON_OK);
    FrameReader r(kMaxRequestBytes);
    Frame f;
    FrameReader::Status s = FrameReader::Status::need_more;
    while (s == FrameReader::Status::need_more) {
        platform::Watch w{p.server.handle()};
        cr_assert_eq(platform::wait_ready(&w, 1, 1000), platform::Wait::ready);
        std::size_t n = 0;
        cr_assert_eq(p.server.recv_some(r.space(4096), 4096, n), platform::Socket::Io::ok);
        r.commit(n);
        s = r.next(f);
    }
    cr_assert_eq(s, FrameReader::Status::frame);
    Hello h;
    cr_assert_null(decode(f, h));
    cr_assert_eq(h.version_max, kVersion);
}

Test(socket, the_socket_file_has_the_mode_asked_for) {
    TempDir dir;
    platform::Socket l;
    const std::string path = dir / "s";
    cr_assert_eq(platform::listen_local(path, 0660, getgid(), 4, l), PROCMON_OK, "%s", last_message());
    struct stat st;
    cr_assert_eq(lstat(path.c_str(), &st), 0);
    cr_assert(S_ISSOCK(st.st_mode));
    cr_assert_eq(st.st_mode & 07777, 0660u);
    cr_assert_eq(st.st_gid, getgid());
    cr_assert_eq(platform::set_socket_file_mode(l, path, 0600, -1), PROCMON_OK);
    cr_assert_eq(lstat(path.c_str(), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600u);
}

Test(socket, a_mode_change_never_follows_a_symlink_put_at_the_path) {
    TempDir dir;
    platform::Socket l;
    const std::string path = dir / "s", target = dir / "target";
    cr_assert_eq(platform::listen_local(path, 0600, -1, 4, l), PROCMON_OK, "%s", last_message());
    std::ofstream(target) << "keep me";
    cr_assert_eq(chmod(target.c_str(), 0600), 0);
    cr_assert_eq(unlink(path.c_str()), 0);
    cr_assert_eq(symlink(target.c_str(), path.c_str()), 0);
    cr_assert_eq(platform::set_socket_file_mode(l, path, 0666, getgid()), PROCMON_EPERM);
    cr_assert(std::strstr(last_message(), path.c_str()) != nullptr, "%s", last_message());
    cr_assert(std::strstr(last_message(), "a symbolic link") != nullptr, "%s", last_message());
    struct stat st;
    cr_assert_eq(stat(target.c_str(), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600u, "the target keeps its mode");

    // another socket bound at the path since: not ours either
    cr_assert_eq(unlink(path.c_str()), 0);
    platform::Socket other;
    cr_assert_eq(platform::listen_local(path, 0600, -1, 4, other), PROCMON_OK, "%s", last_message());
    cr_assert_eq(platform::set_socket_file_mode(l, path, 0666, -1), PROCMON_EPERM);
    cr_assert_eq(lstat(path.c_str(), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600u);
}

Test(socket, a_stale_socket_file_is_replaced_a_live_one_refused) {
    TempDir dir;
    const std::string path = dir / "s";
    {  // a dead daemon's socket: bound, then closed without an unlink
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, path.c_str());
        cr_assert_eq(bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
        close(fd);
    }
    platform::Socket probe;
    cr_assert_eq(platform::connect_local(path, 1000, probe), PROCMON_EIO);
    cr_assert(std::strstr(last_message(), "nobody listens there") != nullptr, "%s", last_message());

    platform::Socket live;
    cr_assert_eq(platform::listen_local(path, 0600, -1, 4, live), PROCMON_OK, "the stale file is replaced: %s", last_message());
    platform::Socket second;
    cr_assert_eq(platform::listen_local(path, 0600, -1, 4, second), PROCMON_EBUSY);
    cr_assert(std::strstr(last_message(), "another daemon listens at") != nullptr, "%s", last_message());
    platform::Socket c;
    cr_assert_eq(platform::connect_local(path, 1000, c), PROCMON_OK, "the first daemon still has its socket");
}

Test(socket, a_file_that_is_not_a_socket_is_never_replaced) {
    TempDir dir;
    const std::string path = dir / "s";
    std::ofstream(path) << "keep me";
    platform::Socket l;
    cr_assert_eq(platform::listen_local(path, 0600, -1, 4, l), PROCMON_EPERM);
    cr_assert(std::strstr(last_message(), path.c_str()) != nullptr, "%s", last_message());
    std::ifstream in(path);
    std::string kept;
    std::getline(in, kept);
    cr_assert_str_eq(kept.c_str(), "keep me");
}

Test(socket, connect_errors_say_what_to_do) {
    TempDir dir;
    platform::Socket c;
    cr_assert_eq(platform::connect_local(dir / "missing", 1000, c), PROCMON_ENOENT);
    cr_assert(std::strstr(last_message(), "is procmond running?") != nullptr, "%s", last_message());
    cr_assert_eq(platform::connect_local("/tmp/" + text_of(200), 1000, c), PROCMON_EINVAL);
    cr_assert(std::strstr(last_message(), "longer than the 107") != nullptr, "%s", last_message());
    cr_assert(!c.valid());
}

Test(socket, a_closed_peer_is_closed_never_a_sigpipe) {
    TempDir dir;
    Pair p;
    connect_pair(dir / "s", p);
    p.server.close();
    const char byte = 'x';
    std::size_t n = 0;
    cr_assert_eq(p.client.send_some(&byte, 1, n), platform::Socket::Io::closed);  // SIGPIPE would end the test here
    cr_assert_eq(p.client.send_all(&byte, 1, 1000), PROCMON_ECLOSED);
    char got;
    cr_assert_eq(p.client.recv_some(&got, 1, n), platform::Socket::Io::closed);
}

Test(socket, wait_ready_says_which_way_a_socket_can_go) {
    TempDir dir;
    Pair p;
    connect_pair(dir / "s", p);
    platform::Watch w[2] = {{p.server.handle(), true, false}, {p.client.handle(), false, true}};
    cr_assert_eq(platform::wait_ready(w, 2, 1000), platform::Wait::ready);
    cr_assert(!w[0].readable, "nothing sent yet");
    cr_assert(w[1].writable, "a fresh connection has room");
    platform::Watch quiet{p.server.handle()};
    cr_assert_eq(platform::wait_ready(&quiet, 1, 10), platform::Wait::timed_out);
    const char byte = 'x';
    std::size_t n = 0;
    cr_assert_eq(p.client.send_some(&byte, 1, n), platform::Socket::Io::ok);
    cr_assert_eq(n, 1u);
    cr_assert_eq(platform::wait_ready(&quiet, 1, 1000), platform::Wait::ready);
    cr_assert(quiet.readable);
    char got = 0;
    cr_assert_eq(p.server.recv_some(&got, 1, n), platform::Socket::Io::ok);
    cr_assert_eq(got, 'x');
    cr_assert_eq(p.server.recv_some(&got, 1, n), platform::Socket::Io::would_block);
}

Test(socket, a_send_that_cannot_finish_times_out) {
    TempDir dir;
    Pair p;
    connect_pair(dir / "s", p);
    const std::vector<char> lots(64u << 20, 'x');  // more than any socket buffer; the peer never reads
    cr_assert_eq(p.client.send_all(lots.data(), lots.size(), 50), PROCMON_ETIMEDOUT);
}
