#include "watch.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "args.hpp"
#include "events_out.hpp"
#include "fields.hpp"
#include "messages.hpp"
#include "output.hpp"
#include "procmon.h"
#include "remote.hpp"
#include "terminal.hpp"

namespace procmon::cli {
namespace {

const char kWatchUsage[] =
    "usage: procmon watch [options]\n"
    "\n"
    "Report process starts, execs and exits as they happen, until --duration\n"
    "ends or Ctrl-C; then a statistics line on stderr. Uses the kernel's proc\n"
    "connector where permitted, else polls (and says so on stderr).\n"
    "\n"
    "options:\n"
    "  --duration S        stop after S seconds (default: until interrupted)\n"
    "%s"
    "  --format F          table (default), json-stream, json-array, json-pretty\n"
    "  -w, --wide          do not cut table lines to the terminal's width\n"
    "  --poll              poll instead of the proc connector\n"
    "  --interval MS       polling interval (default 1000)\n"
    "%s"
    "  --stats             print the collector's statistics, the events left out as\n"
    "                      undecidable, and per-stage latency at the end\n"
    "  -v                  say which source runs and why\n"
    "  -h, --help          this text\n"
    "\n"
    "Events whose process was gone before it could be read are marked partial;\n"
    "lost events are reported on stderr when they happen and counted at the end.\n"
    "A table on a terminal is cut to its width, as ps does; piped, never.\n"
    "\n"
    "%s";


struct WatchArgs {
    double duration = -1;
    EventFilterArgs filter;
    long long interval = 0;
    Format format = Format::table;
    bool poll = false, stats = false, verbose = false, wide = false;
    std::string connect;  // procmond's socket; empty: the library's rule
};

std::string parse_args(int argc, char **argv, WatchArgs &a, bool &help) {
    ArgCursor args(argc, argv);
    while (args.next()) {
        const std::string &arg = args.option();
        if (arg == "-h" || arg == "--help") {
            help = true;
            return {};
        }
        if (arg == "-v" || arg == "--poll" || arg == "--stats" || arg == "-w" || arg == "--wide") {
            if (args.has_inline_value()) return "option '" + arg + "' takes no value";
            (arg == "-v" ? a.verbose : arg == "--poll" ? a.poll : arg == "--stats" ? a.stats : a.wide) = true;
            continue;
        }
        std::string err;
        if (parse_filter_option(args, arg, a.filter, err) || parse_connect_option(args, arg, a.connect, err)) {
            if (!err.empty()) return err;
            continue;
        }
        static const char *const with_value[] = {"--duration", "--format", "--interval"};
        if (std::find_if(std::begin(with_value), std::end(with_value), [&](const char *o) { return arg == o; }) ==
            std::end(with_value))
            return "unknown option '" + std::string(args.raw()) + "'";
        std::string v;
        if (!(err = args.value(v)).empty()) return err;
        if (arg == "--duration") {
            char *end = nullptr;
            a.duration = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !(a.duration > 0) || a.duration > 1e9) return "'" + v + "' is not a duration in seconds";
        } else if (arg == "--format") {
            if (!parse_format(v, a.format) || a.format == Format::summary)
                return "unknown format '" + v + "' (table, json-stream, json-array, json-pretty)";
        } else {  // --interval
            if (!parse_int(v, 10, 3600000, a.interval)) return "'" + v + "' is not an interval in ms (10..3600000)";
        }
    }
    return {};
}

}  // namespace

