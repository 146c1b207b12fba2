// procmon: the command-line face of libprocmon.
//   procmon snapshot [options]   list the processes of this machine
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "args.hpp"
#include "fields.hpp"
#include "output.hpp"
#include "procmon.h"
#include "journal_cmds.hpp"
#include "watch.hpp"

namespace pc = procmon::cli;
using pc::kExitFailure;
using pc::kExitOk;
using pc::kExitUsage;

namespace {

const char kUsage[] =
    "usage: procmon <command> [options]\n"
    "\n"
    "commands:\n"
    "  snapshot    list the processes of this machine\n"
    "  watch       report process starts, execs and exits as they happen\n"
    "  record      record them to a journal directory\n"
    "  replay      print what a journal directory holds\n"
    "\n"
    "  procmon --version | --help | <command> --help\n";

const char kSnapshotUsage[] =
    "usage: procmon snapshot [options]\n"
    "\n"
    "List the processes of this machine once.\n"
    "\n"
    "options:\n"
    "  --format F       table (default), json-stream (one object a line), json-array,\n"
    "                   json-pretty, or summary (counts by state and user, top by CPU\n"
    "                   and memory)\n"
    "  --name GLOB      only processes whose name (comm) matches the shell pattern\n"
    "  --user U         only processes whose effective user is U (name or uid)\n"
    "  --pid PID...     only these pids (several after one flag, comma lists, or repeated)\n"
    "  --fields LIST    comma-separated fields, or 'default' or 'all'; only what they\n"
    "                   need is read\n"
    "  --sort KEY       sort by a field (default pid); '-KEY' sorts descending\n"
    "  --proc-root DIR  read processes from DIR instead of /proc\n"
    "  -h, --help       this text\n"
    "\n"
    "fields: pid ppid pgid sid tty state kernel_thread zombie name user uid euid suid\n"
    "  gid egid sgid exe argv (or args) argc start start_ticks utime_ns stime_ns time cpu\n"
    "  rss vms threads nice priority; opt-in: cwd fds io_read_bytes io_write_bytes\n"
    "  io_rchar io_wchar voluntary_ctxt_switches nonvoluntary_ctxt_switches cgroup\n"
    "  container_id\n"
    "\n"
    "JSON strings are UTF-8; a name, path or argv that is not gets a '<field>_base64'\n"
    "key beside it with the exact bytes. Exit status: 0 ok, 1 failure, 2 bad usage.\n";

int usage_error(const std::string &message) { return pc::usage_error("snapshot", message); }

bool all_digits(const char *s) {
    if (*s == '\0') return false;
    for (; *s; ++s)
        if ((*s < '0' || *s > '9') && *s != ',') return false;
    return true;
}

struct SnapshotArgs {
    pc::Format format = pc::Format::table;
    std::string name_glob;
    bool has_name = false;
    long long uid = -1;
    std::vector<int32_t> pids;
    std::string fields = "default";
    std::string sort = "pid";
    std::string proc_root;
};

// Empty string when fine, else the one-line error.
std::string parse_snapshot_args(int argc, char **argv, SnapshotArgs &a, bool &help) {
    pc::ArgCursor args(argc, argv);
    while (args.next()) {
        const std::string &arg = args.option();
        if (arg == "-h" || arg == "--help") {
            help = true;
            return {};
        }
        std::string err, v;
        if (arg == "--format") {
            if (!(err = args.value(v)).empty()) return err;
            if (!pc::parse_format(v, a.format))
                return "unknown format '" + v + "' (table, json-stream, json-array, json-pretty, summary)";
        } else if (arg == "--name") {
            if (!(err = args.value(a.name_glob)).empty()) return err;
            a.has_name = true;
        } else if (arg == "--user") {
            if (!(err = args.value(v)).empty()) return err;
            if (!(err = pc::parse_user(v, a.uid)).empty()) return err;
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
                    if (!pc::parse_int(one, 1, 2147483647LL, pid)) return "'" + one + "' is not a pid";
                    a.pids.push_back(static_cast<int32_t>(pid));
                    if (comma == std::string::npos) break;
                    start = comma + 1;
                }
            }
        } else if (arg == "--fields") {
            if (!(err = args.value(a.fields)).empty()) return err;
        } else if (arg == "--sort") {
            if (!(err = args.value(a.sort)).empty()) return err;
        } else if (arg == "--proc-root") {
            if (!(err = args.value(a.proc_root)).empty()) return err;
        } else {
            return "unknown option '" + std::string(args.raw()) + "'";
        }
    }
    return {};
}

