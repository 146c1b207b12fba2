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
#include "fields.hpp"
#include "json.hpp"
#include "output.hpp"
#include "procmon.h"

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
    "  --events LIST       start,exec,exit,uid,comm (default start,exec,exit)\n"
    "  --name GLOB         only processes whose name matches the shell pattern\n"
    "  --user U            only processes whose effective user is U (name or uid)\n"
    "  --descendants-of P  only descendants of pid P\n"
    "  --format F          table (default), json-stream, json-array, json-pretty\n"
    "  --poll              poll instead of the proc connector\n"
    "  --interval MS       polling interval (default 1000)\n"
    "  --queue N           events the queue holds (default 16384)\n"
    "  --stats             print the collector's statistics and per-stage latency at the end\n"
    "  -v                  say which source runs and why\n"
    "  -h, --help          this text\n"
    "\n"
    "Events whose process was gone before it could be read are marked partial;\n"
    "lost events are reported on stderr when they happen and counted at the end.\n";

volatile sig_atomic_t interrupted = 0;
void on_signal(int) { interrupted = 1; }

struct WatchArgs {
    double duration = -1;
    uint32_t events = 0;
    std::string name;
    bool has_name = false;
    long long uid = -1, descendants_of = 0, interval = 0, queue = 0;
    Format format = Format::table;
    bool poll = false, stats = false, verbose = false;
};

const char *type_name(uint32_t t) {
    switch (t) {
    case PROCMON_EVENT_START: return "start";
    case PROCMON_EVENT_EXEC: return "exec";
    case PROCMON_EVENT_EXIT: return "exit";
    case PROCMON_EVENT_UID: return "uid";
    case PROCMON_EVENT_COMM: return "comm";
    case PROCMON_EVENT_LOST: return "lost";
    default: return "?";
    }
}

std::string parse_events(const std::string &list, uint32_t &out) {
    out = 0;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        std::string one = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        uint32_t bit = one == "start" ? PROCMON_EVENT_START : one == "exec" ? PROCMON_EVENT_EXEC
                     : one == "exit" ? PROCMON_EVENT_EXIT : one == "uid" ? PROCMON_EVENT_UID
                     : one == "comm" ? PROCMON_EVENT_COMM : 0;
        if (bit == 0) return "unknown event '" + one + "' (start, exec, exit, uid, comm)";
        out |= bit;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return {};
}

std::string parse_args(int argc, char **argv, WatchArgs &a, bool &help) {
    ArgCursor args(argc, argv);
    while (args.next()) {
        const std::string &arg = args.option();
        if (arg == "-h" || arg == "--help") {
            help = true;
            return {};
        }
        if (arg == "-v" || arg == "--poll" || arg == "--stats") {
            if (args.has_inline_value()) return "option '" + arg + "' takes no value";
            (arg == "-v" ? a.verbose : arg == "--poll" ? a.poll : a.stats) = true;
            continue;
        }
        static const char *const with_value[] = {"--duration", "--events", "--name", "--user",
                                                 "--descendants-of", "--format", "--interval", "--queue"};
        if (std::find_if(std::begin(with_value), std::end(with_value), [&](const char *o) { return arg == o; }) ==
            std::end(with_value))
            return "unknown option '" + std::string(args.raw()) + "'";
        std::string v, err;
        if (!(err = args.value(v)).empty()) return err;
        if (arg == "--duration") {
            char *end = nullptr;
            a.duration = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !(a.duration > 0) || a.duration > 1e9) return "'" + v + "' is not a duration in seconds";
        } else if (arg == "--events") {
            if (!(err = parse_events(v, a.events)).empty()) return err;
        } else if (arg == "--name") {
            a.name = v;
            a.has_name = true;
        } else if (arg == "--user") {
            if (!(err = parse_user(v, a.uid)).empty()) return err;
        } else if (arg == "--descendants-of") {
            if (!parse_int(v, 1, 2147483647LL, a.descendants_of)) return "'" + v + "' is not a pid";
        } else if (arg == "--format") {
            if (!parse_format(v, a.format) || a.format == Format::summary)
                return "unknown format '" + v + "' (table, json-stream, json-array, json-pretty)";
        } else if (arg == "--interval") {
            if (!parse_int(v, 10, 3600000, a.interval)) return "'" + v + "' is not an interval in ms (10..3600000)";
        } else {  // --queue
            if (!parse_int(v, 2, 16777216, a.queue)) return "'" + v + "' is not a queue size (2..16777216)";
        }
    }
    return {};
}