int run_watch(int argc, char **argv) {
    WatchArgs a;
    bool help = false;
    std::string err = parse_args(argc, argv, a, help);
    if (!err.empty()) return usage_error("watch", err);
    if (help) {
        std::printf(kWatchUsage, kFilterOptionsHelp, kConnectHelp, kExitHelp);
        return kExitOk;
    }

    procmon_options o = PROCMON_OPTIONS_INIT;
    if (a.poll) o.event_source = PROCMON_SOURCE_POLLING;
    o.poll_interval_ms = static_cast<uint32_t>(a.interval);
    o.endpoint = endpoint_option(a.connect);
    procmon_ctx *ctx = nullptr;
    if (procmon_open(&ctx, &o) != PROCMON_OK) {
        std::fprintf(stderr, "procmon: %s\n", library_error().c_str());
        return kExitFailure;
    }
    const procmon_subscribe_options so = a.filter.options();
    procmon_subscription *sub = nullptr;
    if (int rc = procmon_subscribe(&sub, ctx, &so); rc != PROCMON_OK) return start_failed("watch", rc, ctx);
    say_event_source(ctx, a.verbose);
    procmon_stats st{};
    st.size = sizeof st;

    catch_interrupts();

    EventPrinter printer(a.format, a.format == Format::table ? output_columns(a.wide) : 0);
    printer.begin();
    uint64_t lost = 0;
    const auto begin = std::chrono::steady_clock::now();
    const auto end = begin + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(a.duration));
    bool write_failed = false;
    std::vector<procmon_event> batch(256);
    while (!interrupted() && !write_failed) {
        // Wake once a second at most to notice Ctrl-C (a signal also cuts the
        // wait short): an idle watch should cost next to nothing.
        int timeout = 1000;
        if (a.duration > 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
            if (left <= 0) break;
            timeout = static_cast<int>(std::min<long long>(left, 1000));
        }
        size_t n = 0;
        if (procmon_subscription_next(sub, batch.data(), sizeof batch[0], batch.size(), &n, timeout) != PROCMON_OK) break;
        for (size_t i = 0; i < n; ++i) {
            const procmon_event &e = batch[i];
            if (e.type == PROCMON_EVENT_LOST) {
                lost += e.lost;
                std::fprintf(stderr, "procmon: warning: %llu events lost%s\n", static_cast<unsigned long long>(e.lost),
                             e.lost == 0 ? " (count unknown)" : "");
            }
            printer.add(e);
        }
        write_failed = !printer.flush();
    }
    if (!write_failed) printer.end();
    const uint64_t written = printer.written();

    procmon_subscription_stats ss{};
    ss.size = sizeof ss;
    procmon_subscription_stats_get(&ss, sub);
    procmon_stats_get(&st, ctx);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    std::fprintf(stderr, "procmon: processed %llu, filtered %llu, output %llu, dropped %llu, lost %llu, rate %.1f/s\n",
                 static_cast<unsigned long long>(st.events_received), static_cast<unsigned long long>(ss.filtered),
                 static_cast<unsigned long long>(written), static_cast<unsigned long long>(ss.dropped),
                 static_cast<unsigned long long>(st.events_lost), secs > 0 ? static_cast<double>(written) / secs : 0.0);
    if (a.stats)
        std::fprintf(stderr,
                     "procmon: source %s; interval %u ms; resyncs %llu; backpressure activations %llu; collector CPU "
                     "%.3f s (%.3f%% of a core); RSS %.1f MiB\n",
                     in_cli_words(st.source_reason).c_str(), st.poll_interval_ms, static_cast<unsigned long long>(st.resyncs),
                     static_cast<unsigned long long>(st.backpressure_activations),
                     static_cast<double>(st.collector_cpu_ns) / 1e9,
                     secs > 0 ? 100.0 * static_cast<double>(st.collector_cpu_ns) / 1e9 / secs : 0.0,
                     static_cast<double>(st.process_rss_bytes) / 1048576.0);
    if (a.stats)  // gone before a filter could read what it needed
        std::fprintf(stderr, "procmon: undecidable %llu (%s)\n", static_cast<unsigned long long>(ss.undecidable),
                     a.filter.keep_undecidable ? "passed, as --keep-undecidable asks"
                                               : "counted in filtered, left out; --keep-undecidable shows them");
    if (a.stats && ss.timed > 0) {
        auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
        std::fprintf(stderr,
                     "procmon: latency over %llu events, p50/p99/max ms: receive %.3f/%.3f/%.3f, enrich "
                     "%.3f/%.3f/%.3f, deliver %.3f/%.3f/%.3f, total %.3f/%.3f/%.3f\n",
                     static_cast<unsigned long long>(ss.timed), ms(ss.latency_receive.p50_ns),
                     ms(ss.latency_receive.p99_ns), ms(ss.latency_receive.max_ns), ms(ss.latency_enrich.p50_ns),
                     ms(ss.latency_enrich.p99_ns), ms(ss.latency_enrich.max_ns), ms(ss.latency_deliver.p50_ns),
                     ms(ss.latency_deliver.p99_ns), ms(ss.latency_deliver.max_ns), ms(ss.latency_total.p50_ns),
                     ms(ss.latency_total.p99_ns), ms(ss.latency_total.max_ns));
    }
    procmon_unsubscribe(sub);
    procmon_close(ctx);
    return write_failed && errno != EPIPE ? kExitFailure : kExitOk;
}

}  // namespace procmon::cli
