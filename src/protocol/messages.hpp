// The messages a frame carries (docs/protocol.md, "Messages"): each has an
// encode that appends a whole frame, and a decode that reads a frame's
// payload, bounded by it, never trusting a count or a length. Built from
// codec/primitives.hpp's varints and byte strings; snapshots and events
// use codec/process.hpp and codec/event.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "procmon.h"
#include "protocol/frame.hpp"

namespace procmon::protocol {

// What a hello and a welcome advertise (bits).
constexpr uint64_t kCapResume = 0x1;   // subscribe.from_seq
constexpr uint64_t kCapHistory = 0x2;  // PROCMON_SUBSCRIBE_HISTORY
constexpr uint64_t kCapStatus = 0x4;   // status and clients requests
constexpr uint64_t kCapAll = kCapResume | kCapHistory | kCapStatus;

// What the server lets this peer do (welcome.permissions, bits).
constexpr uint64_t kPermSnapshot = 0x1;
constexpr uint64_t kPermSubscribe = 0x2;
constexpr uint64_t kPermJournal = 0x4;       // from_seq, history
constexpr uint64_t kPermSeeOthers = 0x8;     // other users' guarded fields (exe, cwd, fds, io, smaps)
constexpr uint64_t kPermSignalOthers = 0x10; // signal processes of other users
constexpr uint64_t kPermStatusAll = 0x20;    // see every client in the status

// Why decoding failed, in words for the log and the error message; nullptr
// when it did not.
using DecodeError = const char *;

// The longest strings a decoder accepts: a glob (a filter), and any other
// text (names, messages, paths).
constexpr std::size_t kMaxGlobBytes = 4096;
constexpr std::size_t kMaxTextBytes = 64u << 10;

// Every decode: the payload of a frame of the matching type. On failure it
// returns the reason and `out` holds part of the message.

struct Hello {
    uint32_t version_min = kVersion, version_max = kVersion;  // the range the client speaks
    uint64_t capabilities = kCapAll;
    std::string client;  // free text for the log: "procmon 0.4.0 (pid 123)"
};
void encode(std::vector<unsigned char> &out, const Hello &m);
DecodeError decode(const Frame &f, Hello &out);
// The version a server speaking [server_min, server_max] answers a hello
// with: the highest both speak; 0 when they share none (answer EPROTO).
uint32_t choose_version(const Hello &hello, uint32_t server_min = kVersion, uint32_t server_max = kVersion);

struct Welcome {
    uint32_t version = kVersion;  // the one chosen
    uint64_t capabilities = 0;
    uint64_t permissions = 0;     // kPerm* for this peer
    std::string server;           // "procmond 0.4.0"
    int32_t peer_pid = 0;         // as SO_PEERCRED saw the client
    uint32_t peer_uid = 0, peer_gid = 0;
    uint32_t max_request_bytes = 0;
};
void encode(std::vector<unsigned char> &out, const Welcome &m);
DecodeError decode(const Frame &f, Welcome &out);

struct Error {
    int32_t status = PROCMON_EIO;  // a PROCMON_E* code
    std::string message;
};
void encode(std::vector<unsigned char> &out, const Error &m);
DecodeError decode(const Frame &f, Error &out);

// ping / pong: an opaque token echoed back.
struct Ping {
    uint64_t token = 0;
};
void encode(std::vector<unsigned char> &out, const Ping &m, Type t);  // Type::ping or Type::pong
DecodeError decode(const Frame &f, Ping &out);

// procmon_query as it travels (strings owned).
struct Enumerate {
    uint64_t fields = 0;
    uint32_t flags = 0;
    int64_t uid = -1;
    std::optional<std::string> name_glob, cmdline_glob;
    bool has_pids = false;
    std::vector<int32_t> pids;
};
void encode(std::vector<unsigned char> &out, const Enumerate &m);
DecodeError decode(const Frame &f, Enumerate &out);

// A snapshot response: codec::encode_processes's bytes as the payload.
void encode_snapshot(std::vector<unsigned char> &out, const procmon_process *records, std::size_t n);
// (decoded by codec::decode_processes on the frame's payload)

// system and stats requests have an empty payload; so have status and clients.
void encode_empty(std::vector<unsigned char> &out, Type t);
DecodeError decode_empty(const Frame &f);

void encode(std::vector<unsigned char> &out, const procmon_system &m);
DecodeError decode(const Frame &f, procmon_system &out);  // out.size = sizeof

// procmon_stats: its numbers, and its two strings into the given owners
// (source_reason, source_name then point at them; allocator is the
// daemon's text too).
struct StatsStrings {
    std::string source_reason, source_name, allocator;
};
void encode(std::vector<unsigned char> &out, const procmon_stats &m);
DecodeError decode(const Frame &f, procmon_stats &out, StatsStrings &strings);

struct Signal {
    int32_t pid = 0;
    uint64_t start_ticks = 0;
    int32_t sig = 0;
};
void encode(std::vector<unsigned char> &out, const Signal &m);
DecodeError decode(const Frame &f, Signal &out);

// procmon_subscribe_options as it travels.
struct Subscribe {
    uint32_t events = 0;
    uint32_t flags = 0;
    int64_t uid = -1;
    int32_t descendants_of = 0;
    uint32_t queue_capacity = 0;
    std::optional<std::string> name_glob, cmdline_glob;
    uint64_t from_seq = 0;
};
void encode(std::vector<unsigned char> &out, const Subscribe &m);
DecodeError decode(const Frame &f, Subscribe &out);

// subscribed: the sequence number the stream starts at.
struct Subscribed {
    uint64_t first_seq = 0;
};
void encode(std::vector<unsigned char> &out, const Subscribed &m);
DecodeError decode(const Frame &f, Subscribed &out);

// events: a batch; each event's seq travels with it (codec::encode_event
// does not hold seq). Decoded events' strings point into the frame.
void encode_events(std::vector<unsigned char> &out, const procmon_event *events, std::size_t n);
// Calls sink(event) for each event in order; stops at the first fault.
template <class Sink>
DecodeError decode_events(const Frame &f, Sink &&sink);
// The non-template part: event i of the batch at `c`, advancing it.
struct EventsCursor {
    const unsigned char *p, *end;
    uint64_t remaining = 0;
    // full_name is derived (codec/event.hpp does not carry it) and nearly
    // always points into the frame; when it cannot (an exe ending
    // " (deleted)"), it is copied here, valid until the next next_event.
    std::string full_name;
};
DecodeError begin_events(const Frame &f, EventsCursor &c);
DecodeError next_event(EventsCursor &c, procmon_event &out);  // out.size set, strings into the frame

template <class Sink>
DecodeError decode_events(const Frame &f, Sink &&sink) {
    EventsCursor c{};
    if (DecodeError e = begin_events(f, c)) return e;
    while (c.remaining > 0) {
        procmon_event ev{};
        if (DecodeError e = next_event(c, ev)) return e;
        sink(ev);
    }
    return nullptr;
}

// history_end: the last sequence number sent (0 = none).
struct HistoryEnd {
    uint64_t last_seq = 0;
};
void encode(std::vector<unsigned char> &out, const HistoryEnd &m);
DecodeError decode(const Frame &f, HistoryEnd &out);

// status_info: procmon_daemon_status's numbers and its strings.
struct StatusStrings {
    std::string daemon_version, config_path, source_name;
};
void encode(std::vector<unsigned char> &out, const procmon_daemon_status &m);
DecodeError decode(const Frame &f, procmon_daemon_status &out, StatusStrings &strings);

// client_list: the clients the peer may see.
void encode(std::vector<unsigned char> &out, const std::vector<procmon_daemon_client> &m);
DecodeError decode(const Frame &f, std::vector<procmon_daemon_client> &out);

}  // namespace procmon::protocol
