#include "remote.hpp"

#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "events_out.hpp"
#include "json.hpp"
#include "messages.hpp"
#include "output.hpp"
#include "procmon.h"
#include "terminal.hpp"

namespace procmon::cli {

const char kConnectHelp[] =
    "  --connect PATH      ask procmond at this Unix socket (unix:PATH too) instead of\n"
    "                      reading this machine; PROCMON_ENDPOINT=PATH does the same\n";

bool parse_connect_option(ArgCursor &args, const std::string &arg, std::string &endpoint, std::string &err) {
    if (arg != "--connect") return false;
    err = args.value(endpoint);
    if (err.empty() && endpoint.empty()) err = "--connect needs a socket path";
    return true;
}

namespace {

const char kStatusUsage[] =
    "usage: procmon status [--connect PATH] [--json]\n"
    "\n"
    "Say whether procmond is up and how it is doing: its version, pid and uptime,\n"
    "its clients (each one's queue, events delivered and dropped, next sequence\n"
    "number), its journal, its configuration and event source.\n"
    "\n"
    "options:\n"
    "  --connect PATH      the daemon's socket (default: PROCMON_ENDPOINT)\n"
    "  --json              one JSON object instead of text\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 the daemon answered, 1 it is not reachable (the reason on\n"
    "stderr), 2 bad usage.\n";

const char kRemoteReplayUsage[] =
    "usage: procmon replay --connect PATH [options]\n"
    "\n"
    "Print the events procmond's journal holds, from a sequence number, then stop\n"
    "(or, with --follow, go on with live events).\n"
    "\n"
    "options:\n"
    "  --from-seq N        the first sequence number (default 1: the oldest kept)\n"
    "  --until SEQ         stop after this sequence number\n"
    "  --follow            after the journal, print live events until Ctrl-C\n"
    "  --format F          table (default), json-stream, json-array, json-pretty\n"
    "  -w, --wide          do not cut table lines to the terminal's width\n"
    "%s"
    "  -h, --help          this text\n"
    "\n"
    "%s";

std::string utc(uint64_t ns) {
    if (ns == 0) return "never";
    const time_t secs = static_cast<time_t>(ns / 1000000000u);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string uptime(uint64_t started_ns) {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    const uint64_t now_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
    uint64_t s = now_ns > started_ns ? (now_ns - started_ns) / 1000000000u : 0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%llud %02lluh %02llum %02llus", static_cast<unsigned long long>(s / 86400),
                  static_cast<unsigned long long>(s / 3600 % 24), static_cast<unsigned long long>(s / 60 % 60),
                  static_cast<unsigned long long>(s % 60));
    return buf;
}

const char *client_kind(uint32_t kind) {
    return kind == PROCMON_CLIENT_SUBSCRIBER ? "subscriber" : kind == PROCMON_CLIENT_REQUESTS ? "requests" : "unknown";
}

std::string number(const char *key, uint64_t v) { return std::string("\"") + key + "\":" + std::to_string(v); }

void print_status_json(const procmon_daemon_status &st, const std::vector<procmon_daemon_client> &clients, const char *endpoint) {
    std::string o = "{";
    auto text = [&o](const char *key, const char *v) {
        o += std::string("\"") + key + "\":";
        json_string(o, v, std::strlen(v));
        o += ',';
    };
    text("endpoint", endpoint);
    o += "\"up\":true,";
    text("daemon_version", st.daemon_version);
    for (auto [key, v] : {std::pair<const char *, uint64_t>{"protocol_version", st.protocol_version},
                          {"peer_uid", st.peer_uid}, {"started_ns", st.started_ns}, {"clients", st.clients},
                          {"subscriptions", st.subscriptions}, {"connections_total", st.connections_total},
                          {"connections_refused", st.connections_refused}, {"requests_total", st.requests_total},
                          {"events_delivered", st.events_delivered}, {"events_dropped", st.events_dropped},
                          {"journal_next_seq", st.journal_next_seq}, {"journal_durable_seq", st.journal_durable_seq},
                          {"journal_bytes", st.journal_bytes}, {"journal_segments", st.journal_segments},
                          {"journal_lost", st.journal_lost}, {"config_generation", st.config_generation},
                          {"config_loaded_ns", st.config_loaded_ns}, {"config_reload_failures", st.config_reload_failures},
                          {"rss_bytes", st.rss_bytes}, {"arena_used_bytes", st.arena_used_bytes},
                          {"arena_cap_bytes", st.arena_cap_bytes}})
        o += number(key, v) + ",";
    o += "\"daemon_pid\":" + std::to_string(st.daemon_pid) + ",";
    text("config_path", st.config_path);
    text("source_name", st.source_name);
    o += "\"client_list\":[";
    for (std::size_t i = 0; i < clients.size(); ++i) {
        const procmon_daemon_client &c = clients[i];
        o += i ? ",{" : "{";
        o += "\"pid\":" + std::to_string(c.pid) + ",\"kind\":\"" + client_kind(c.kind) + "\",";
        o += number("uid", c.uid) + "," + number("gid", c.gid) + "," + number("connected_ns", c.connected_ns) + "," +
             number("requests", c.requests) + "," + number("events_delivered", c.events_delivered) + "," +
             number("events_dropped", c.events_dropped) + "," + number("queue_depth", c.queue_depth) + "," +
             number("queue_capacity", c.queue_capacity) + "," + number("next_seq", c.next_seq) + "}";
    }
    o += "]}\n";
    std::fputs(o.c_str(), stdout);
}

void print_status_text(const procmon_daemon_status &st, const std::vector<procmon_daemon_client> &clients, const char *endpoint) {
    auto mib = [](uint64_t b) { return static_cast<double>(b) / 1048576.0; };
    std::printf("procmond at %s: up\n", endpoint);
    std::printf("  version %s (protocol %u), pid %d, up %s (since %s); you are uid %u\n", st.daemon_version,
                st.protocol_version, st.daemon_pid, uptime(st.started_ns).c_str(), utc(st.started_ns).c_str(), st.peer_uid);
    std::printf("  clients %llu (%llu subscribed); connections %llu accepted, %llu refused; requests %llu\n",
                static_cast<unsigned long long>(st.clients), static_cast<unsigned long long>(st.subscriptions),
                static_cast<unsigned long long>(st.connections_total), static_cast<unsigned long long>(st.connections_refused),
                static_cast<unsigned long long>(st.requests_total));
    std::printf("  events delivered %llu, dropped %llu (slow subscribers)\n",
                static_cast<unsigned long long>(st.events_delivered), static_cast<unsigned long long>(st.events_dropped));
    std::printf("  journal: next seq %llu, durable %llu, %.1f MiB in %llu segments, lost %llu\n",
                static_cast<unsigned long long>(st.journal_next_seq), static_cast<unsigned long long>(st.journal_durable_seq),
                mib(st.journal_bytes), static_cast<unsigned long long>(st.journal_segments),
                static_cast<unsigned long long>(st.journal_lost));
    std::printf("  config: %s, generation %llu, loaded %s, %llu failed reloads\n",
                *st.config_path ? st.config_path : "(defaults)", static_cast<unsigned long long>(st.config_generation),
                utc(st.config_loaded_ns).c_str(), static_cast<unsigned long long>(st.config_reload_failures));
    std::printf("  source %s; RSS %.1f MiB; arena %.1f of %.1f MiB\n", *st.source_name ? st.source_name : "(none yet)",
                mib(st.rss_bytes), mib(st.arena_used_bytes), mib(st.arena_cap_bytes));
    std::printf("%8s %6s %-10s %19s %12s %9s %10s\n", "PID", "UID", "KIND", "QUEUE", "DELIVERED", "DROPPED", "NEXT SEQ");
    for (const procmon_daemon_client &c : clients) {
        const std::string queue = std::to_string(c.queue_depth) + "/" + std::to_string(c.queue_capacity);
        std::printf("%8d %6u %-10s %19s %12llu %9llu %10llu\n", c.pid, c.uid, client_kind(c.kind), queue.c_str(),
                    static_cast<unsigned long long>(c.events_delivered), static_cast<unsigned long long>(c.events_dropped),
                    static_cast<unsigned long long>(c.next_seq));
    }
}

}  // namespace

int run_status(int argc, char **argv) {
    std::string connect, err;
    bool json = false;
    ArgCursor args(argc, argv);
    while (args.next()) {
        const std::string &arg = args.option();
        if (arg == "-h" || arg == "--help") {
            std::fputs(kStatusUsage, stdout);
            return kExitOk;
        }
        if (arg == "--json") {
            json = true;
            continue;
        }
        if (parse_connect_option(args, arg, connect, err)) {
            if (!err.empty()) return usage_error("status", err);
            continue;
        }
        return usage_error("status", "unknown option '" + std::string(args.raw()) + "'");
    }
    const char *env = std::getenv("PROCMON_ENDPOINT");
    if (connect.empty() && (env == nullptr || *env == '\0')) {
        std::fprintf(stderr, "procmon: which daemon? Give --connect PATH or set PROCMON_ENDPOINT\n");
        return 1;
    }
    const std::string endpoint = connect.empty() ? env : connect;
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.endpoint = endpoint.c_str();
    procmon_ctx *ctx = nullptr;
    procmon_daemon_status st{};
    st.size = sizeof st;
    std::vector<procmon_daemon_client> clients(256);
    size_t n = 0;
    if (procmon_open(&ctx, &o) != PROCMON_OK || procmon_daemon_status_get(&st, ctx) != PROCMON_OK ||
        procmon_daemon_clients(ctx, clients.data(), sizeof clients[0], clients.size(), &n) != PROCMON_OK) {
        std::fprintf(stderr, "procmon: procmond at %s is not reachable: %s\n", endpoint.c_str(), library_error().c_str());
        procmon_close(ctx);
        return 1;
    }
    clients.resize(n);
    if (json) print_status_json(st, clients, endpoint.c_str());
    else print_status_text(st, clients, endpoint.c_str());
    procmon_close(ctx);
    return kExitOk;
}

int run_remote_replay(int argc, char **argv) {
    std::string connect, err;
    long long from_seq = 1, until = 0;
    bool follow = false, wide = false;
    Format format = Format::table;
    ArgCursor args(argc, argv);
    while (args.next()) {
        const std::string &arg = args.option();
        if (arg == "-h" || arg == "--help") {
            std::printf(kRemoteReplayUsage, kConnectHelp, kExitHelp);
            return kExitOk;
        }
        if (arg == "--follow" || arg == "-w" || arg == "--wide") {
            (arg == "--follow" ? follow : wide) = true;
            continue;
        }
        if (parse_connect_option(args, arg, connect, err)) {
            if (!err.empty()) return usage_error("replay", err);
            continue;
        }
        if (arg != "--from-seq" && arg != "--until" && arg != "--format")
            return usage_error("replay", arg.rfind("-", 0) == 0 ? "unknown option '" + std::string(args.raw()) + "'"
                                                                : "a directory or --connect, not both");
        std::string v;
        if (!(err = args.value(v)).empty()) return usage_error("replay", err);
        if (arg == "--format") {
            if (!parse_format(v, format) || format == Format::summary)
                return usage_error("replay", "unknown format '" + v + "' (table, json-stream, json-array, json-pretty)");
        } else if (!parse_int(v, 1, INT64_MAX, arg == "--from-seq" ? from_seq : until)) {
            return usage_error("replay", "'" + v + "' is not a sequence number (1 or more)");
        }
    }
    if (until != 0 && until < from_seq) return usage_error("replay", "--until is before --from-seq: nothing to replay");

    procmon_options o = PROCMON_OPTIONS_INIT;
    o.endpoint = endpoint_option(connect);
    procmon_ctx *ctx = nullptr;
    if (procmon_open(&ctx, &o) != PROCMON_OK) {
        std::fprintf(stderr, "procmon: %s\n", library_error().c_str());
        return kExitFailure;
    }
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    so.events = PROCMON_EVENTS_ALL;
    so.from_seq = static_cast<uint64_t>(from_seq);
    // Without --follow the daemon sends the journal as it is now, then closes.
    if (!follow) so.flags |= PROCMON_SUBSCRIBE_HISTORY;
    procmon_subscription *sub = nullptr;
    if (int rc = procmon_subscribe(&sub, ctx, &so); rc != PROCMON_OK) return start_failed("replay", rc, ctx);
    catch_interrupts();
    EventPrinter printer(format, format == Format::table ? output_columns(wide) : 0);
    printer.begin();
    std::vector<procmon_event> batch(512);
    bool write_failed = false, done = false;
    int rc = PROCMON_OK;
    uint64_t last_seq = 0;
    while (!interrupted() && !write_failed && !done) {
        size_t n = 0;
        rc = procmon_subscription_next(sub, batch.data(), sizeof batch[0], batch.size(), &n, 1000);
        if (rc != PROCMON_OK) break;
        for (size_t i = 0; i < n && !done; ++i) {
            const procmon_event &e = batch[i];
            if (until != 0 && e.seq > static_cast<uint64_t>(until)) {
                done = true;
                break;
            }
            if (e.type == PROCMON_EVENT_LOST)
                std::fprintf(stderr, "procmon: warning: %llu events lost (missing from procmond's journal)\n",
                             static_cast<unsigned long long>(e.lost));
            last_seq = e.seq;
            printer.add(e);
        }
        write_failed = !printer.flush();
    }
    // Without --follow, ECLOSED is the history's end; with it, the daemon went away.
    const bool failed = rc != PROCMON_OK && (follow || rc != PROCMON_ECLOSED);
    const std::string why = failed ? library_error() : "";
    if (!write_failed) printer.end();
    procmon_unsubscribe(sub);
    procmon_close(ctx);
    if (failed) {
        std::fprintf(stderr, "procmon: %s\n", why.c_str());
        return kExitFailure;
    }
    std::fprintf(stderr, "procmon: replayed %llu events from procmond", static_cast<unsigned long long>(printer.written()));
    if (last_seq != 0) std::fprintf(stderr, " (up to seq %llu)", static_cast<unsigned long long>(last_seq));
    std::fputc('\n', stderr);
    return write_failed && errno != EPIPE ? kExitFailure : kExitOk;
}

}  // namespace procmon::cli