void json_event(std::string &o, const procmon_event &e, Env &env, const char *open, const char *sep, const char *close) {
    o += open;
    o += "\"seq\":" + std::to_string(e.seq) + sep + "\"time\":\"";
    append_iso8601(o, e.time_ns);
    o += std::string("\"") + sep + "\"type\":\"" + type_name(e.type) + "\"";
    if (e.type == PROCMON_EVENT_LOST) {
        o += std::string(sep) + "\"lost\":" + std::to_string(e.lost) + close;
        return;
    }
    o += std::string(sep) + "\"pid\":" + std::to_string(e.pid) + sep + "\"ppid\":" + std::to_string(e.ppid);
    o += std::string(sep) + "\"uid\":" + (e.uid == UINT32_MAX ? std::string("null") : std::to_string(e.uid));
    o += std::string(sep) + "\"user\":";
    if (e.uid == UINT32_MAX) o += "null";
    else json_string(o, env.user(e.uid));
    o += std::string(sep) + "\"start\":\"";
    append_iso8601(o, e.start_time_ns);
    o += std::string("\"") + sep + "\"start_ticks\":" + std::to_string(e.start_ticks) + sep;
    json_text_field(o, "name", e.name, true);
    o += sep;
    json_text_field(o, "exe", e.exe, true);
    o += sep;
    json_argv_field(o, e.argv, e.argv_len);
    if (e.type == PROCMON_EVENT_EXIT) {
        const bool known = !(e.flags & PROCMON_EVENT_FLAG_NO_STATUS);
        o += std::string(sep) + "\"exit_code\":" + (known && e.exit_signal == 0 ? std::to_string(e.exit_code) : "null");
        o += std::string(sep) + "\"exit_signal\":" + (known && e.exit_signal ? std::to_string(e.exit_signal) : "null");
        o += std::string(sep) + "\"lifetime_ns\":" + std::to_string(e.lifetime_ns);
    }
    o += std::string(sep) + "\"partial\":" + (e.flags & PROCMON_EVENT_FLAG_PARTIAL ? "true" : "false");
    o += std::string(sep) + "\"synthesized\":" + (e.flags & PROCMON_EVENT_FLAG_SYNTHESIZED ? "true" : "false");
    o += close;
}

void table_event(std::string &o, const procmon_event &e, Env &env) {
    char buf[160];
    std::string when;
    append_iso8601(when, e.time_ns);
    std::snprintf(buf, sizeof buf, "%-12s %-5s ", when.substr(11, 12).c_str(), type_name(e.type));
    o += buf;
    if (e.type == PROCMON_EVENT_LOST) {
        o += std::to_string(e.lost) + " events lost\n";
        return;
    }
    std::string user = e.uid == UINT32_MAX ? "?" : env.user(e.uid);
    std::snprintf(buf, sizeof buf, "%7d %7d %-8.8s ", e.pid, e.ppid, user.c_str());
    o += buf;
    procmon_process p{};
    p.name = e.name;
    p.argv = e.argv;
    p.argv_len = e.argv_len;
    p.argc = e.argc;
    p.valid = PROCMON_FIELD_ARGV;
    append_command(o, p);
    if (e.type == PROCMON_EVENT_EXIT) {
        if (e.flags & PROCMON_EVENT_FLAG_NO_STATUS) o += "  [exit status unknown]";
        else if (e.exit_signal) o += "  [killed by signal " + std::to_string(e.exit_signal) + "]";
        else o += "  [exit " + std::to_string(e.exit_code) + "]";
    }
    if (e.flags & PROCMON_EVENT_FLAG_PARTIAL) o += "  (partial)";
    if (e.flags & PROCMON_EVENT_FLAG_SYNTHESIZED) o += "  (synthesized)";
    o += '\n';
}

}  // namespace

