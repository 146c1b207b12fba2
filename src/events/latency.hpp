// Latency of one stage of the event path, as a log-linear histogram: exact
// below 16 ns, then 8 buckets per power of two, so a percentile read from it
// is an upper bound within 12.5%. Fixed size, no allocation, one increment
// per sample: cheap enough to time every event.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "procmon.h"

namespace procmon::events {

class LatencyHistogram {
public:
    void add(uint64_t ns) {
        ++buckets_[index(ns)];
        ++count_;
        if (ns > max_) max_ = ns;
    }

    uint64_t count() const { return count_; }

    // The smallest bucket edge at or above the q-th quantile's value (q in
    // (0, 1]), never above the exact maximum.
    uint64_t quantile(double q) const {
        if (count_ == 0) return 0;
        const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999);
        uint64_t seen = 0;
        for (std::size_t i = 0; i < kBuckets; ++i) {
            seen += buckets_[i];
            if (seen >= rank) return upper_edge(i) < max_ ? upper_edge(i) : max_;
        }
        return max_;
    }

    procmon_latency summary() const { return {quantile(0.50), quantile(0.99), max_}; }

    // Bucket i holds [lower_edge(i), upper_edge(i)].
    static std::size_t index(uint64_t ns) {
        if (ns < kLinear) return static_cast<std::size_t>(ns);
        const unsigned octave = static_cast<unsigned>(std::bit_width(ns)) - 1;  // >= 4
        if (octave >= kTopOctave) return kBuckets - 1;
        const uint64_t sub = (ns >> (octave - kSubBits)) & (kSub - 1);
        return kLinear + (octave - 4) * kSub + static_cast<std::size_t>(sub);
    }
    static uint64_t upper_edge(std::size_t i) {
        if (i < kLinear) return i;
        if (i == kBuckets - 1) return UINT64_MAX;
        const unsigned octave = static_cast<unsigned>((i - kLinear) / kSub) + 4;
        const uint64_t sub = (i - kLinear) % kSub;
        return ((kSub + sub + 1) << (octave - kSubBits)) - 1;
    }

private:
    static constexpr unsigned kSubBits = 3;
    static constexpr uint64_t kSub = 1u << kSubBits;
    static constexpr uint64_t kLinear = 16;
    static constexpr unsigned kTopOctave = 44;  // 2^44 ns is about 4.9 hours: the last bucket holds the rest
    static constexpr std::size_t kBuckets = kLinear + (kTopOctave - 4) * kSub + 1;

    std::array<uint32_t, kBuckets> buckets_{};
    uint64_t count_ = 0, max_ = 0;
};

// When an event passed the collector's stages, on the monotonic clock
// (0 = not known: polling has no kernel time; LOST is not timed).
struct EventTiming {
    uint64_t kernel_ns = 0;    // the kernel's event time (netlink)
    uint64_t received_ns = 0;  // read by the collector (polling: the pass began)
    uint64_t ready_ns = 0;     // enriched, about to be offered to subscribers
};

// The four stages of procmon_subscription_stats, fed as events are returned.
class EventLatency {
public:
    void add(const EventTiming &t, uint64_t returned_ns) {
        if (t.ready_ns == 0) return;
        const uint64_t origin = t.kernel_ns ? t.kernel_ns : t.received_ns;
        if (t.kernel_ns) receive_.add(since(t.kernel_ns, t.received_ns));
        enrich_.add(since(t.received_ns, t.ready_ns));
        deliver_.add(since(t.ready_ns, returned_ns));
        total_.add(since(origin, returned_ns));
    }
    void fill(procmon_subscription_stats &s) const {
        s.timed = total_.count();
        s.latency_receive = receive_.summary();
        s.latency_enrich = enrich_.summary();
        s.latency_deliver = deliver_.summary();
        s.latency_total = total_.summary();
    }

private:
    static uint64_t since(uint64_t from, uint64_t to) { return to > from ? to - from : 0; }
    LatencyHistogram receive_, enrich_, deliver_, total_;
};

}  // namespace procmon::events
