// Requests served, per method, with their latency from the frame's arrival
// to the reply sent. Any connection thread records; a scrape reads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "histogram.hpp"
#include "protocol/frame.hpp"

namespace procmon::daemon::metrics {

class RpcMetrics {
public:
    RpcMetrics();
    // A request served; its latency too unless it was a subscribe (a
    // stream lasts as long as its client: counted only).
    void served(protocol::Type type, uint64_t ns);
    void subscribed() { requests_[index(protocol::Type::subscribe)].fetch_add(1, std::memory_order_relaxed); }
    void render(Writer &w) const;

private:
    static constexpr std::size_t kMethods = 8;  // ping .. clients
    static std::size_t index(protocol::Type t);
    std::array<std::atomic<uint64_t>, kMethods> requests_{};
    std::array<std::unique_ptr<Histogram>, kMethods> latency_;
};

}  // namespace procmon::daemon::metrics