int run_watch(int argc, char **argv) {
    WatchArgs a;
    bool help = false;
    std::string err = parse_args(argc, argv, a, help);
    if (!err.empty()) return usage_error("watch", err);
    if (help) {
        std::fputs(kWatchUsage, stdout);
        return kExitOk;
    }

    procmon_options o = PROCMON_OPTIONS_INIT;
    if (a.poll) o.event_source = PROCMON_SOURCE_POLLING;
    o.poll_interval_ms = static_cast<uint32_t>(a.interval);
    procmon_ctx *ctx = nullptr;
    if (procmon_open(&ctx, &o) != PROCMON_OK) {
        std::fprintf(stderr, "procmon: %s\n", procmon_error_last()->message);
        return kExitFailure;
    }
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    so.events = a.events;
    so.name_glob = a.has_name ? a.name.c_str() : nullptr;
    so.uid = a.uid;
    so.descendants_of = static_cast<int32_t>(a.descendants_of);
    so.queue_capacity = static_cast<uint32_t>(a.queue);
    procmon_subscription *sub = nullptr;
    if (int rc = procmon_subscribe(&sub, ctx, &so); rc != PROCMON_OK) {
        const std::string message = procmon_error_last()->message;
        procmon_close(ctx);
        // EINVAL here can only come from what the user gave (a malformed --name)
        if (rc == PROCMON_EINVAL) return usage_error("watch", message);
        std::fprintf(stderr, "procmon: %s\n", message.c_str());
        return kExitFailure;
    }
    procmon_stats st{};
    st.size = sizeof st;
    procmon_stats_get(&st, ctx);
    if (st.event_source == PROCMON_STATS_SOURCE_POLLING)
        std::fprintf(stderr, "procmon: %s; polling every %u ms, so processes shorter than that may be missed\n",
                     st.source_reason, st.poll_interval_ms);
    else if (a.verbose)
        std::fprintf(stderr, "procmon: watching through the %s\n", st.source_reason);

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    Env env;
    std::string out;
    const bool pretty = a.format == Format::json_pretty, array = pretty || a.format == Format::json_array;
    if (array) out += "[";
    else if (a.format == Format::table) out += "TIME         EVENT     PID    PPID USER     COMMAND\n";
    uint64_t written = 0, lost = 0;
    const auto begin = std::chrono::steady_clock::now();
    const auto end = begin + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(a.duration));
    bool write_failed = false;
    std::vector<procmon_event> batch(256);
    while (!interrupted && !write_failed) {
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
            if (a.format == Format::table) table_event(out, e, env);
            else if (a.format == Format::json_stream) json_event(out, e, env, "{", ",", "}\n");
            else {
                out += written ? ",\n" : "\n";
                if (pretty) json_event(out, e, env, "  {\n    ", ",\n    ", "\n  }");
                else json_event(out, e, env, "{", ",", "}");
            }
            ++written;
        }
        if (!out.empty()) {
            write_failed = std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0;
            out.clear();
        }
    }
    if (array && !write_failed) {
        out += written ? "\n]\n" : "]\n";
        std::fwrite(out.data(), 1, out.size(), stdout);
        std::fflush(stdout);
    }

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
                     st.source_reason, st.poll_interval_ms, static_cast<unsigned long long>(st.resyncs),
                     static_cast<unsigned long long>(st.backpressure_activations),
                     static_cast<double>(st.collector_cpu_ns) / 1e9,
                     secs > 0 ? 100.0 * static_cast<double>(st.collector_cpu_ns) / 1e9 / secs : 0.0,
                     static_cast<double>(st.process_rss_bytes) / 1048576.0);
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
