#include "connection.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "access.hpp"
#include "channel.hpp"
#include "core/arena.hpp"
#include "core/glob.hpp"
#include "cpu_windows.hpp"
#include "log.hpp"
#include "protocol/messages.hpp"
#include "stream.hpp"

namespace procmon::daemon {
namespace {

// A request the daemon answers with an error frame but keeps serving
// after: the client asked for something it may not have or that failed.
struct Refusal {
    int status;
    std::string message;
};

std::string config_name(const Config &c) {
    return c.path.empty() ? "built-in defaults" : c.path;
}

std::string library_error() {
    return procmon_error_last()->message;
}

using Snapshot = std::unique_ptr<procmon_snapshot, decltype(&procmon_snapshot_free)>;

// The pss, uss and swap of one of the peer's own processes.
struct OwnSmaps {
    uint64_t start_ticks, pss, uss, swap;
};

class Session {
public:
    Session(State &state, Channel &channel, ClientInfo &client) : state_(state), ch_(channel), client_(client) {}

    void run();

private:
    const platform::PeerCredentials &peer() const { return client_.peer; }
    void drop(int status, const std::string &why) { ch_.drop(peer(), status, why); }
    bool reply(const std::vector<unsigned char> &frame) {
        std::string why;
        if (ch_.send_reply(frame, static_cast<int>(state_.config()->limits.frame_timeout_ms), why)) return true;
        log(Level::warning, "client pid %d uid %u: %s: closing", peer().pid, peer().uid, why.c_str());
        return false;
    }
    // procmon_enumerate under the context's lock; a failure is the peer's
    // error. `began_boot_ns`: when the enumeration began (boot clock), once
    // the lock was taken.
    Snapshot take(const procmon_query &q, uint64_t *began_boot_ns = nullptr);
    // The smaps of the peer's own processes (all three of its uids the
    // peer's), by pid: page-table walks for its processes only.
    std::unordered_map<int32_t, OwnSmaps> own_smaps(const protocol::Enumerate &m);
    bool hello();
    // One request. False: the connection ends (dropped, or it subscribed).
    bool request(const protocol::Frame &f);
    void enumerate(const protocol::Enumerate &m, const Permissions &perm, std::vector<unsigned char> &out);
    void signal(const protocol::Signal &m, const Permissions &perm, std::vector<unsigned char> &out);

