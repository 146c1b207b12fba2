#include "snapshot.hpp"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
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

const char kSnapshotUsage[] =
    "usage: procmon snapshot [options]\n"
    "\n"
    "List the processes of this machine once.\n"
    "\n"
    "options:\n"
    "  --format F        table (default), json-stream (one object a line), json-array,\n"
    "                    json-pretty, or summary (counts by state and user, the\n"
    "                    machine's memory, top by CPU and memory)\n"
    "  --name GLOB       only processes whose name matches the shell pattern (the full\n"
    "                    name, not the kernel's comm cut at 15 bytes)\n"
    "  --cmdline PATTERN only processes whose command line (arguments joined by\n"
    "                    spaces) contains PATTERN, as pgrep -f; a PATTERN with * ? [\n"
    "                    or \\ is a shell pattern the whole line must match\n"
    "  --user U          only processes whose effective user is U (name or uid)\n"
    "  --pid PID...      only these pids (several after one flag, comma lists, or repeated)\n"
    "  --fields LIST     comma-separated fields, or 'default' or 'all'; only what they\n"
    "                    need is read\n"
    "  --sort KEYS       sort by fields, comma-separated (default pid); '-KEY' sorts\n"
    "                    descending, '+KEY' ascending; ps's names work (%cpu, %mem, rss,\n"
    "                    vsz, comm, args, start, time...)\n"
    "  --interval S      take two samples S seconds apart (e.g. 1, 0.5) and show the\n"
    "                    second, so %CPU is the use between them, as top shows it\n"
    "  -w, --wide        do not cut table lines to the terminal's width\n"
    "  --proc-root DIR   read processes from DIR instead of /proc\n"
    "  --connect PATH    ask procmond at this Unix socket instead of reading this\n"
    "                    machine (PROCMON_ENDPOINT=PATH does the same)\n"
    "  -h, --help        this text\n"
    "\n"
    "%CPU of a single sample (no --interval) is each process's average since it\n"
    "started, as ps shows it: a process busy an hour ago and idle since still shows\n"
    "its past use. 100 is one core busy.\n"
    "\n"
    "fields: pid ppid pgid sid tty state kernel_thread zombie name comm user uid euid\n"
    "  suid gid egid sgid exe argv (or args) argc start start_ticks utime_ns stime_ns\n"
    "  time cpu (%cpu) mem (%mem) rss vms (vsz) threads nice priority; opt-in: cwd fds\n"
    "  io_read_bytes io_write_bytes io_rchar io_wchar voluntary_ctxt_switches\n"
    "  nonvoluntary_ctxt_switches cgroup container_id pss uss swap (these three walk\n"
    "  each process's page tables: slower)\n"
    "name is the name users see; comm the kernel's, cut at 15 bytes. The summary\n"
    "shows the machine's used memory, and with pss, uss or swap in --fields, these\n"
    "processes' PSS summed (shared pages counted once, unlike RSS).\n"
    "\n"
    "A table on a terminal is cut to its width ($COLUMNS, else the terminal's), as\n"
    "ps does; piped, never.\n"
    "\n"
    "JSON strings are UTF-8; a name, path or argv that is not gets a '<field>_base64'\n"
    "key beside it with the exact bytes.\n";

int usage_error(const std::string &message) { return cli::usage_error("snapshot", message); }

bool all_digits(const char *s) {
    if (*s == '\0') return false;
    for (; *s; ++s)
        if ((*s < '0' || *s > '9') && *s != ',') return false;
    return true;
}

struct SortKey {
    const Field *field;
    bool descending;
};

struct SnapshotArgs {
    Format format = Format::table;
    std::string name_glob, cmdline;
    bool has_name = false, has_cmdline = false, wide = false;
    long long uid = -1;
    std::vector<int32_t> pids;
    std::string fields = "default";
    std::vector<SortKey> sort;
    double interval = 0;
    std::string proc_root;
    std::string connect;  // procmond's socket; empty: the library's rule

    bool filtered() const { return has_name || has_cmdline || uid >= 0 || !pids.empty(); }
};

// "-%cpu,+pid" as ps takes it: keys in order, each ascending unless '-'.
std::string parse_sort(const std::string &list, std::vector<SortKey> &out) {
    out.clear();
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        std::string one = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        const bool descending = !one.empty() && one[0] == '-';
        const Field *f = find_field(!one.empty() && (one[0] == '-' || one[0] == '+') ? one.substr(1) : one);
        if (f == nullptr) return "unknown sort key '" + one + "' (a field, or ps's name for one)";
        out.push_back({f, descending});
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return {};
}

