#include "connection.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "access.hpp"
#include "channel.hpp"
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

class Session {
public:
    Session(State &state, Channel &channel, ClientInfo &client) : state_(state), ch_(channel), client_(client) {}

    void run();

private:
    const platform::PeerCredentials &peer() const { return client_.peer; }
    void drop(int status, const std::string &why) { ch_.drop(peer(), status, why); }
    bool reply(const std::vector<unsigned char> &frame) {
        const auto cfg = state_.config();
        if (ch_.send(frame, static_cast<int>(cfg->limits.frame_timeout_ms))) return true;
        log(Level::warning, "client pid %d uid %u: took no reply for %u ms or went away: closing", peer().pid,
            peer().uid, cfg->limits.frame_timeout_ms);
        return false;
    }
    bool hello();
    // One request. False: the connection ends (dropped, or it subscribed).
    bool request(const protocol::Frame &f);
    void enumerate(const protocol::Enumerate &m, const Permissions &perm, std::vector<unsigned char> &out);
    void signal(const protocol::Signal &m, const Permissions &perm, std::vector<unsigned char> &out);

    State &state_;
    Channel &ch_;
    ClientInfo &client_;
    bool subscribed_ = false;
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
    return reply(out);
}

void Session::enumerate(const protocol::Enumerate &m, const Permissions &perm, std::vector<unsigned char> &out) {
    if (!perm.snapshot)
        throw Refusal{PROCMON_EPERM, "uid " + std::to_string(peer().uid) + " may not take snapshots (config " +
                                         config_name(*state_.config()) + ")"};
    const uint64_t asked = m.fields == 0 ? PROCMON_FIELDS_DEFAULT : m.fields;
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = asked | PROCMON_FIELD_IDS;  // whose each process is decides what the peer sees of it
    q.flags = m.flags;
    q.uid = m.uid;
    q.name_glob = m.name_glob ? m.name_glob->c_str() : nullptr;
    q.cmdline_glob = m.cmdline_glob ? m.cmdline_glob->c_str() : nullptr;
    if (m.has_pids) {
        q.pids = m.pids.data();
        q.pid_count = m.pids.size();
    }
    procmon_snapshot *snap = nullptr;
    {
        std::lock_guard<std::mutex> lock(state_.context_mutex);
        if (procmon_enumerate(&snap, state_.context, &q) != PROCMON_OK)
            throw Refusal{procmon_error_last()->code, library_error()};
    }
    const std::size_t n = procmon_snapshot_count(snap);
    std::vector<procmon_process> records;
    records.reserve(n);
    const bool hides_argv = peer().uid != 0 && !(perm.see_others & PROCMON_FIELD_ARGV);
    for (std::size_t i = 0; i < n; ++i) {
        procmon_process p = *procmon_snapshot_at(snap, i);
        // A command-line filter must not reveal an argv the peer may not
        // read: such a process does not match, as one whose argv cannot be read.
        if (q.cmdline_glob && hides_argv && !owns(p, peer().uid)) continue;
        mask_process(p, peer().uid, perm);
        if (!(asked & PROCMON_FIELD_IDS)) {
            p.valid &= ~uint64_t{PROCMON_FIELD_IDS};
            p.uid = p.euid = p.suid = p.gid = p.egid = p.sgid = 0;
        }
        records.push_back(p);
    }
    protocol::encode_snapshot(out, records.data(), records.size());
    procmon_snapshot_free(snap);
}

void Session::signal(const protocol::Signal &m, const Permissions &perm, std::vector<unsigned char> &out) {
    if (peer().uid != 0 && !perm.signal_others) {
        // kill(2)'s rule: the target's real or saved uid is the sender's.
        procmon_query q = PROCMON_QUERY_INIT;
        q.fields = PROCMON_FIELD_BASIC | PROCMON_FIELD_IDS;
        const int32_t pid = m.pid;
        q.pids = &pid;
        q.pid_count = 1;
        procmon_snapshot *snap = nullptr;
        {
            std::lock_guard<std::mutex> lock(state_.context_mutex);
            if (procmon_enumerate(&snap, state_.context, &q) != PROCMON_OK)
                throw Refusal{procmon_error_last()->code, library_error()};
        }
        const procmon_process *p = procmon_snapshot_find(snap, m.pid);
        const bool found = p != nullptr && p->start_ticks == m.start_ticks;
        const bool mine = found && (p->valid & PROCMON_FIELD_IDS) && (p->uid == peer().uid || p->suid == peer().uid);
        procmon_snapshot_free(snap);
        if (!found) throw Refusal{PROCMON_ENOENT, "signal: no process " + std::to_string(m.pid) + " with that start time"};
        if (!mine)
            throw Refusal{PROCMON_EPERM, "signal: process " + std::to_string(m.pid) + " is not uid " +
                                             std::to_string(peer().uid) + "'s (signal_others is off)"};
    }
    if (procmon_signal(state_.context, m.pid, m.start_ticks, m.sig) != PROCMON_OK)
        throw Refusal{procmon_error_last()->code, library_error()};
    protocol::encode_empty(out, protocol::Type::done);
}

}  // namespace

void serve_connection(State &state, platform::Socket socket, const platform::PeerCredentials &peer) {
    const auto client = state.add_client(peer);
    {
        Channel channel(std::move(socket), state.shutdown.handle(), state.config()->limits.max_request_bytes);
        Session(state, channel, *client).run();
    }  // closed before it leaves the list
    state.remove_client(client);
}

}  // namespace procmon::daemon