    State &state_;
    Channel &ch_;
    ClientInfo &client_;
    bool subscribed_ = false;
    CpuWindows cpu_;  // this session's %CPU windows
};

void Session::run() {
    if (!hello()) return;
    for (;;) {
        const auto cfg = state_.config();
        protocol::Frame f;
        std::string why;
        const Channel::Got got = ch_.read(f, static_cast<int>(cfg->limits.frame_timeout_ms), why);
        if (got == Channel::Got::closed || got == Channel::Got::shutdown) return;
        if (got != Channel::Got::frame) return drop(PROCMON_EPROTO, why);
        if (!request(f)) return;
    }
}

bool Session::hello() {
    const auto cfg = state_.config();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg->limits.frame_timeout_ms);
    protocol::Frame f;
    std::string why;
    const Channel::Got got = ch_.read(f, static_cast<int>(cfg->limits.frame_timeout_ms), why, deadline);
    if (got == Channel::Got::shutdown) return false;
    if (got == Channel::Got::closed) why = "closed before its hello";
    if (got != Channel::Got::frame) {
        drop(PROCMON_EPROTO, why);
        return false;
    }
    if (f.type != protocol::Type::hello) {
        drop(PROCMON_EPROTO, std::string("the first frame must be a hello, not ") + protocol::type_name(f.type));
        return false;
    }
    protocol::Hello h;
    if (protocol::DecodeError e = protocol::decode(f, h)) {
        drop(PROCMON_EPROTO, std::string("a hello that does not decode: ") + e);
        return false;
    }
    const uint32_t version = protocol::choose_version(h);
    if (version == 0) {
        drop(PROCMON_EPROTO, "no protocol version in common: the client speaks " + std::to_string(h.version_min) +
                                 " to " + std::to_string(h.version_max) + ", procmond " +
                                 std::to_string(protocol::kVersion));
        return false;
    }
    const Permissions perm = cfg->for_peer(peer().uid, peer().gid);
    if (!perm.connect) {
        ++state_.connections_refused;
        drop(PROCMON_EPERM, "uid " + std::to_string(peer().uid) + " may not connect (config " + config_name(*cfg) + ")");
        return false;
    }
    protocol::Welcome w;
    w.version = version;
    w.capabilities = protocol::kCapAll & h.capabilities;
    w.permissions = perm.wire_bits();
    w.server = std::string("procmond ") + procmon_version_string();
    w.peer_pid = peer().pid;
    w.peer_uid = peer().uid;
    w.peer_gid = peer().gid;
    w.max_request_bytes = cfg->limits.max_request_bytes;
    std::vector<unsigned char> out;
    protocol::encode(out, w);
    log(Level::info, "client pid %d uid %u gid %u connected: %s", peer().pid, peer().uid, peer().gid,
        h.client.c_str());
    return reply(out);
}

bool Session::request(const protocol::Frame &f) {
    using protocol::Type;
    const uint64_t arrived = mono_ns();
    const auto cfg = state_.config();
    const Permissions perm = cfg->for_peer(peer().uid, peer().gid);
    std::vector<unsigned char> out;
    protocol::DecodeError bad = nullptr;
    try {
        if (!perm.connect)
            throw Refusal{PROCMON_EPERM, "uid " + std::to_string(peer().uid) + " may no longer connect (config " +
                                             config_name(*cfg) + ")"};
        switch (f.type) {
        case Type::ping: {
            protocol::Ping p;
            if (!(bad = protocol::decode(f, p))) protocol::encode(out, p, Type::pong);
            break;
        }
        case Type::enumerate: {
            protocol::Enumerate m;
            if (!(bad = protocol::decode(f, m))) enumerate(m, perm, out);
            break;
        }
        case Type::system: {
            if ((bad = protocol::decode_empty(f))) break;
            procmon_system s{};
            s.size = sizeof s;
            std::lock_guard<std::mutex> lock(state_.context_mutex);
            if (procmon_system_get(&s, state_.context) != PROCMON_OK)
                throw Refusal{procmon_error_last()->code, library_error()};
            protocol::encode(out, s);
            break;
        }
        case Type::stats: {
            if ((bad = protocol::decode_empty(f))) break;
            procmon_stats s{};
            s.size = sizeof s;
            std::lock_guard<std::mutex> lock(state_.context_mutex);
            procmon_stats_get(&s, state_.context);
            protocol::encode(out, s);
            break;
        }
        case Type::signal: {
            protocol::Signal m;
            if (!(bad = protocol::decode(f, m))) signal(m, perm, out);
            break;
        }
        case Type::status: {
            if ((bad = protocol::decode_empty(f))) break;
            procmon_daemon_status s;
            protocol::StatusStrings strings;
            state_.status(s, strings, peer().uid);
            if (!perm.status_all) {  // the counts of its own connections only
                s.clients = state_.clients(peer().uid, false).size();
            }
            protocol::encode(out, s);
            break;
        }
        case Type::clients: {
            if ((bad = protocol::decode_empty(f))) break;
            protocol::encode(out, state_.clients(peer().uid, perm.status_all));
            break;
        }
        case Type::subscribe: {
            protocol::Subscribe s;
            if ((bad = protocol::decode(f, s))) break;
            if (!perm.subscribe)
                throw Refusal{PROCMON_EPERM, "uid " + std::to_string(peer().uid) + " may not subscribe (config " +
                                                 config_name(*cfg) + ")"};
            if ((s.from_seq != 0 || (s.flags & PROCMON_SUBSCRIBE_HISTORY)) && !perm.journal)
                throw Refusal{PROCMON_EPERM, "uid " + std::to_string(peer().uid) +
                                                 " may not read the journal (from_seq, history) (config " +
                                                 config_name(*cfg) + ")"};
            ++client_.requests;
            ++state_.requests_total;
            state_.rpc.subscribed();
            serve_subscription(state_, ch_, client_, s);
            return false;  // a subscription ends its connection
        }
        default: {
            char type[64];
            std::snprintf(type, sizeof type, "a frame of type %s (0x%02x) is not a request", protocol::type_name(f.type),
                          static_cast<unsigned>(f.type));
            drop(PROCMON_EPROTO, type);
            return false;
        }
        }
    } catch (const Refusal &r) {
        out.clear();
        protocol::encode(out, protocol::Error{r.status, r.message});
    }
    if (bad) {
        drop(PROCMON_EPROTO, std::string("an ill-formed ") + protocol::type_name(f.type) + " frame: " + bad);
        return false;
    }
    ++client_.requests;
    ++state_.requests_total;
    const bool sent = reply(out);
    state_.rpc.served(f.type, mono_ns() - arrived);
    return sent;
}

Snapshot Session::take(const procmon_query &q, uint64_t *began_boot_ns) {
    procmon_snapshot *snap = nullptr;
    {
        std::lock_guard<std::mutex> lock(state_.context_mutex);
        if (began_boot_ns != nullptr) *began_boot_ns = static_cast<uint64_t>(platform::now_ns(platform::Clock::boottime));
        if (procmon_enumerate(&snap, state_.context, &q) != PROCMON_OK)
            throw Refusal{procmon_error_last()->code, library_error()};
    }
    return Snapshot(snap, &procmon_snapshot_free);
}

std::unordered_map<int32_t, OwnSmaps> Session::own_smaps(const protocol::Enumerate &m) {
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = PROCMON_FIELD_BASIC | PROCMON_FIELD_IDS | PROCMON_FIELD_SMAPS;
    q.uid = static_cast<int64_t>(peer().uid);  // the library's filter is by euid: owns() decides below
    if (m.has_pids) {
        q.pids = m.pids.data();
        q.pid_count = m.pids.size();
    }
    const Snapshot snap = take(q);
    std::unordered_map<int32_t, OwnSmaps> by_pid;
    for (std::size_t i = 0, n = procmon_snapshot_count(snap.get()); i < n; ++i) {
        const procmon_process &p = *procmon_snapshot_at(snap.get(), i);
        if (owns(p, peer().uid) && (p.valid & PROCMON_FIELD_SMAPS))
            by_pid[p.pid] = {p.start_ticks, p.pss_bytes, p.uss_bytes, p.swap_bytes};
    }
    return by_pid;
}

void Session::enumerate(const protocol::Enumerate &m, const Permissions &perm, std::vector<unsigned char> &out) {
    if (!perm.snapshot)
        throw Refusal{PROCMON_EPERM, "uid " + std::to_string(peer().uid) + " may not take snapshots (config " +
                                         config_name(*state_.config()) + ")"};
    const bool root = peer().uid == 0;
    const uint64_t asked = m.fields == 0 ? PROCMON_FIELDS_DEFAULT : m.fields;
    const bool hides_argv = !root && !(perm.see_others & PROCMON_FIELD_ARGV);
    // Others' full_name is their name when their exe or argv is hidden
    // (mask_process): name_glob then matches here, on what the peer sees,
    // or the library's match on the full name would reveal it.
    const bool hides_full_name = !root && (!(perm.see_others & PROCMON_FIELD_EXE) || hides_argv);
    // Others' smaps would cost a page-table walk of every process, under
    // the context's lock, for values masked anyway: read the peer's own.
    const bool hides_smaps = !root && !(perm.see_others & PROCMON_FIELD_SMAPS);
    if (m.name_glob && hides_full_name) {
        std::string why;
        if (!glob_is_valid(m.name_glob->c_str(), why))
            throw Refusal{PROCMON_EINVAL, "name_glob \"" + *m.name_glob + "\": " + why};
    }
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = asked | PROCMON_FIELD_IDS;  // whose each process is decides what the peer sees of it
    if (hides_smaps) q.fields &= ~uint64_t{PROCMON_FIELD_SMAPS};
    // Re-reading every cached argv, exe and ids is root's call: anyone's
    // REFRESH would make everyone's snapshots slower.
    q.flags = root ? m.flags : m.flags & ~uint32_t{PROCMON_QUERY_REFRESH};
    q.uid = m.uid;
    q.name_glob = m.name_glob && !hides_full_name ? m.name_glob->c_str() : nullptr;
    q.cmdline_glob = m.cmdline_glob ? m.cmdline_glob->c_str() : nullptr;
    if (m.has_pids) {
        q.pids = m.pids.data();
        q.pid_count = m.pids.size();
    }
    // CPU fields always: they come from the same read as BASIC, and every
    // snapshot moves this session's %CPU windows, as each enumeration moves
    // a context's (only those asked for are sent).
    q.fields |= PROCMON_FIELD_CPU;
    uint64_t began = 0;
    const Snapshot snap = take(q, &began);
    const auto smaps = hides_smaps && (asked & PROCMON_FIELD_SMAPS) ? own_smaps(m) : decltype(own_smaps(m)){};
    const std::size_t n = procmon_snapshot_count(snap.get());
    std::vector<procmon_process> records;
    records.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        procmon_process p = *procmon_snapshot_at(snap.get(), i);
        const bool mine = owns(p, peer().uid);
        // A command-line filter must not reveal an argv the peer may not
        // read: such a process does not match, as one whose argv cannot be read.
        if (q.cmdline_glob && hides_argv && !mine) continue;
        mask_process(p, peer().uid, perm);
        if (m.name_glob && hides_full_name && !glob_match(m.name_glob->c_str(), p.full_name)) continue;
        if (const auto it = smaps.find(p.pid); mine && it != smaps.end() && it->second.start_ticks == p.start_ticks) {
            p.valid |= PROCMON_FIELD_SMAPS;
            p.pss_bytes = it->second.pss, p.uss_bytes = it->second.uss, p.swap_bytes = it->second.swap;
        }
        if (!(asked & PROCMON_FIELD_IDS)) {
            p.valid &= ~uint64_t{PROCMON_FIELD_IDS};
            p.uid = p.euid = p.suid = p.gid = p.egid = p.sgid = 0;
        }
        records.push_back(p);
    }
    const bool whole = !m.has_pids && m.uid < 0 && !m.name_glob && !m.cmdline_glob;
    cpu_.apply(records, began, whole);
    if (!(asked & PROCMON_FIELD_CPU))
        for (procmon_process &p : records) {
            p.valid &= ~uint64_t{PROCMON_FIELD_CPU};
            p.utime_ns = p.stime_ns = 0, p.cpu_percent = 0;
        }
    protocol::encode_snapshot(out, records.data(), records.size());
}

