// procmond's /metrics: the HTTP server, the process groups' collector, and
// the daemon's own figures, rendered together at each scrape
// (docs/metrics.md).
#pragma once

#include <memory>
#include <string>

#include "collector.hpp"
#include "histogram.hpp"
#include "http.hpp"

namespace procmon::daemon {
class State;
}

namespace procmon::daemon::metrics {

class Endpoint {
public:
    explicit Endpoint(State &state);
    ~Endpoint();  // the HTTP server first: no scrape runs while the collector goes

    // Starts the collector and listens at `listen`; false with `why`.
    bool start(const std::string &listen, std::string &why);
    uint16_t port() const { return http_.port(); }

    // What a request gets (the HTTP server's handler).
    HttpReply serve(const HttpRequest &r);

private:
    std::string render(Format f);

    State &state_;
    Collector collector_;
    Histogram scrape_{latency_bounds()};
    HttpServer http_;
};

// The daemon's own families (clients, events, requests, journal, config,
// arena, and the process_* ones of procmond itself) into `w`.
void render_daemon(Writer &w, State &state);

}  // namespace procmon::daemon::metrics