// Empty string when fine, else the one-line error.
std::string parse_snapshot_args(int argc, char **argv, SnapshotArgs &a, bool &help) {
    ArgCursor args(argc, argv);
    std::string err = parse_sort("pid", a.sort);
    while (args.next()) {
        const std::string &arg = args.option();
        if (arg == "-h" || arg == "--help") {
            help = true;
            return {};
        }
        std::string v;
        if (arg == "-w" || arg == "--wide") {
            if (args.has_inline_value()) return "option '" + arg + "' takes no value";
            a.wide = true;
        } else if (arg == "--format") {
            if (!(err = args.value(v)).empty()) return err;
            if (!parse_format(v, a.format))
                return "unknown format '" + v + "' (table, json-stream, json-array, json-pretty, summary)";
        } else if (arg == "--name") {
            if (!(err = args.value(a.name_glob)).empty()) return err;
            a.has_name = true;
        } else if (arg == "--cmdline") {
            if (!(err = args.value(v)).empty()) return err;
            a.cmdline = cmdline_glob(v);
            a.has_cmdline = true;
        } else if (arg == "--user") {
            if (!(err = args.value(v)).empty()) return err;
            if (!(err = parse_user(v, a.uid)).empty()) return err;
        } else if (arg == "--pid") {
            std::vector<std::string> values;
            const char *next = nullptr;
            if (args.has_inline_value()) {
                args.value(v);
                values.push_back(v);
            } else {
                while (args.peek(next) && all_digits(next)) {
                    values.emplace_back(next);
                    args.skip();
                }
                if (values.empty()) return "option '--pid' needs one or more pids";
            }
            for (const std::string &list : values) {
                std::size_t start = 0;
                while (start <= list.size()) {
                    std::size_t comma = list.find(',', start);
                    std::string one = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                    long long pid;
                    if (!parse_int(one, 1, 2147483647LL, pid)) return "'" + one + "' is not a pid";
                    a.pids.push_back(static_cast<int32_t>(pid));
                    if (comma == std::string::npos) break;
                    start = comma + 1;
                }
            }
        } else if (arg == "--fields") {
            if (!(err = args.value(a.fields)).empty()) return err;
        } else if (arg == "--sort") {
            if (!(err = args.value(v)).empty()) return err;
            if (!(err = parse_sort(v, a.sort)).empty()) return err;
        } else if (arg == "--interval") {
            if (!(err = args.value(v)).empty()) return err;
            char *end = nullptr;
            a.interval = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !(a.interval > 0) || a.interval > 86400)
                return "'" + v + "' is not an interval in seconds (e.g. 1 or 0.5, at most 86400)";
        } else if (arg == "--proc-root") {
            if (!(err = args.value(a.proc_root)).empty()) return err;
        } else if (parse_connect_option(args, arg, a.connect, err)) {
            if (!err.empty()) return err;
        } else {
            return "unknown option '" + std::string(args.raw()) + "'";
        }
    }
    return {};
}

// Sorts in place; rows come in pid order, which ties keep.
void sort_rows(std::vector<const procmon_process *> &rows, const std::vector<SortKey> &keys, Env &env) {
    if (keys.size() == 1 && keys[0].field == find_field("pid") && !keys[0].descending) return;
    // Text keys rendered once per row, not once per comparison.
    std::vector<std::vector<std::string>> text(rows.size(), std::vector<std::string>(keys.size()));
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t k = 0; k < keys.size(); ++k)
            if (keys[k].field->number == nullptr) keys[k].field->text(text[r][k], *rows[r], env);
    std::vector<std::size_t> order(rows.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        for (std::size_t k = 0; k < keys.size(); ++k) {
            int c;
            if (auto number = keys[k].field->number) {
                const double nx = number(*rows[x]), ny = number(*rows[y]);
                c = nx < ny ? -1 : nx > ny ? 1 : 0;
            } else {
                c = text[x][k].compare(text[y][k]);
            }
            if (c != 0) return keys[k].descending ? c > 0 : c < 0;
        }
        return false;
    });
    std::vector<const procmon_process *> sorted(rows.size());
    for (std::size_t i = 0; i < order.size(); ++i) sorted[i] = rows[order[i]];
    rows.swap(sorted);
}

