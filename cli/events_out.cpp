#include "events_out.hpp"

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "json.hpp"
#include "messages.hpp"
#include "terminal.hpp"

namespace procmon::cli {
namespace {

const char *event_name(const procmon_event &e) { return e.full_name != nullptr ? e.full_name : e.name; }

const char *type_name(uint32_t t) {
    const char *name = procmon_event_type_name(t);
    return name != nullptr ? name : "?";
}

// The types a user may ask for: LOST always comes, unasked.
constexpr uint32_t kSelectable = PROCMON_EVENTS_ALL & ~PROCMON_EVENT_LOST;

std::string parse_events(const std::string &list, uint32_t &out) {
    out = 0;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        std::string one = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        uint32_t bit = 0;
        if (procmon_event_type_from_name(one.c_str(), &bit) != PROCMON_OK || !(bit & kSelectable)) {
            std::string valid;
            for (uint32_t b = 1; b & kSelectable; b <<= 1) valid += (valid.empty() ? "" : ", ") + std::string(type_name(b));
            return "unknown event '" + one + "' (" + valid + ")";
        }
        out |= bit;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return {};
}

void json_event(std::string &o, const procmon_event &e, Env &env) {
    o += "{\"seq\":" + std::to_string(e.seq) + ",\"time\":\"";
    append_iso8601(o, e.time_ns);
    o += std::string("\",\"type\":\"") + type_name(e.type) + "\"";
    if (e.type == PROCMON_EVENT_LOST) {
        o += ",\"lost\":" + std::to_string(e.lost) + "}";
        return;
    }
    o += ",\"pid\":" + std::to_string(e.pid) + ",\"ppid\":" + std::to_string(e.ppid);
    o += ",\"uid\":" + (e.uid == UINT32_MAX ? std::string("null") : std::to_string(e.uid));
    o += ",\"user\":";
    if (e.uid == UINT32_MAX) o += "null";
    else json_string(o, env.user(e.uid));
    o += ",\"start\":\"";
    append_iso8601(o, e.start_time_ns);
    o += "\",\"start_ticks\":" + std::to_string(e.start_ticks) + ",";
    json_text_field(o, "name", event_name(e), true);  // the name users see, as snapshot's
    o += ',';
    json_text_field(o, "comm", e.name, true);
    o += ',';
    json_text_field(o, "exe", e.exe, true);
    o += ',';
    json_argv_field(o, e.argv, e.argv_len);
    if (e.type == PROCMON_EVENT_EXIT) {
        const bool known = !(e.flags & PROCMON_EVENT_FLAG_NO_STATUS);
        o += ",\"exit_code\":" + (known && e.exit_signal == 0 ? std::to_string(e.exit_code) : "null");
        o += ",\"exit_signal\":" + (known && e.exit_signal ? std::to_string(e.exit_signal) : "null");
        o += ",\"lifetime_ns\":" + std::to_string(e.lifetime_ns);
    }
    o += std::string(",\"partial\":") + (e.flags & PROCMON_EVENT_FLAG_PARTIAL ? "true" : "false");
    o += std::string(",\"synthesized\":") + (e.flags & PROCMON_EVENT_FLAG_SYNTHESIZED ? "true" : "false");
    o += '}';
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
    p.full_name = event_name(e);
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

volatile sig_atomic_t interrupt_seen = 0;
void on_interrupt(int) { interrupt_seen = 1; }

}  // namespace

void catch_interrupts() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return interrupt_seen != 0; }

const char kFilterOptionsHelp[] =
    "  --events LIST       start,exec,exit,uid,comm (default start,exec,exit)\n"
    "  --name GLOB         only processes whose name matches the shell pattern (the\n"
    "                      full name, not the kernel's comm cut at 15 bytes)\n"
    "  --cmdline PATTERN   only processes whose command line (arguments joined by\n"
    "                      spaces) contains PATTERN, as pgrep -f; a PATTERN with\n"
    "                      * ? [ or \\ is a shell pattern the whole line must match\n"
    "  --user U            only processes whose effective user is U (name or uid)\n"
    "  --descendants-of P  only descendants of pid P (a running process)\n"
    "  --keep-undecidable  also events a filter cannot decide, because the process\n"
    "                      was gone before its name, command line or user could be\n"
    "                      read (marked partial); by default they are left out and\n"
    "                      counted (watch --stats)\n"
    "  --queue N           events the queue holds (default 16384)\n";

std::string cmdline_glob(const std::string &pattern) {
    // pgrep -f finds its pattern anywhere; the library's glob is anchored
    if (pattern.find_first_of("*?[\\") != std::string::npos) return pattern;
    return "*" + pattern + "*";
}

procmon_subscribe_options EventFilterArgs::options() const {
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    so.events = events;
    so.name_glob = has_name ? name.c_str() : nullptr;
    so.cmdline_glob = has_cmdline ? cmdline.c_str() : nullptr;
    if (keep_undecidable) so.flags |= PROCMON_SUBSCRIBE_UNDECIDABLE;
    so.uid = uid;
    so.descendants_of = static_cast<int32_t>(descendants_of);
    so.queue_capacity = static_cast<uint32_t>(queue);
    return so;
}

bool parse_filter_option(ArgCursor &args, const std::string &arg, EventFilterArgs &a, std::string &err) {
    if (arg == "--keep-undecidable") {
        if (args.has_inline_value()) err = "option '" + arg + "' takes no value";
        a.keep_undecidable = true;
        return true;
    }
    if (arg != "--events" && arg != "--name" && arg != "--cmdline" && arg != "--user" && arg != "--descendants-of" &&
        arg != "--queue")
        return false;
    std::string v;
    if (!(err = args.value(v)).empty()) return true;
    if (arg == "--events") {
        err = parse_events(v, a.events);
    } else if (arg == "--name") {
        a.name = v;
        a.has_name = true;
    } else if (arg == "--cmdline") {
        a.cmdline = cmdline_glob(v);
        a.has_cmdline = true;
    } else if (arg == "--user") {
        err = parse_user(v, a.uid);
    } else if (arg == "--descendants-of") {
        // A process that is not there has no descendants to come: a typo, not a wait.
        if (!parse_int(v, 1, 2147483647LL, a.descendants_of)) err = "'" + v + "' is not a pid";
        else if (kill(static_cast<pid_t>(a.descendants_of), 0) != 0 && errno == ESRCH)
            err = "--descendants-of " + v + ": no such process";
    } else if (!parse_int(v, 2, 16777216, a.queue)) {
        err = "'" + v + "' is not a queue size (2..16777216)";
    }
    return true;
}

int start_failed(const char *command, int rc, procmon_ctx *ctx) {
    const std::string message = library_error();
    procmon_close(ctx);
    if (rc == PROCMON_EINVAL) return usage_error(command, message);
    std::fprintf(stderr, "procmon: %s\n", message.c_str());
    return kExitFailure;
}

void say_event_source(procmon_ctx *ctx, bool verbose) {
    procmon_stats st{};
    st.size = sizeof st;
    procmon_stats_get(&st, ctx);
    const std::string reason = in_cli_words(st.source_reason);
    if (st.event_source == PROCMON_STATS_SOURCE_POLLING)
        std::fprintf(stderr, "procmon: %s; polling every %u ms, so processes shorter than that may be missed\n",
                     reason.c_str(), st.poll_interval_ms);
    else if (verbose)
        std::fprintf(stderr, "procmon: watching through the %s\n", reason.c_str());
}

void EventPrinter::begin() {
    if (format_ == Format::json_array || format_ == Format::json_pretty) out_ += "[";
    else if (format_ == Format::table) {
        out_ += "TIME         EVENT     PID    PPID USER     COMMAND\n";
        cut_line(out_, 0, columns_);
    }
}

void EventPrinter::add(const procmon_event &e) {
    if (format_ == Format::table) {
        const std::size_t from = out_.size();
        table_event(out_, e, env_);
        cut_line(out_, from, columns_);
    } else if (format_ == Format::json_stream) {
        json_event(out_, e, env_);
        out_ += '\n';
    } else {
        out_ += written_ ? ",\n" : "\n";
        if (format_ == Format::json_pretty) {
            std::string compact;
            json_event(compact, e, env_);
            json_pretty_object(out_, compact);
        } else {
            json_event(out_, e, env_);
        }
    }
    ++written_;
}

bool EventPrinter::flush() {
    if (out_.empty()) return true;
    const bool ok = std::fwrite(out_.data(), 1, out_.size(), stdout) == out_.size() && std::fflush(stdout) == 0;
    out_.clear();
    return ok;
}

void EventPrinter::end() {
    if (format_ == Format::json_array || format_ == Format::json_pretty) out_ += written_ ? "\n]\n" : "]\n";
    flush();
}

}  // namespace procmon::cli
