#include "histogram.hpp"

namespace procmon::daemon::metrics {

const Bounds &latency_bounds() {
    static const Bounds b{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                          0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
    return b;
}

const Bounds &lifetime_bounds() {
    static const Bounds b{0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400};
    return b;
}

Histogram::Histogram(const Bounds &bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {
    for (std::size_t i = 0; i <= bounds.size(); ++i) buckets_[i] = 0;
}

std::size_t bucket_index(const Bounds &bounds, double seconds) {
    std::size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i]) ++i;
    return i;
}

void Histogram::observe_ns(uint64_t ns) {
    buckets_[bucket_index(bounds_, static_cast<double>(ns) / 1e9)].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

HistogramValue Histogram::value() const {
    HistogramValue v;
    v.buckets.resize(bounds_.size() + 1);
    for (std::size_t i = 0; i <= bounds_.size(); ++i) v.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    v.sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    return v;
}

}  // namespace procmon::daemon::metrics
