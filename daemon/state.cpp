#include "state.hpp"

#include <unistd.h>

#include <chrono>

namespace procmon::daemon {

uint64_t wall_ns() {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

uint64_t mono_ns() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

State::State(std::shared_ptr<const Config> config, uint64_t started) : started_ns(started), config_(std::move(config)) {
    loaded_ns_ = started;
}

std::shared_ptr<const Config> State::config() const {
    std::lock_guard<std::mutex> lock(config_mutex_);
    return config_;
}

uint64_t State::config_generation() const {
    std::lock_guard<std::mutex> lock(config_mutex_);
    return generation_;
}

void State::publish(std::shared_ptr<const Config> config) {
    std::lock_guard<std::mutex> lock(config_mutex_);
    config_ = std::move(config);
    ++generation_;
    loaded_ns_ = wall_ns();
}

uint64_t State::journal_next_seq() const {
    procmon_journal_stats js{};
    js.size = sizeof js;
    procmon_journal_stats_get(&js, journal);
    return js.next_seq;
}

std::shared_ptr<ClientInfo> State::add_client(const platform::PeerCredentials &peer) {
    auto c = std::make_shared<ClientInfo>();
    c->peer = peer;
    c->connected_ns = wall_ns();
    std::lock_guard<std::mutex> lock(clients_mutex_);
    clients_.push_back(c);
    return c;
}

void State::remove_client(const std::shared_ptr<ClientInfo> &client) {
    std::lock_guard<std::mutex> lock(clients_mutex_);
    clients_.remove(client);
}

std::size_t State::client_count() const {
    std::lock_guard<std::mutex> lock(clients_mutex_);
    return clients_.size();
}

void State::status(procmon_daemon_status &out, protocol::StatusStrings &strings, uint32_t peer_uid) {
    out = procmon_daemon_status{};
    out.size = sizeof out;
    out.protocol_version = protocol::kVersion;
    strings.daemon_version = procmon_version_string();
    out.daemon_pid = static_cast<int32_t>(::getpid());
    out.peer_uid = peer_uid;
    out.started_ns = started_ns;
    out.clients = client_count();
    out.subscriptions = subscriptions;
    out.connections_total = connections_total;
    out.connections_refused = connections_refused;
    out.requests_total = requests_total;
    out.events_delivered = events_delivered;
    out.events_dropped = events_dropped;
    procmon_journal_stats js{};
    js.size = sizeof js;
    procmon_journal_stats_get(&js, journal);
    out.journal_next_seq = js.next_seq;
    out.journal_durable_seq = js.durable_seq;
    out.journal_bytes = js.disk_bytes;
    out.journal_segments = js.segments;
    out.journal_lost = js.lost;
    {
        std::lock_guard<std::mutex> lock(config_mutex_);
        out.config_generation = generation_;
        out.config_loaded_ns = loaded_ns_;
        strings.config_path = config_->path;
    }
    out.config_reload_failures = config_reload_failures;
    procmon_stats st{};
    st.size = sizeof st;
    {
        std::lock_guard<std::mutex> lock(context_mutex);
        procmon_stats_get(&st, context);
    }
    strings.source_name = st.source_name;
    out.rss_bytes = st.process_rss_bytes;
    out.arena_used_bytes = st.arena_used_bytes;
    out.arena_cap_bytes = st.arena_cap_bytes;
    out.daemon_version = strings.daemon_version.c_str();
    out.config_path = strings.config_path.c_str();
    out.source_name = strings.source_name.c_str();
}

std::vector<procmon_daemon_client> State::clients(uint32_t peer_uid, bool all) const {
    std::vector<procmon_daemon_client> out;
    std::lock_guard<std::mutex> lock(clients_mutex_);
    for (const auto &c : clients_) {
        if (!all && c->peer.uid != peer_uid) continue;
        procmon_daemon_client d{};
        d.size = sizeof d;
        d.kind = c->kind;
        d.pid = c->peer.pid;
        d.uid = c->peer.uid;
        d.gid = c->peer.gid;
        d.connected_ns = c->connected_ns;
        d.requests = c->requests;
        d.events_delivered = c->events_delivered;
        d.events_dropped = c->events_dropped;
        d.queue_depth = c->queue_depth;
        d.queue_capacity = c->queue_capacity;
        d.next_seq = c->next_seq;
        out.push_back(d);
    }
    return out;
}

}  // namespace procmon::daemon
