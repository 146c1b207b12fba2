// What every connection of procmond shares: the config in force, the one
// context and its journal, the shutdown signal, the counters and the
// clients the status lists.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config.hpp"
#include "metrics/histogram.hpp"
#include "metrics/rpc.hpp"
#include "platform/platform.hpp"
#include "platform/socket.hpp"
#include "procmon.h"
#include "protocol/messages.hpp"

namespace procmon::daemon {

// One connection, as procmon_daemon_clients shows it. The counters are
// written by its thread and read by any status request.
struct ClientInfo {
    platform::PeerCredentials peer;
    uint64_t connected_ns = 0;
    std::atomic<uint32_t> kind{PROCMON_CLIENT_REQUESTS};
    std::atomic<uint64_t> requests{0}, events_delivered{0}, events_dropped{0}, queue_depth{0}, queue_capacity{0},
        next_seq{0};
};

class State {
public:
    State(std::shared_ptr<const Config> config, uint64_t started_ns);

    // The config in force, swapped whole by a reload: a request or a stream
    // batch takes it once and decides with that one.
    std::shared_ptr<const Config> config() const;
    uint64_t config_generation() const;
    void publish(std::shared_ptr<const Config> config);  // generation + 1, load time now
    std::atomic<uint64_t> config_reload_failures{0};

    // The one context: one thread in it at a time (procmon's rule), so
    // every call on it holds context_mutex.
    procmon_ctx *context = nullptr;
    std::mutex context_mutex;
    procmon_journal *journal = nullptr;  // any thread
    std::string journal_dir;
    uint64_t journal_next_seq() const;

    // Ready once the daemon stops: every connection thread watches it.
    platform::Waker shutdown;

    // Connections.
    std::shared_ptr<ClientInfo> add_client(const platform::PeerCredentials &peer);
    void remove_client(const std::shared_ptr<ClientInfo> &client);
    std::size_t client_count() const;

    // The status and the client list as `peer_uid` may see them.
    void status(procmon_daemon_status &out, protocol::StatusStrings &strings, uint32_t peer_uid);
    std::vector<procmon_daemon_client> clients(uint32_t peer_uid, bool all) const;

    const uint64_t started_ns;
    std::atomic<uint64_t> connections_total{0}, connections_refused{0}, requests_total{0}, events_delivered{0},
        events_dropped{0}, subscriptions{0};
    metrics::RpcMetrics rpc;
    metrics::Histogram journal_fsync{metrics::latency_bounds()};

private:
    mutable std::mutex config_mutex_;
    std::shared_ptr<const Config> config_;
    uint64_t generation_ = 1, loaded_ns_ = 0;

    mutable std::mutex clients_mutex_;
    std::list<std::shared_ptr<ClientInfo>> clients_;
};

uint64_t wall_ns();
uint64_t mono_ns();  // for durations

}  // namespace procmon::daemon
