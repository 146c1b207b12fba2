#include "endpoint.hpp"

#include <algorithm>

#include "state.hpp"

namespace procmon::daemon::metrics {

namespace {

// procmond's own process, under the names every Prometheus client library
// uses for its process (process_cpu_seconds_total, ...).
void render_process(Writer &w, const State &state) {
    using T = Writer::Type;
    const platform::SelfResources self = platform::self_resources();
    w.family("process_cpu_seconds_total", T::counter, "Total user and system CPU time spent in seconds.");
    w.sample("process_cpu_seconds_total", {}, static_cast<double>(self.cpu_ns) / 1e9);
    w.family("process_resident_memory_bytes", T::gauge, "Resident memory size in bytes.");
    w.sample("process_resident_memory_bytes", {}, self.rss_bytes);
    w.family("process_virtual_memory_bytes", T::gauge, "Virtual memory size in bytes.");
    w.sample("process_virtual_memory_bytes", {}, self.virtual_bytes);
    w.family("process_open_fds", T::gauge, "Number of open file descriptors.");
    w.sample("process_open_fds", {}, self.open_files);
    if (self.open_files_limit != 0) {  // unknown: no sample, rather than a limit of 0
        w.family("process_max_fds", T::gauge, "Maximum number of open file descriptors.");
        w.sample("process_max_fds", {}, self.open_files_limit);
    }
    w.family("process_start_time_seconds", T::gauge, "Start time of the process since unix epoch in seconds.");
    w.sample("process_start_time_seconds", {}, static_cast<double>(state.started_ns) / 1e9);
}

}  // namespace

void render_daemon(Writer &w, State &state) {
    using T = Writer::Type;
    w.family("procmond_build_info", T::gauge, "procmond's version, as a label; the value is always 1.");
    w.sample("procmond_build_info", {{"version", procmon_version_string()}}, uint64_t{1});

    // The context's own (events received, arena) are the collector's: its
    // thread samples them, so that a scrape never waits for the context.
    w.family("procmond_events_delivered_total", T::counter, "Events sent to subscribers.");
    w.sample("procmond_events_delivered_total", {}, state.events_delivered.load());
    w.family("procmond_events_dropped_total", T::counter,
             "Events lagging subscribers skipped (each told so by a LOST event).");
    w.sample("procmond_events_dropped_total", {}, state.events_dropped.load());

    uint64_t queued = 0, queued_max = 0;
    const auto clients = state.clients(0, true);
    for (const procmon_daemon_client &c : clients) {
        if (c.kind != PROCMON_CLIENT_SUBSCRIBER) continue;
        queued += c.queue_depth;
        queued_max = std::max<uint64_t>(queued_max, c.queue_depth);
    }
    w.family("procmond_clients", T::gauge, "Connections open now.");
    w.sample("procmond_clients", {}, uint64_t{clients.size()});
    w.family("procmond_subscribers", T::gauge, "Event subscriptions open now.");
    w.sample("procmond_subscribers", {}, state.subscriptions.load());
    w.family("procmond_subscriber_queued_events", T::gauge,
             "Journaled events not yet sent, summed over the subscribers.");
    w.sample("procmond_subscriber_queued_events", {}, queued);
    w.family("procmond_subscriber_queued_events_max", T::gauge, "The most any one subscriber has not yet been sent.");
    w.sample("procmond_subscriber_queued_events_max", {}, queued_max);
    w.family("procmond_connections_total", T::counter, "Connections accepted.");
    w.sample("procmond_connections_total", {}, state.connections_total.load());
    w.family("procmond_connections_refused_total", T::counter, "Connections refused (limits, permissions).");
    w.sample("procmond_connections_refused_total", {}, state.connections_refused.load());
    state.rpc.render(w);

    procmon_journal_stats js{};
    js.size = sizeof js;
    procmon_journal_stats_get(&js, state.journal);
    w.family("procmond_journal_bytes", T::gauge, "Bytes of the journal's segments on disk.");
    w.sample("procmond_journal_bytes", {}, js.disk_bytes);
    w.family("procmond_journal_segments", T::gauge, "The journal's segments on disk.");
    w.sample("procmond_journal_segments", {}, js.segments);
    w.family("procmond_journal_records_total", T::counter, "Records written to the journal since procmond started.");
    w.sample("procmond_journal_records_total", {}, js.records);
    w.family("procmond_journal_write_errors_total", T::counter, "Journal writes or syncs that failed.");
    w.sample("procmond_journal_write_errors_total", {}, js.write_errors);
    w.family("procmond_journal_fsync_duration_seconds", T::histogram, "How long each fdatasync of the journal took.");
    w.histogram("procmond_journal_fsync_duration_seconds", {}, state.journal_fsync.bounds(),
                state.journal_fsync.value());

    const uint64_t generation = state.config_generation();
    w.family("procmond_config_reloads_total", T::counter, "Config reloads, by result.");
    w.sample("procmond_config_reloads_total", {{"result", "ok"}}, generation - 1);
    w.sample("procmond_config_reloads_total", {{"result", "failed"}}, state.config_reload_failures.load());
    w.family("procmond_config_generation", T::gauge, "The config in force: 1 at start, one more per reload.");
    w.sample("procmond_config_generation", {}, generation);

    render_process(w, state);
}

Endpoint::Endpoint(State &state)
    : state_(state), collector_(state), http_([this](const HttpRequest &r) { return serve(r); }) {}

Endpoint::~Endpoint() = default;  // members go in reverse: http_ before collector_

bool Endpoint::start(const std::string &listen, std::string &why) {
    return collector_.start(why) && http_.start(listen, why);
}

std::string Endpoint::render(Format f) {
    const uint64_t began = mono_ns();
    Writer w(f);
    collector_.render(w);
    render_daemon(w, state_);
    w.family("procmond_metrics_scrape_duration_seconds", Writer::Type::histogram,
             "How long rendering /metrics took (earlier scrapes; this one is not in it yet).");
    w.histogram("procmond_metrics_scrape_duration_seconds", {}, scrape_.bounds(), scrape_.value());
    std::string text = w.finish();
    scrape_.observe_ns(mono_ns() - began);
    return text;
}

HttpReply Endpoint::serve(const HttpRequest &r) {
    const bool read_only = r.method == "GET" || r.method == "HEAD";
    if (r.path == "/metrics" || r.path == "/-/healthy") {
        if (!read_only) return {405, "text/plain; charset=utf-8", "procmond: only GET and HEAD\n", "GET, HEAD"};
        if (r.path == "/-/healthy") return {200, "text/plain; charset=utf-8", "procmond is healthy.\n", nullptr};
        const Format f = negotiate(r.accept);
        return {200, content_type(f), render(f), nullptr};
    }
    return {404, "text/plain; charset=utf-8", "procmond: no such page; /metrics and /-/healthy are served\n", nullptr};
}

}  // namespace procmon::daemon::metrics
