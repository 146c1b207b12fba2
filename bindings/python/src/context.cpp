// procmon._procmon.Context: procmon_open, the context's counters, the
// machine, signals by identity, close.
#include "shim.h"

namespace pm {
namespace {

std::shared_ptr<Context> open_context(uint64_t arena_cap, uint32_t threads, uint32_t argv_cap, bool cache, bool polling,
                                      uint32_t poll_interval_ms, std::optional<std::string> proc_root,
                                      std::optional<std::string> endpoint) {
    auto c = std::make_shared<Context>();
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.arena_cap_bytes = arena_cap;
    o.threads = threads;
    o.argv_cap_bytes = argv_cap;
    o.cache_policy = cache ? PROCMON_CACHE_STATIC : PROCMON_CACHE_NONE;
    o.event_source = polling ? PROCMON_SOURCE_POLLING : PROCMON_SOURCE_AUTO;
    o.poll_interval_ms = poll_interval_ms;
    o.proc_root = proc_root ? proc_root->c_str() : nullptr;
    o.endpoint = endpoint ? endpoint->c_str() : nullptr;  // None: the library's PROCMON_ENDPOINT rule
    int rc;
    {
        py::gil_scoped_release nogil;  // a remote open connects and waits for the daemon's welcome
        rc = procmon_open(&c->ctx, &o);
    }
    if (rc != PROCMON_OK) raise(last_failure(rc));
    return c;
}

py::dict stats(Context &c) {
    procmon_stats s{};
    s.size = sizeof s;
    checked(c, [&](procmon_ctx *ctx) { return procmon_stats_get(&s, ctx); });
    py::dict d;
    PM_COPY(arena_cap_bytes);
    PM_COPY(arena_used_bytes);
    PM_COPY(arena_peak_bytes);
    PM_COPY(allocator);
    PM_COPY(enumerations);
    PM_COPY(cache_entries);
    PM_COPY(cache_hits);
    PM_COPY(cache_misses);
    PM_COPY(source_name);
    PM_COPY(source_reason);
    PM_COPY(poll_interval_ms);
    PM_COPY(events_received);
    PM_COPY(events_filtered);
    PM_COPY(events_delivered);
    PM_COPY(events_dropped);
    PM_COPY(events_lost);
    PM_COPY(resyncs);
    PM_COPY(collector_cpu_ns);
    PM_COPY(process_rss_bytes);
    return d;
}

py::dict system(Context &c) {
    procmon_system s{};
    s.size = sizeof s;
    checked(c, [&](procmon_ctx *ctx) { return procmon_system_get(&s, ctx); });
    py::dict d;
    PM_COPY(cpus);
    PM_COPY(mem_total_bytes);
    PM_COPY(mem_available_bytes);
    PM_COPY(mem_used_bytes);
    PM_COPY(mem_free_bytes);
    PM_COPY(swap_total_bytes);
    PM_COPY(swap_free_bytes);
    PM_COPY(load1);
    PM_COPY(load5);
    PM_COPY(load15);
    PM_COPY(boot_time_ns);
    PM_COPY(processes);
    return d;
}

py::dict daemon_status(Context &c) {
    procmon_daemon_status s{};
    s.size = sizeof s;
    checked(c, [&](procmon_ctx *ctx) { return procmon_daemon_status_get(&s, ctx); });
    py::dict d;
    PM_COPY(protocol_version);
    PM_COPY(daemon_version);
    PM_COPY(daemon_pid);
    PM_COPY(peer_uid);
    PM_COPY(started_ns);
    PM_COPY(clients);
    PM_COPY(subscriptions);
    PM_COPY(connections_total);
    PM_COPY(connections_refused);
    PM_COPY(requests_total);
    PM_COPY(events_delivered);
    PM_COPY(events_dropped);
    PM_COPY(journal_next_seq);
    PM_COPY(journal_durable_seq);
    PM_COPY(journal_bytes);
    PM_COPY(journal_segments);
    PM_COPY(journal_lost);
    PM_COPY(config_generation);
    PM_COPY(config_loaded_ns);
    PM_COPY(config_reload_failures);
    PM_COPY(config_path);
    PM_COPY(source_name);
    PM_COPY(rss_bytes);
    PM_COPY(arena_used_bytes);
    PM_COPY(arena_cap_bytes);
    return d;
}

py::list daemon_clients(Context &c) {
    std::vector<procmon_daemon_client> clients(64);
    size_t n = 0;
    // Until all fit: the list may grow between two calls.
    for (;;) {
        checked(c, [&](procmon_ctx *ctx) {
            return procmon_daemon_clients(ctx, clients.data(), sizeof clients[0], clients.size(), &n);
        });
        if (n < clients.size()) break;
        clients.resize(clients.size() * 2);
    }
    py::list out;
    for (size_t i = 0; i < n; ++i) {
        const procmon_daemon_client &s = clients[i];
        py::dict d;
        d["kind"] = s.kind == PROCMON_CLIENT_SUBSCRIBER ? "subscriber" : "requests";
        PM_COPY(pid);
        PM_COPY(uid);
        PM_COPY(gid);
        PM_COPY(connected_ns);
        PM_COPY(requests);
        PM_COPY(events_delivered);
        PM_COPY(events_dropped);
        PM_COPY(queue_depth);
        PM_COPY(queue_capacity);
        PM_COPY(next_seq);
        out.append(d);
    }
    return out;
}

void close(Context &c) {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(c.mutex);
    procmon_close(c.ctx);
    c.ctx = nullptr;
    c.closed = true;
}

}  // namespace

ContextClass bind_context(py::module_ &m) {
    ContextClass cls(m, "Context", "An open procmon context (use procmon.Monitor).");
    cls.def(py::init(&open_context), py::arg("arena_cap"), py::arg("threads"), py::arg("argv_cap"), py::arg("cache"),
            py::arg("polling"), py::arg("poll_interval_ms"), py::arg("proc_root"), py::arg("endpoint"))
        .def("daemon_status", &daemon_status, "procmon_daemon_status_get as a dict, under the C names.")
        .def("daemon_clients", &daemon_clients, "procmon_daemon_clients as a list of dicts, under the C names.")
        .def("stats", &stats, "procmon_stats_get as a dict, under the C names.")
        .def("system", &system, "procmon_system_get as a dict, under the C names.")
        .def("signal", [](Context &c, int32_t pid, uint64_t start_ticks, int sig) {
            checked(c, [&](procmon_ctx *ctx) { return procmon_signal(ctx, pid, start_ticks, sig); });
        }, py::arg("pid"), py::arg("start_ticks"), py::arg("sig"), "procmon_signal: sig to the process with this identity.")
        .def("close", &close, "procmon_close; its subscriptions report Closed.")
        .def_property_readonly("closed", [](const Context &c) { return c.closed.load(); });
    return cls;
}

}  // namespace pm
