// In-process enumeration benchmark. Spawns N idle processes, then times, in
// the same run and interleaved round by round: the reference reader
// (reference_reader.hpp), libproc2 reading the same fields as procmon's
// defaults, and procmon cold (new context each time) and warm (same
// context), with default and all fields. Prints median and p90 per
// variant and each median as a ratio of the reference's.
//
// With several sizes (--procs 1000,10000) it grows the same children set
// size by size in one run and ends with how each variant's time scaled.
//
//   enumerate_bench [--procs N[,N...]] [--rounds R] [--threads T]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "idle_children.hpp"
#include "libproc2_reader.hpp"
#include "procmon.h"
#include "reference_reader.hpp"

namespace {

double now_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

struct Variant {
    std::string name;
    std::function<std::size_t()> run;  // returns processes seen
    std::vector<double> ms;
    std::size_t seen = 0;
};

double percentile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    std::size_t i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[i];
}

void check(int rc, const char *what) {
    if (rc != PROCMON_OK) {
        std::fprintf(stderr, "%s: %s\n", what, procmon_error_last()->message);
        std::exit(1);
    }
}

std::size_t enumerate_once(procmon_ctx *ctx, uint64_t fields) {
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = fields;
    procmon_snapshot *s = nullptr;
    check(procmon_enumerate(&s, ctx, &q), "enumerate");
    std::size_t n = procmon_snapshot_count(s);
    procmon_snapshot_free(s);
    return n;
}

}  // namespace

struct Level {
    std::size_t children, seen;
    std::vector<double> medians;
};

int main(int argc, char **argv) {
    std::vector<std::size_t> sizes = {1000};
    std::size_t rounds = 21;
    unsigned threads = 0;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--procs") && i + 1 < argc) {
            sizes.clear();
            for (char *tok = std::strtok(argv[++i], ","); tok; tok = std::strtok(nullptr, ","))
                sizes.push_back(std::strtoul(tok, nullptr, 10));
        } else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds = std::strtoul(argv[++i], nullptr, 10);
        } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
        } else {
            std::fprintf(stderr, "usage: enumerate_bench [--procs N[,N...]] [--rounds R] [--threads T]\n");
            return 2;
        }
    }
    std::sort(sizes.begin(), sizes.end());

    procmon_options opts = PROCMON_OPTIONS_INIT;
    opts.threads = threads;
    IdleChildren children;
    Libproc2Reader libproc2;
    std::vector<Level> levels;
    std::vector<std::string> names;

    for (std::size_t size : sizes) {
        double t0 = now_ms();
        children.grow_to(size);
        std::printf("\n%zu idle processes (spawned in %.1f s); rounds %zu; procmon %s\n", children.size(),
                    (now_ms() - t0) / 1000, rounds, procmon_version_string());

        procmon_ctx *warm_default = nullptr, *warm_all = nullptr;
        check(procmon_open(&warm_default, &opts), "open");
        check(procmon_open(&warm_all, &opts), "open");
        enumerate_once(warm_default, PROCMON_FIELDS_DEFAULT);  // fill the caches
        enumerate_once(warm_all, PROCMON_FIELDS_ALL);

        auto cold = [&](uint64_t fields) {
            return [&opts, fields] {
                procmon_ctx *ctx = nullptr;
                check(procmon_open(&ctx, &opts), "open");
                std::size_t n = enumerate_once(ctx, fields);
                procmon_close(ctx);
                return n;
            };
        };
        std::vector<Variant> variants;
        variants.push_back({"reference stat+status+cmdline", [] { std::size_t b; return reference_enumerate(&b); }, {}, 0});
        variants.push_back({"libproc2 reap, same fields", [&] { return libproc2.enumerate(); }, {}, 0});
        variants.push_back({"procmon cold, default fields", cold(PROCMON_FIELDS_DEFAULT), {}, 0});
        variants.push_back({"procmon warm, default fields", [&] { return enumerate_once(warm_default, PROCMON_FIELDS_DEFAULT); }, {}, 0});
        variants.push_back({"procmon cold, all fields", cold(PROCMON_FIELDS_ALL), {}, 0});
        variants.push_back({"procmon warm, all fields", [&] { return enumerate_once(warm_all, PROCMON_FIELDS_ALL); }, {}, 0});

        // Interleave the variants round by round, so drift hits all alike.
        for (std::size_t r = 0; r < rounds; ++r)
            for (Variant &v : variants) {
                double start = now_ms();
                v.seen = v.run();
                v.ms.push_back(now_ms() - start);
            }

        const double ref = percentile(variants[0].ms, 0.5);
        std::printf("%-32s %8s %10s %10s %8s\n", "variant", "procs", "median ms", "p90 ms", "ratio");
        Level level{children.size(), variants[0].seen, {}};
        names.clear();
        for (Variant &v : variants) {
            std::printf("%-32s %8zu %10.2f %10.2f %7.2fx\n", v.name.c_str(), v.seen, percentile(v.ms, 0.5),
                        percentile(v.ms, 0.9), percentile(v.ms, 0.5) / ref);
            level.medians.push_back(percentile(v.ms, 0.5));
            names.push_back(v.name);
        }
        levels.push_back(level);
        procmon_close(warm_default);
        procmon_close(warm_all);
    }

    if (levels.size() > 1) {
        const Level &first = levels.front(), &last = levels.back();
        std::printf("\nscaling from %zu to %zu processes (%.2fx more), same run:\n", first.seen, last.seen,
                    static_cast<double>(last.seen) / static_cast<double>(first.seen));
        for (std::size_t i = 0; i < names.size(); ++i)
            std::printf("%-32s %7.2fx the time\n", names[i].c_str(), last.medians[i] / first.medians[i]);
    }
    return 0;
}