int run_snapshot(int argc, char **argv) {
    SnapshotArgs a;
    bool help = false;
    std::string err = parse_snapshot_args(argc, argv, a, help);
    if (!err.empty()) return usage_error(err);
    if (help) {
        std::fputs(kSnapshotUsage, stdout);
        return kExitOk;
    }

    std::vector<const pc::Field *> fields;
    err = pc::parse_field_list(a.fields, a.format == pc::Format::table, fields);
    if (!err.empty()) return usage_error(err);
    bool descending = !a.sort.empty() && a.sort[0] == '-';
    const pc::Field *sort_field = pc::find_field(descending ? a.sort.substr(1) : a.sort);
    if (sort_field == nullptr) return usage_error("unknown sort key '" + a.sort + "'");

    // Read only the groups the output needs.
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = PROCMON_FIELD_BASIC | sort_field->group;
    if (a.format == pc::Format::summary)
        q.fields |= PROCMON_FIELD_CPU | PROCMON_FIELD_MEMORY | PROCMON_FIELD_SCHED | PROCMON_FIELD_IDS | PROCMON_FIELD_ARGV;
    for (const pc::Field *f : fields) q.fields |= f->group;
    q.name_glob = a.has_name ? a.name_glob.c_str() : nullptr;
    q.uid = a.uid;
    q.pids = a.pids.empty() ? nullptr : a.pids.data();
    q.pid_count = a.pids.size();

    procmon_options o = PROCMON_OPTIONS_INIT;
    o.proc_root = a.proc_root.empty() ? nullptr : a.proc_root.c_str();
    procmon_ctx *ctx = nullptr;
    if (procmon_open(&ctx, &o) != PROCMON_OK) {
        std::fprintf(stderr, "procmon: %s\n", procmon_error_last()->message);
        return kExitFailure;
    }
    procmon_snapshot *snap = nullptr;
    if (int rc = procmon_enumerate(&snap, ctx, &q); rc != PROCMON_OK) {
        const std::string message = procmon_error_last()->message;
        procmon_close(ctx);
        // EINVAL here can only come from what the user gave (a malformed --name)
        if (rc == PROCMON_EINVAL) return usage_error(message);
        std::fprintf(stderr, "procmon: %s\n", message.c_str());
        return kExitFailure;
    }

    std::vector<const procmon_process *> rows;
    rows.reserve(procmon_snapshot_count(snap));
    for (std::size_t i = 0; i < procmon_snapshot_count(snap); ++i) rows.push_back(procmon_snapshot_at(snap, i));

    pc::Env env;
    if (sort_field != pc::find_field("pid") || descending) {
        std::vector<std::pair<std::string, const procmon_process *>> keyed;  // text keys
        if (sort_field->number != nullptr) {
            std::stable_sort(rows.begin(), rows.end(), [&](auto *x, auto *y) {
                double kx = sort_field->number(*x), ky = sort_field->number(*y);
                return descending ? kx > ky : kx < ky;
            });
        } else {
            for (auto *p : rows) {
                std::string k;
                sort_field->text(k, *p, env);
                keyed.emplace_back(std::move(k), p);
            }
            std::stable_sort(keyed.begin(), keyed.end(), [&](auto &x, auto &y) {
                return descending ? x.first > y.first : x.first < y.first;
            });
            for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = keyed[i].second;
        }
    }

    bool ok = pc::write_snapshot(stdout, a.format, rows, fields, env);
    procmon_snapshot_free(snap);
    procmon_close(ctx);
    if (!ok && errno != EPIPE) {
        std::fprintf(stderr, "procmon: write output: %s\n", std::strerror(errno));
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace

int main(int argc, char **argv) {
    // Every command: a reader that goes away (`procmon snapshot | head`) is
    // not an error. The write then fails with EPIPE, and the command stops
    // quietly with status 0, instead of dying of SIGPIPE.
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        std::fputs(kUsage, stderr);
        return kExitUsage;
    }
    std::string cmd = argv[1];
    if (cmd == "-h" || cmd == "--help") {
        std::fputs(kUsage, stdout);
        return kExitOk;
    }
    if (cmd == "--version") {
        std::printf("procmon %s\n", procmon_version_string());
        return kExitOk;
    }
    if (cmd == "snapshot") return run_snapshot(argc - 2, argv + 2);
    if (cmd == "watch") return pc::run_watch(argc - 2, argv + 2);
    if (cmd == "record") return pc::run_record(argc - 2, argv + 2);
    if (cmd == "replay") return pc::run_replay(argc - 2, argv + 2);
    std::fprintf(stderr, "procmon: unknown command '%s' (try 'procmon --help')\n", cmd.c_str());
    return kExitUsage;
}