void Session::signal(const protocol::Signal &m, const Permissions &perm, std::vector<unsigned char> &out) {
    if (peer().uid != 0 && !perm.signal_others) {
        // kill(2)'s rule: the target's real or saved uid is the sender's,
        // on ids read now (REFRESH), not cached ones a setuid may have changed.
        procmon_query q = PROCMON_QUERY_INIT;
        q.fields = PROCMON_FIELD_BASIC | PROCMON_FIELD_IDS;
        q.flags = PROCMON_QUERY_REFRESH;
        const int32_t pid = m.pid;
        q.pids = &pid;
        q.pid_count = 1;
        const Snapshot snap = take(q);
        const procmon_process *p = procmon_snapshot_find(snap.get(), m.pid);
        const bool found = p != nullptr && p->start_ticks == m.start_ticks;
        const bool mine = found && (p->valid & PROCMON_FIELD_IDS) && (p->uid == peer().uid || p->suid == peer().uid);
        if (!found) throw Refusal{PROCMON_ENOENT, "signal: no process " + std::to_string(m.pid) + " with that start time"};
        if (!mine)
            throw Refusal{PROCMON_EPERM, "signal: process " + std::to_string(m.pid) + " is not uid " +
                                             std::to_string(peer().uid) + "'s (signal_others is off)"};
    }
    // With the start time: a pid reused since the check is not signalled.
    if (procmon_signal(state_.context, m.pid, m.start_ticks, m.sig) != PROCMON_OK)
        throw Refusal{procmon_error_last()->code, library_error()};
    protocol::encode_empty(out, protocol::Type::done);
}

void end_after_exception(Channel &channel, const platform::PeerCredentials &peer, int status, const char *message,
                         const std::exception &e) {
    log(Level::error, "client pid %d uid %u: %s (%s): closing", peer.pid, peer.uid, message, e.what());
    channel.send_error(status, message);
}

}  // namespace

void serve_connection(State &state, platform::Socket socket, const platform::PeerCredentials &peer) {
    const auto client = state.add_client(peer);
    {
        Channel channel(std::move(socket), state.shutdown.handle(), state.config()->limits.max_request_bytes);
        // A request that throws (the context's arena full, memory short)
        // ends its connection only, with an error frame when one goes out.
        try {
            Session(state, channel, *client).run();
        } catch (const ArenaFull &e) {
            end_after_exception(channel, peer, PROCMON_ENOMEM, "the daemon's memory cap was reached", e);
        } catch (const std::bad_alloc &e) {
            end_after_exception(channel, peer, PROCMON_ENOMEM, "the daemon is out of memory", e);
        } catch (const std::exception &e) {
            end_after_exception(channel, peer, PROCMON_EIO, "the daemon failed serving this request", e);
        }
    }  // closed before it leaves the list
    state.remove_client(client);
}

}  // namespace procmon::daemon
