#include "rpc.hpp"

namespace procmon::daemon::metrics {

namespace {
// Indexed as protocol::Type's requests, ping (0x02) first.
constexpr const char *kNames[] = {"ping", "enumerate", "system", "stats", "signal", "subscribe", "status", "clients"};
}  // namespace

RpcMetrics::RpcMetrics() {
    for (auto &h : latency_) h = std::make_unique<Histogram>(latency_bounds());
}

std::size_t RpcMetrics::index(protocol::Type t) {
    const auto v = static_cast<std::size_t>(t);
    return v >= 0x02 && v <= 0x09 ? v - 0x02 : 0;  // only requests reach here: hello is not one
}

void RpcMetrics::served(protocol::Type type, uint64_t ns) {
    const std::size_t i = index(type);
    requests_[i].fetch_add(1, std::memory_order_relaxed);
    latency_[i]->observe_ns(ns);
}

void RpcMetrics::render(Writer &w) const {
    w.family("procmond_rpc_requests_total", Writer::Type::counter, "Requests served, by method.");
    for (std::size_t i = 0; i < kMethods; ++i)
        w.sample("procmond_rpc_requests_total", {{"method", kNames[i]}}, requests_[i].load(std::memory_order_relaxed));
    w.family("procmond_rpc_duration_seconds", Writer::Type::histogram,
             "Time from a request's arrival to its reply sent, by method (subscribe: not timed).");
    for (std::size_t i = 0; i < kMethods; ++i) {
        if (i == index(protocol::Type::subscribe)) continue;
        w.histogram("procmond_rpc_duration_seconds", {{"method", kNames[i]}}, latency_[i]->bounds(),
                    latency_[i]->value());
    }
}

}  // namespace procmon::daemon::metrics
