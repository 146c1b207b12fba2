#include "remote/session.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace procmon::remote {

int Session::open(const std::string &endpoint, const char *fn, std::unique_ptr<Session> &out) {
    std::unique_ptr<Connection> connection;
    if (int rc = Connection::open(endpoint, fn, connection); rc != PROCMON_OK) return rc;
    out.reset(new Session());
    out->connection_ = std::move(connection);
    return PROCMON_OK;
}

Session::~Session() {
    std::lock_guard<std::mutex> lock(feeds_mutex_);
    for (auto &weak : feeds_)
        if (auto feed = weak.lock()) feed->close("the context was closed (procmon_close)");
}

int Session::stats(procmon_stats &s) {
    constexpr const char *fn = "procmon_stats_get";
    request_.clear();
    protocol::encode_empty(request_, protocol::Type::stats);
    procmon_stats daemon{};
    const int rc = connection_->call(request_, protocol::Type::stats_info, fn, [&](const protocol::Frame &f) {
        if (protocol::DecodeError why = protocol::decode(f, daemon, stats_strings_)) return Connection::undecodable(f, why, fn);
        return int{PROCMON_OK};
    });
    if (rc != PROCMON_OK) return rc;
    s.cache_entries = daemon.cache_entries;
    s.cache_hits = daemon.cache_hits;
    s.cache_misses = daemon.cache_misses;
    s.event_source = daemon.event_source;
    s.poll_interval_ms = daemon.poll_interval_ms;
    s.source_reason = stats_strings_.source_reason.c_str();
    s.source_name = stats_strings_.source_name.c_str();
    s.events_received = daemon.events_received;
    s.events_filtered = daemon.events_filtered;
    s.events_delivered = daemon.events_delivered;
    s.events_dropped = daemon.events_dropped;
    s.events_lost = daemon.events_lost;
    s.resyncs = daemon.resyncs;
    s.backpressure_activations = daemon.backpressure_activations;
    s.backpressure_delay_ns = daemon.backpressure_delay_ns;
    s.collector_cpu_ns = daemon.collector_cpu_ns;
    return PROCMON_OK;
}

int Session::status(procmon_daemon_status &out) {
    constexpr const char *fn = "procmon_daemon_status_get";
    request_.clear();
    protocol::encode_empty(request_, protocol::Type::status);
    return connection_->call(request_, protocol::Type::status_info, fn, [&](const protocol::Frame &f) {
        if (protocol::DecodeError why = protocol::decode(f, out, status_strings_)) return Connection::undecodable(f, why, fn);
        out.daemon_version = status_strings_.daemon_version.c_str();
        out.config_path = status_strings_.config_path.c_str();
        out.source_name = status_strings_.source_name.c_str();
        return int{PROCMON_OK};
    });
}

int Session::clients(std::vector<procmon_daemon_client> &out) {
    constexpr const char *fn = "procmon_daemon_clients";
    request_.clear();
    protocol::encode_empty(request_, protocol::Type::clients);
    return connection_->call(request_, protocol::Type::client_list, fn, [&](const protocol::Frame &f) {
        if (protocol::DecodeError why = protocol::decode(f, out)) return Connection::undecodable(f, why, fn);
        return int{PROCMON_OK};
    });
}

int Session::subscribe(const protocol::Subscribe &request, std::shared_ptr<Arena> arena,
                       std::shared_ptr<events::Subscription> sub, const char *fn, std::shared_ptr<Feed> &out) {
    if (int rc = Feed::start(endpoint(), request, std::move(arena), std::move(sub), fn, out); rc != PROCMON_OK) return rc;
    std::lock_guard<std::mutex> lock(feeds_mutex_);
    std::erase_if(feeds_, [](const std::weak_ptr<Feed> &f) { return f.expired(); });
    feeds_.push_back(out);
    return PROCMON_OK;
}

}  // namespace procmon::remote
