// The latency histogram behind procmon_subscription_stats: a percentile read
// from it is an upper bound within 12.5% of the exact one, max is exact, and
// the four stages add up per event.
#include <criterion/criterion.h>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <random>
#include <vector>

#include "events/latency.hpp"

using procmon::events::EventLatency;
using procmon::events::EventTiming;
using procmon::events::LatencyHistogram;

namespace {

uint64_t exact_quantile(std::vector<uint64_t> v, double q) {
    std::sort(v.begin(), v.end());
    std::size_t rank = static_cast<std::size_t>(q * static_cast<double>(v.size()) + 0.999999);
    return v[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

Test(latency, empty_reads_zero) {
    LatencyHistogram h;
    procmon_latency l = h.summary();
    cr_expect_eq(l.p50_ns, 0u);
    cr_expect_eq(l.p99_ns, 0u);
    cr_expect_eq(l.max_ns, 0u);
}

Test(latency, every_value_falls_in_a_bucket_that_holds_it) {
    for (uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 31ull, 32ull, 1000ull, 123456789ull, 1ull << 43,
                       (1ull << 44) - 1}) {
        std::size_t i = LatencyHistogram::index(v);
        cr_expect_leq(v, LatencyHistogram::upper_edge(i), "%llu above its bucket", static_cast<unsigned long long>(v));
        if (i > 0) cr_expect_gt(v, LatencyHistogram::upper_edge(i - 1), "%llu below its bucket", static_cast<unsigned long long>(v));
    }
    // hours: the last bucket, still counted, max still exact
    LatencyHistogram h;
    h.add(UINT64_MAX / 2);
    cr_expect_eq(h.summary().max_ns, UINT64_MAX / 2);
    cr_expect_eq(h.summary().p99_ns, UINT64_MAX / 2);
}

Test(latency, percentiles_are_upper_bounds_within_an_eighth) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 50; ++round) {
        LatencyHistogram h;
        std::vector<uint64_t> v;
        // log-uniform from 1 ns to about 10 s: every octave gets samples
        std::uniform_real_distribution<double> exp10(0, 10);
        const int n = 1 + static_cast<int>(rng() % 5000);
        for (int i = 0; i < n; ++i) {
            uint64_t x = static_cast<uint64_t>(std::pow(10.0, exp10(rng)));
            v.push_back(x);
            h.add(x);
        }
        cr_assert_eq(h.count(), static_cast<uint64_t>(n));
        for (double q : {0.5, 0.99, 1.0}) {
            const uint64_t exact = exact_quantile(v, q), got = h.quantile(q);
            cr_expect_geq(got, exact, "q %.2f: %llu below the exact %llu", q, static_cast<unsigned long long>(got),
                          static_cast<unsigned long long>(exact));
            cr_expect_leq(got, exact + exact / 8 + 1, "q %.2f: %llu more than 12.5%% above %llu", q,
                          static_cast<unsigned long long>(got), static_cast<unsigned long long>(exact));
        }
        cr_expect_eq(h.summary().max_ns, *std::max_element(v.begin(), v.end()));
    }
}

Test(latency, stages_add_up_and_polling_has_no_receive_stage) {
    EventLatency l;
    l.add(EventTiming{1000, 1500, 4000}, 4100);  // netlink: 500 + 2500 + 100
    l.add(EventTiming{0, 10000, 30000}, 30050);  // polling: no kernel time
    l.add(EventTiming{}, 99999);                 // not timed (LOST)
    procmon_subscription_stats s{};
    l.fill(s);
    cr_expect_eq(s.timed, 2u);
    cr_expect_eq(s.latency_receive.max_ns, 500u);
    cr_expect_eq(s.latency_enrich.max_ns, 20000u);
    cr_expect_eq(s.latency_deliver.max_ns, 100u);
    cr_expect_eq(s.latency_total.max_ns, 20050u);
    cr_expect_leq(s.latency_total.p50_ns, 3100u + 3100u / 8, "the netlink event's total, 3100 ns, is the median");
    cr_expect_geq(s.latency_total.p50_ns, 3100u);
}
