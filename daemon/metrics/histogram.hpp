// A histogram any thread may observe into without a lock (relaxed atomics:
// a scrape may see one observation's bucket before its sum, which
// Prometheus tolerates), of durations measured in nanoseconds and exposed
// in seconds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "exposition.hpp"

namespace procmon::daemon::metrics {

// Bucket bounds, in seconds.
const Bounds &latency_bounds();   // 50 µs .. 10 s: requests, fsyncs, scrapes
const Bounds &lifetime_bounds();  // 10 ms .. a day: how long processes live

// The bucket a value of `seconds` falls in: the first bound it does not
// exceed (le is inclusive), or bounds.size() for +Inf.
std::size_t bucket_index(const Bounds &bounds, double seconds);

class Histogram {
public:
    explicit Histogram(const Bounds &bounds);
    void observe_ns(uint64_t ns);
    HistogramValue value() const;
    const Bounds &bounds() const { return bounds_; }

private:
    const Bounds &bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds + 1 (+Inf)
    std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace procmon::daemon::metrics