// procmon_enumerate, or the exit status when it fails (ctx closed then).
int enumerate(procmon_snapshot *&snap, procmon_ctx *ctx, const procmon_query &q) {
    if (int rc = procmon_enumerate(&snap, ctx, &q); rc != PROCMON_OK) {
        const std::string message = library_error();
        procmon_close(ctx);
        // EINVAL here can only come from what the user gave (a malformed --name)
        if (rc == PROCMON_EINVAL) return usage_error(message);
        std::fprintf(stderr, "procmon: %s\n", message.c_str());
        return kExitFailure;
    }
    return kExitOk;
}

void sleep_seconds(double s) {
    timespec left{static_cast<time_t>(s), static_cast<long>((s - std::floor(s)) * 1e9)};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

}  // namespace

int run_snapshot(int argc, char **argv) {
    SnapshotArgs a;
    bool help = false;
    std::string err = parse_snapshot_args(argc, argv, a, help);
    if (!err.empty()) return usage_error(err);
    if (help) {
        std::fputs(kSnapshotUsage, stdout);
        std::fputs(kExitHelp, stdout);
        return kExitOk;
    }

    std::vector<const Field *> fields;
    err = parse_field_list(a.fields, a.format == Format::table, fields);
    if (!err.empty()) return usage_error(err);

    // Read only the groups the output needs.
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = PROCMON_FIELD_BASIC;
    for (const SortKey &k : a.sort) q.fields |= k.field->group;
    if (a.format == Format::summary)
        q.fields |= PROCMON_FIELD_CPU | PROCMON_FIELD_MEMORY | PROCMON_FIELD_SCHED | PROCMON_FIELD_IDS | PROCMON_FIELD_ARGV;
    for (const Field *f : fields) q.fields |= f->group;
    q.name_glob = a.has_name ? a.name_glob.c_str() : nullptr;
    q.cmdline_glob = a.has_cmdline ? a.cmdline.c_str() : nullptr;
    q.uid = a.uid;
    q.pids = a.pids.empty() ? nullptr : a.pids.data();
    q.pid_count = a.pids.size();

    procmon_options o = PROCMON_OPTIONS_INIT;
    o.proc_root = a.proc_root.empty() ? nullptr : a.proc_root.c_str();
    o.endpoint = endpoint_option(a.connect);
    procmon_ctx *ctx = nullptr;
    if (procmon_open(&ctx, &o) != PROCMON_OK) {
        std::fprintf(stderr, "procmon: %s\n", library_error().c_str());
        return kExitFailure;
    }
    procmon_snapshot *snap = nullptr;
    if (a.interval > 0) {
        // The first sample only sets each process's CPU baseline on the context.
        procmon_query first = q;
        first.fields = PROCMON_FIELD_BASIC | PROCMON_FIELD_CPU;
        if (int rc = enumerate(snap, ctx, first); rc != kExitOk) return rc;
        procmon_snapshot_free(snap);
        sleep_seconds(a.interval);
    }
    if (int rc = enumerate(snap, ctx, q); rc != kExitOk) return rc;

    std::vector<const procmon_process *> rows;
    rows.reserve(procmon_snapshot_count(snap));
    for (std::size_t i = 0; i < procmon_snapshot_count(snap); ++i) rows.push_back(procmon_snapshot_at(snap, i));
    Env env;
    sort_rows(rows, a.sort, env);

    OutputOptions out;
    out.columns = a.format == Format::table ? output_columns(a.wide) : 0;
    out.interval = a.interval;
    procmon_system sys{};
    sys.size = sizeof sys;
    if (a.format == Format::summary) {
        if (procmon_system_get(&sys, ctx) == PROCMON_OK) out.system = &sys;
        else out.system_unknown = library_error();
    }
    bool ok = write_snapshot(stdout, a.format, rows, fields, env, out);
    procmon_snapshot_free(snap);
    procmon_close(ctx);
    if (!ok && errno != EPIPE) {
        std::fprintf(stderr, "procmon: write output: %s\n", std::strerror(errno));
        return kExitFailure;
    }
    return rows.empty() && a.filtered() ? kExitNoMatch : kExitOk;
}

}  // namespace procmon::cli
