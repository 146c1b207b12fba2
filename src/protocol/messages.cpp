#include "protocol/messages.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "codec/event.hpp"
#include "codec/primitives.hpp"
#include "codec/process.hpp"
#include "core/names.hpp"

namespace procmon::protocol {
namespace {

using codec::put_bytes;
using codec::put_f64;
using codec::put_varint;
using codec::zigzag;

// The fewest bytes an entry of a list takes, so that a count is checked
// against the bytes that remain before anything is reserved for it.
// An event: its seq and its length (a byte each at least), then
// codec::encode_event's smallest output: type and flags, 11 one-byte
// varints, 3 empty strings (length and NUL).
constexpr std::size_t kMinEventEntryBytes = 1 + 1 + (2 + 11 + 3 * 2);
// A client: 11 varints.
constexpr std::size_t kMinClientBytes = 11;

// Appends one whole frame of type t, its payload written by body().
template <class Body>
void framed(std::vector<unsigned char> &out, Type t, Body &&body) {
    const std::size_t start = out.size();
    begin_frame(out, t);
    body();
    end_frame(out, start);
}

void put_text(std::vector<unsigned char> &out, std::string_view s) { put_bytes(out, s.data(), s.size()); }
void put_text(std::vector<unsigned char> &out, const char *s) { put_text(out, std::string_view(s ? s : "")); }
// An optional string: a presence byte (0 absent, 1 present), then its bytes.
void put_optional(std::vector<unsigned char> &out, const std::optional<std::string> &s) {
    out.push_back(s ? 1 : 0);
    if (s) put_text(out, *s);
}

// Reads one message's payload: the codec's Cursor, plus the first reason
// a read failed for, so that the caller learns which check refused it.
class Decoder {
public:
    Decoder(const Frame &f, Type want, DecodeError malformed)
        : c_{f.payload, f.payload + f.size}, malformed_(malformed) {
        if (f.type != want) refuse("a frame of another type than the decoder's");
    }

