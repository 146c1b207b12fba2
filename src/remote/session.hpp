// What a context served by procmond holds beside its arena and its record
// source: the endpoint, the connection its requests go over, the strings
// its answers lent to the caller, and its subscriptions' feeds (each on a
// connection of its own), which close with the context.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/arena.hpp"
#include "events/subscription.hpp"
#include "protocol/messages.hpp"
#include "remote/connection.hpp"
#include "remote/feed.hpp"

namespace procmon::remote {

class Session {
public:
    // Connects to endpoint (Connection::open's errors, naming fn).
    static int open(const std::string &endpoint, const char *fn, std::unique_ptr<Session> &out);
    ~Session();  // closes the feeds: their subscriptions say ECLOSED

    const std::shared_ptr<Connection> &connection() const { return connection_; }
    const std::string &endpoint() const { return connection_->endpoint(); }

    // The daemon's event figures and source into s (its counters of the
    // cache that serves this context's snapshots too); s's strings then
    // point into this session until the next call.
    int stats(procmon_stats &s);
    // procmon_daemon_status, its strings kept here until the next call.
    int status(procmon_daemon_status &out);
    int clients(std::vector<procmon_daemon_client> &out);
    // A feed for sub on a connection of its own (Feed::start).
    int subscribe(const protocol::Subscribe &request, std::shared_ptr<Arena> arena,
                  std::shared_ptr<events::Subscription> sub, const char *fn, std::shared_ptr<Feed> &out);

private:
    std::shared_ptr<Connection> connection_;
    std::vector<unsigned char> request_;
    protocol::StatsStrings stats_strings_;
    protocol::StatusStrings status_strings_;
    std::mutex feeds_mutex_;
    std::vector<std::weak_ptr<Feed>> feeds_;
};

}  // namespace procmon::remote