    void refuse(DecodeError why) {
        if (!why_) why_ = why;
        c_.ok = false;
    }
    std::size_t remaining() const { return c_.remaining(); }
    uint64_t varint() { return c_.varint(); }
    uint32_t u32() { return c_.u32(); }
    int32_t i32() { return c_.i32(); }
    int64_t i64() { return codec::unzigzag(c_.varint()); }
    double f64() { return c_.f64(); }
    bool flag() {
        const uint8_t b = c_.byte();
        if (b > 1) refuse("a presence byte other than 0 or 1");
        return b == 1;
    }
    void text(std::string &out, std::size_t max, DecodeError too_long) {
        const unsigned char *at = c_.p;
        const uint64_t n = c_.varint();
        if (!c_.ok) return;
        if (n > max) return refuse(too_long);
        c_.p = at;
        std::size_t len = 0;
        const char *s = c_.bytes(len, max);
        if (c_.ok) out.assign(s, len);
    }
    void optional_text(std::optional<std::string> &out, std::size_t max, DecodeError too_long) {
        out.reset();
        if (flag() && c_.ok) text(out.emplace(), max, too_long);
    }
    // A list's count: each entry takes at least min_bytes, so a count the
    // remaining bytes cannot hold is refused before anything is allocated.
    uint64_t count(std::size_t min_bytes, DecodeError too_many) {
        const uint64_t n = c_.varint();
        if (c_.ok && n > remaining() / min_bytes) return refuse(too_many), 0;
        return c_.ok ? n : 0;
    }
    DecodeError finish() const {
        if (why_) return why_;
        if (!c_.ok) return malformed_;
        if (c_.p != c_.end) return "bytes left over after the message";
        return nullptr;
    }

private:
    codec::Cursor c_;
    DecodeError malformed_;  // a field cut short or out of its range
    DecodeError why_ = nullptr;
};

constexpr DecodeError kLongText = "a text longer than 64 KiB";
constexpr DecodeError kLongGlob = "a glob longer than 4096 bytes";

}  // namespace

// ------------------------------------------------------------------ hello

void encode(std::vector<unsigned char> &out, const Hello &m) {
    framed(out, Type::hello, [&] {
        put_varint(out, m.version_min);
        put_varint(out, m.version_max);
        put_varint(out, m.capabilities);
        put_text(out, m.client);
    });
}

DecodeError decode(const Frame &f, Hello &out) {
    Decoder d(f, Type::hello, "a hello cut short or with a field out of range");
    out.version_min = d.u32();
    out.version_max = d.u32();
    out.capabilities = d.varint();
    d.text(out.client, kMaxTextBytes, kLongText);
    return d.finish();
}

uint32_t choose_version(const Hello &hello, uint32_t server_min, uint32_t server_max) {
    const uint32_t high = std::min(hello.version_max, server_max);
    const uint32_t low = std::max(hello.version_min, server_min);
    return high >= low ? high : 0;
}

// ---------------------------------------------------------------- welcome

void encode(std::vector<unsigned char> &out, const Welcome &m) {
    framed(out, Type::welcome, [&] {
        put_varint(out, m.version);
        put_varint(out, m.capabilities);
        put_varint(out, m.permissions);
        put_text(out, m.server);
        put_varint(out, zigzag(m.peer_pid));
        put_varint(out, m.peer_uid);
        put_varint(out, m.peer_gid);
        put_varint(out, m.max_request_bytes);
    });
}

DecodeError decode(const Frame &f, Welcome &out) {
    Decoder d(f, Type::welcome, "a welcome cut short or with a field out of range");
    out.version = d.u32();
    out.capabilities = d.varint();
    out.permissions = d.varint();
    d.text(out.server, kMaxTextBytes, kLongText);
    out.peer_pid = d.i32();
    out.peer_uid = d.u32();
    out.peer_gid = d.u32();
    out.max_request_bytes = d.u32();
    return d.finish();
}

// ------------------------------------------------------------------ error

void encode(std::vector<unsigned char> &out, const Error &m) {
    framed(out, Type::error, [&] {
        put_varint(out, zigzag(m.status));
        // A message is cut rather than sent too long for the reader to take.
        put_text(out, std::string_view(m.message).substr(0, kMaxTextBytes));
    });
}

DecodeError decode(const Frame &f, Error &out) {
    Decoder d(f, Type::error, "an error cut short or with a field out of range");
    out.status = d.i32();
    if (out.status >= 0) d.refuse("an error whose status is not a PROCMON_E* code");
    d.text(out.message, kMaxTextBytes, kLongText);
    return d.finish();
}

// ------------------------------------------------------------- ping, pong

void encode(std::vector<unsigned char> &out, const Ping &m, Type t) {
    framed(out, t, [&] {
        put_varint(out, m.token);
    });
}

DecodeError decode(const Frame &f, Ping &out) {
    Decoder d(f, f.type == Type::pong ? Type::pong : Type::ping, "a ping cut short");
    out.token = d.varint();
    return d.finish();
}

// -------------------------------------------------------------- enumerate

void encode(std::vector<unsigned char> &out, const Enumerate &m) {
    framed(out, Type::enumerate, [&] {
        put_varint(out, m.fields);
        put_varint(out, m.flags);
        put_varint(out, zigzag(m.uid));
        put_optional(out, m.name_glob);
        put_optional(out, m.cmdline_glob);
        out.push_back(m.has_pids ? 1 : 0);
        if (m.has_pids) {
            put_varint(out, m.pids.size());
            for (int32_t pid : m.pids) put_varint(out, zigzag(pid));
        }
    });
}

DecodeError decode(const Frame &f, Enumerate &out) {
    Decoder d(f, Type::enumerate, "an enumerate cut short or with a field out of range");
    out.fields = d.varint();
    out.flags = d.u32();
    out.uid = d.i64();
    d.optional_text(out.name_glob, kMaxGlobBytes, kLongGlob);
    d.optional_text(out.cmdline_glob, kMaxGlobBytes, kLongGlob);
    out.has_pids = d.flag();
    out.pids.clear();
    if (out.has_pids) {
        const uint64_t n = d.count(1, "a pid list longer than its bytes");
        out.pids.reserve(n);
        for (uint64_t i = 0; i < n; ++i) out.pids.push_back(d.i32());
    }
    return d.finish();
}

// --------------------------------------------------------------- snapshot

void encode_snapshot(std::vector<unsigned char> &out, const procmon_process *records, std::size_t n) {
    framed(out, Type::snapshot, [&] {
        codec::encode_processes(out, records, n);
    });
}

// ------------------------------------------------------------------ empty

void encode_empty(std::vector<unsigned char> &out, Type t) { framed(out, t, [] {}); }

DecodeError decode_empty(const Frame &f) {
    return f.size == 0 ? nullptr : "bytes in a request that has none";
}

// ----------------------------------------------------------------- system

// Field order is the wire's (docs/protocol.md, "system_info"): a field
// appended to procmon_system travels only from a new protocol version on.
void encode(std::vector<unsigned char> &out, const procmon_system &m) {
    framed(out, Type::system_info, [&] {
        put_varint(out, m.cpus);
        for (uint64_t v : {m.mem_total_bytes, m.mem_available_bytes, m.mem_used_bytes, m.mem_free_bytes,
                           m.swap_total_bytes, m.swap_free_bytes})
            put_varint(out, v);
        for (double v : {m.load1, m.load5, m.load15}) put_f64(out, v);
        put_varint(out, m.boot_time_ns);
        put_varint(out, m.processes);
    });
}

DecodeError decode(const Frame &f, procmon_system &out) {
    Decoder d(f, Type::system_info, "a system_info cut short or with a field out of range");
    out = procmon_system{};
    out.size = sizeof out;
    out.cpus = d.u32();
    for (uint64_t *v : {&out.mem_total_bytes, &out.mem_available_bytes, &out.mem_used_bytes, &out.mem_free_bytes,
                        &out.swap_total_bytes, &out.swap_free_bytes})
        *v = d.varint();
    for (double *v : {&out.load1, &out.load5, &out.load15}) *v = d.f64();
    out.boot_time_ns = d.varint();
    out.processes = d.varint();
    return d.finish();
}

// ------------------------------------------------------------------ stats

void encode(std::vector<unsigned char> &out, const procmon_stats &m) {
    framed(out, Type::stats_info, [&] {
        for (uint64_t v : {m.arena_cap_bytes, m.arena_used_bytes, m.arena_peak_bytes, m.enumerations, m.cache_entries,
                           m.cache_hits, m.cache_misses})
            put_varint(out, v);
        put_varint(out, m.event_source);
        put_varint(out, m.poll_interval_ms);
        put_text(out, m.source_reason);
        for (uint64_t v : {m.events_received, m.events_filtered, m.events_delivered, m.events_dropped, m.events_lost,
                           m.resyncs, m.backpressure_activations, m.backpressure_delay_ns, m.collector_cpu_ns,
                           m.process_rss_bytes})
            put_varint(out, v);
        put_text(out, m.allocator);
        put_text(out, m.source_name);
    });
}

DecodeError decode(const Frame &f, procmon_stats &out, StatsStrings &strings) {
    Decoder d(f, Type::stats_info, "a stats_info cut short or with a field out of range");
    out = procmon_stats{};
    out.size = sizeof out;
    for (uint64_t *v : {&out.arena_cap_bytes, &out.arena_used_bytes, &out.arena_peak_bytes, &out.enumerations,
                        &out.cache_entries, &out.cache_hits, &out.cache_misses})
        *v = d.varint();
    out.event_source = d.u32();
    out.poll_interval_ms = d.u32();
    d.text(strings.source_reason, kMaxTextBytes, kLongText);
    for (uint64_t *v : {&out.events_received, &out.events_filtered, &out.events_delivered, &out.events_dropped,
                        &out.events_lost, &out.resyncs, &out.backpressure_activations, &out.backpressure_delay_ns,
                        &out.collector_cpu_ns, &out.process_rss_bytes})
        *v = d.varint();
    d.text(strings.allocator, kMaxTextBytes, kLongText);
    d.text(strings.source_name, kMaxTextBytes, kLongText);
    out.source_reason = strings.source_reason.c_str();
    out.allocator = strings.allocator.c_str();
    out.source_name = strings.source_name.c_str();
    return d.finish();
}

// ----------------------------------------------------------------- signal

void encode(std::vector<unsigned char> &out, const Signal &m) {
    framed(out, Type::signal, [&] {
        put_varint(out, zigzag(m.pid));
        put_varint(out, m.start_ticks);
        put_varint(out, zigzag(m.sig));
    });
}

DecodeError decode(const Frame &f, Signal &out) {
    Decoder d(f, Type::signal, "a signal cut short or with a field out of range");
    out.pid = d.i32();
    out.start_ticks = d.varint();
    out.sig = d.i32();
    return d.finish();
}

// -------------------------------------------------------------- subscribe

void encode(std::vector<unsigned char> &out, const Subscribe &m) {
    framed(out, Type::subscribe, [&] {
        put_varint(out, m.events);
        put_varint(out, m.flags);
        put_varint(out, zigzag(m.uid));
        put_varint(out, zigzag(m.descendants_of));
        put_varint(out, m.queue_capacity);
        put_optional(out, m.name_glob);
        put_optional(out, m.cmdline_glob);
        put_varint(out, m.from_seq);
    });
}

DecodeError decode(const Frame &f, Subscribe &out) {
    Decoder d(f, Type::subscribe, "a subscribe cut short or with a field out of range");
    out.events = d.u32();
    out.flags = d.u32();
    out.uid = d.i64();
    out.descendants_of = d.i32();
    out.queue_capacity = d.u32();
    d.optional_text(out.name_glob, kMaxGlobBytes, kLongGlob);
    d.optional_text(out.cmdline_glob, kMaxGlobBytes, kLongGlob);
    out.from_seq = d.varint();
    return d.finish();
}

// ----------------------------------------------- subscribed, history_end

// Both carry one sequence number.
namespace {
void encode_seq(std::vector<unsigned char> &out, Type t, uint64_t seq) {
    framed(out, t, [&] {
        put_varint(out, seq);
    });
}
DecodeError decode_seq(const Frame &f, Type t, uint64_t &seq, DecodeError malformed) {
    Decoder d(f, t, malformed);
    seq = d.varint();
    return d.finish();
}
}  // namespace

void encode(std::vector<unsigned char> &out, const Subscribed &m) { encode_seq(out, Type::subscribed, m.first_seq); }
DecodeError decode(const Frame &f, Subscribed &out) {
    return decode_seq(f, Type::subscribed, out.first_seq, "a subscribed cut short");
}
void encode(std::vector<unsigned char> &out, const HistoryEnd &m) { encode_seq(out, Type::history_end, m.last_seq); }
DecodeError decode(const Frame &f, HistoryEnd &out) {
    return decode_seq(f, Type::history_end, out.last_seq, "a history_end cut short");
}

// ----------------------------------------------------------------- events

void encode_events(std::vector<unsigned char> &out, const procmon_event *events, std::size_t n) {
    framed(out, Type::events, [&] {
        put_varint(out, n);
        // Each event's length goes before its bytes, and a varint's size is
        // known only once they are: encode into a scratch buffer, then copy.
        std::vector<unsigned char> one;
        for (std::size_t i = 0; i < n; ++i) {
            one.clear();
            codec::encode_event(one, events[i]);
            put_varint(out, events[i].seq);
            put_varint(out, one.size());
            out.insert(out.end(), one.begin(), one.end());
        }
    });
}

DecodeError begin_events(const Frame &f, EventsCursor &c) {
    c.p = f.payload;
    c.end = f.payload + f.size;
    c.remaining = 0;
    if (f.type != Type::events) return "a frame of another type than the decoder's";
    codec::Cursor d{c.p, c.end};
    c.remaining = d.varint();
    if (!d.ok) return "an events frame without its count";
    if (c.remaining > d.remaining() / kMinEventEntryBytes) return "an events count larger than its bytes";
    c.p = d.p;
    if (c.remaining == 0 && c.p != c.end) return "bytes left over after the last event";
    return nullptr;
}

DecodeError next_event(EventsCursor &c, procmon_event &out) {
    if (c.remaining == 0) return "no event left in the frame";
    codec::Cursor d{c.p, c.end};
    const uint64_t seq = d.varint();
    const uint64_t length = d.varint_max(codec::kMaxEventBytes);
    codec::Cursor body = d.take(length);
    if (!d.ok) return "an event cut short";
    if (!codec::decode_event(body.p, body.remaining(), out)) return "an event that does not decode";
    out.seq = seq;
    // As the journal reader does: the full name is derived, not carried.
    const std::string_view full = full_name(out.name, out.argv, out.argv_len, out.exe);
    if (full.data()[full.size()] == '\0') {
        out.full_name = full.data();  // ends where a string of the frame ends
    } else {
        c.full_name.assign(full);
        out.full_name = c.full_name.c_str();
    }
    c.p = d.p;
    if (--c.remaining == 0 && c.p != c.end) return "bytes left over after the last event";
    return nullptr;
}

// ----------------------------------------------------------------- status

void encode(std::vector<unsigned char> &out, const procmon_daemon_status &m) {
    framed(out, Type::status_info, [&] {
        put_varint(out, m.protocol_version);
        put_text(out, m.daemon_version);
        put_varint(out, zigzag(m.daemon_pid));
        put_varint(out, m.peer_uid);
        for (uint64_t v : {m.started_ns, m.clients, m.subscriptions, m.connections_total, m.connections_refused,
                           m.requests_total, m.events_delivered, m.events_dropped, m.journal_next_seq,
                           m.journal_durable_seq, m.journal_bytes, m.journal_segments, m.journal_lost,
                           m.config_generation, m.config_loaded_ns, m.config_reload_failures})
            put_varint(out, v);
        put_text(out, m.config_path);
        put_text(out, m.source_name);
        for (uint64_t v : {m.rss_bytes, m.arena_used_bytes, m.arena_cap_bytes}) put_varint(out, v);
    });
}

DecodeError decode(const Frame &f, procmon_daemon_status &out, StatusStrings &strings) {
    Decoder d(f, Type::status_info, "a status_info cut short or with a field out of range");
    out = procmon_daemon_status{};
    out.size = sizeof out;
    out.protocol_version = d.u32();
    d.text(strings.daemon_version, kMaxTextBytes, kLongText);
    out.daemon_pid = d.i32();
    out.peer_uid = d.u32();
    for (uint64_t *v : {&out.started_ns, &out.clients, &out.subscriptions, &out.connections_total,
                        &out.connections_refused, &out.requests_total, &out.events_delivered, &out.events_dropped,
                        &out.journal_next_seq, &out.journal_durable_seq, &out.journal_bytes, &out.journal_segments,
                        &out.journal_lost, &out.config_generation, &out.config_loaded_ns,
                        &out.config_reload_failures})
        *v = d.varint();
    d.text(strings.config_path, kMaxTextBytes, kLongText);
    d.text(strings.source_name, kMaxTextBytes, kLongText);
    for (uint64_t *v : {&out.rss_bytes, &out.arena_used_bytes, &out.arena_cap_bytes}) *v = d.varint();
    out.daemon_version = strings.daemon_version.c_str();
    out.config_path = strings.config_path.c_str();
    out.source_name = strings.source_name.c_str();
    return d.finish();
}

// ------------------------------------------------------------ client_list

void encode(std::vector<unsigned char> &out, const std::vector<procmon_daemon_client> &m) {
    framed(out, Type::client_list, [&] {
        put_varint(out, m.size());
        for (const procmon_daemon_client &c : m) {
            put_varint(out, c.kind);
            put_varint(out, zigzag(c.pid));
            put_varint(out, c.uid);
            put_varint(out, c.gid);
            for (uint64_t v : {c.connected_ns, c.requests, c.events_delivered, c.events_dropped, c.queue_depth,
                               c.queue_capacity, c.next_seq})
                put_varint(out, v);
        }
    });
}

DecodeError decode(const Frame &f, std::vector<procmon_daemon_client> &out) {
    Decoder d(f, Type::client_list, "a client_list cut short or with a field out of range");
    out.clear();
    const uint64_t n = d.count(kMinClientBytes, "a client list longer than its bytes");
    out.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
        procmon_daemon_client &c = out.emplace_back();
        c.size = sizeof c;
        c.kind = d.u32();
        c.pid = d.i32();
        c.uid = d.u32();
        c.gid = d.u32();
        for (uint64_t *v : {&c.connected_ns, &c.requests, &c.events_delivered, &c.events_dropped, &c.queue_depth,
                            &c.queue_capacity, &c.next_seq})
            *v = d.varint();
    }
    return d.finish();
}

}  // namespace procmon::protocol
