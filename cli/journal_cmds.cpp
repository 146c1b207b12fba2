#include "journal_cmds.hpp"

#include <time.h>

#include <cerrno>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
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

const char kRecordUsage[] =
    "usage: procmon record DIR [options]\n"
    "\n"
    "Record process starts, execs and exits to the journal in DIR (created if\n"
    "missing) until --duration ends or Ctrl-C; replay them with procmon replay.\n"
    "One recorder per directory.\n"
    "\n"
    "options:\n"
    "  --fsync P           always (default: every group commit is on disk before it\n"
    "                      counts), interval (every --fsync-interval), never\n"
    "  --fsync-interval MS with --fsync interval (default 1000)\n"
    "  --max-size SIZE     keep at most SIZE on disk, oldest segments first (e.g.\n"
    "                      512M, 2G; K, M, G, T (or KiB...) are powers of 1024; at\n"
    "                      least two segments)\n"
    "  --max-age DUR       remove segments closed longer ago than DUR (e.g. 90s, 30m,\n"
    "                      12h, 7d)\n"
    "  --segment-size SIZE close a segment past SIZE (default 64M, at least 64K)\n"
    "  --duration S        stop after S seconds\n"
    "  --poll              poll instead of the proc connector\n"
    "  --interval MS       polling interval (default 1000)\n"
    "%s"
    "  -h, --help          this text\n"
    "\n"
    "At the end, a line on stderr says what was recorded and up to which sequence\n"
    "number it is durable.\n"
    "\n"
    "%s";

const char kReplayUsage[] =
    "usage: procmon replay DIR [options]\n"
    "\n"
    "Print the events recorded in DIR by procmon record, oldest first.\n"
    "\n"
    "options:\n"
    "  --since SEQ|TIME    from this sequence number, or this time (2026-11-22T10:00:00Z,\n"
    "                      UTC, or @UNIX_SECONDS)\n"
    "  --until SEQ|TIME    up to this sequence number or time, inclusive (not before\n"
    "                      --since)\n"
    "  --follow            then wait for more as a recorder appends (until Ctrl-C)\n"
    "  --format F          table (default), json-stream, json-array, json-pretty\n"
    "  -w, --wide          do not cut table lines to the terminal's width\n"
    "  -h, --help          this text\n"
    "\n"
    "procmon replay --connect PATH reads procmond's journal instead (its --help).\n"
    "\n"
    "Records that fail their checksum are skipped and counted on stderr; the\n"
    "sequence numbers they took come out as a 'lost' event, so a gap is never silent.\n"
    "At the end, a line on stderr counts the records printed.\n"
    "\n"
    "%s";

// "512M", "2G", "64KiB", "65536": bytes (K, M, G, T are powers of 1024).
bool parse_size(const std::string &s, uint64_t &out) {
    char *end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || s[0] == '-' || end == s.c_str() || errno != 0) return false;
    uint64_t unit = 1;
    std::string suffix = end;
    if (suffix.size() == 3 && suffix.compare(1, 2, "iB") == 0) suffix.resize(1);  // 64KiB as 64K
    if (suffix == "K" || suffix == "k") unit = 1ull << 10;
    else if (suffix == "M") unit = 1ull << 20;
    else if (suffix == "G") unit = 1ull << 30;
    else if (suffix == "T") unit = 1ull << 40;
    else if (!suffix.empty()) return false;
    if (v > UINT64_MAX / unit) return false;
    out = v * unit;
    return true;
}

// "90s", "30m", "12h", "7d", or bare seconds: milliseconds.
bool parse_duration_ms(const std::string &s, uint64_t &out) {
    char *end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || s[0] == '-' || end == s.c_str() || errno != 0) return false;
    const std::string suffix = end;
    uint64_t unit = suffix.empty() || suffix == "s" ? 1000 : suffix == "m" ? 60000 : suffix == "h" ? 3600000 : suffix == "d" ? 86400000 : 0;
    if (unit == 0 || v == 0 || v > UINT64_MAX / unit / 1000000) return false;
    out = v * unit;
    return true;
}

// A bound of --since/--until: a sequence number, or a time in ns since the epoch.
struct Bound {
    bool is_seq = false, set = false;
    uint64_t value = 0;
    std::string text;  // as given
};

bool parse_bound(const std::string &s, Bound &out) {
    out.set = true;
    out.text = s;
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
        long long v;
        if (!parse_int(s, 0, INT64_MAX, v)) return false;
        out.is_seq = true;
        out.value = static_cast<uint64_t>(v);
        return true;
    }
    if (s.size() > 1 && s[0] == '@') {
        long long secs;
        if (!parse_int(s.substr(1), 0, 9000000000LL, secs)) return false;
        out.value = static_cast<uint64_t>(secs) * 1000000000u;
        return true;
    }
    std::tm tm{};
    const char *rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == nullptr) return false;
    uint64_t frac_ns = 0;
    if (*rest == '.') {
        uint64_t scale = 100000000;
        for (++rest; *rest >= '0' && *rest <= '9'; ++rest, scale /= 10) frac_ns += static_cast<uint64_t>(*rest - '0') * scale;
    }
    if (std::strcmp(rest, "Z") != 0 && *rest != '\0') return false;
    const time_t secs = timegm(&tm);
    if (secs < 0) return false;
    out.value = static_cast<uint64_t>(secs) * 1000000000u + frac_ns;
    return true;
}

int failure(const char *what) {
    std::fprintf(stderr, "procmon: %s%s\n", what ? what : "", library_error().c_str());
    return kExitFailure;
}

// The limits procmon_journal_open checks, said with the flags that set them
// (its own message names its fields and counts bytes).
std::string check_sizes(const procmon_journal_options &jo, const std::string &max_size, const std::string &segment_size) {
    const uint64_t segment = jo.segment_bytes ? jo.segment_bytes : PROCMON_JOURNAL_SEGMENT_DEFAULT;
    if (segment < PROCMON_JOURNAL_SEGMENT_MIN)
        return "--segment-size " + segment_size + " is below the minimum, " + human_bytes(PROCMON_JOURNAL_SEGMENT_MIN);
    if (jo.max_bytes != 0 && jo.max_bytes / 2 < segment)
        return "--max-size " + max_size + " is below two segments (2 x " + human_bytes(segment) +
               (jo.segment_bytes ? ", the --segment-size)" : "; a smaller --segment-size allows less)");
    return {};
}

}  // namespace

int run_record(int argc, char **argv) {
    ArgCursor args(argc, argv);
    std::string dir, err, max_size, segment_size;
    EventFilterArgs filter;
    procmon_journal_options jo = PROCMON_JOURNAL_OPTIONS_INIT;
    double duration = -1;
    long long interval = 0, fsync_interval = 0;
    bool poll = false;
    while (args.next()) {
        const std::string &arg = args.option();
        if (arg == "-h" || arg == "--help") {
            std::printf(kRecordUsage, kFilterOptionsHelp, kExitHelp);
            return kExitOk;
        }
        if (parse_filter_option(args, arg, filter, err)) {
            if (!err.empty()) return usage_error("record", err);
            continue;
        }
        if (arg == "--poll") {
            poll = true;
            continue;
        }
        if (arg.rfind("-", 0) != 0) {
            if (!dir.empty()) return usage_error("record", "one directory only ('" + arg + "' is a second)");
            dir = arg;
            continue;
        }
        std::string v;
        if (arg != "--fsync" && arg != "--fsync-interval" && arg != "--max-size" && arg != "--max-age" &&
            arg != "--segment-size" && arg != "--duration" && arg != "--interval")
            return usage_error("record", "unknown option '" + std::string(args.raw()) + "'");
        if (!(err = args.value(v)).empty()) return usage_error("record", err);
        if (arg == "--fsync") {
            if (v == "always") jo.fsync = PROCMON_FSYNC_ALWAYS;
            else if (v == "interval") jo.fsync = PROCMON_FSYNC_INTERVAL;
            else if (v == "never") jo.fsync = PROCMON_FSYNC_NEVER;
            else return usage_error("record", "--fsync '" + v + "' is not always, interval or never");
        } else if (arg == "--fsync-interval") {
            if (!parse_int(v, 1, 3600000, fsync_interval)) return usage_error("record", "'" + v + "' is not an interval in ms");
            jo.fsync_interval_ms = static_cast<uint32_t>(fsync_interval);
        } else if (arg == "--max-size") {
            if (!parse_size(v, jo.max_bytes) || jo.max_bytes == 0) return usage_error("record", "'" + v + "' is not a size");
            max_size = v;
        } else if (arg == "--segment-size") {
            if (!parse_size(v, jo.segment_bytes) || jo.segment_bytes == 0) return usage_error("record", "'" + v + "' is not a size");
            segment_size = v;
        } else if (arg == "--max-age") {
            if (!parse_duration_ms(v, jo.max_age_ms)) return usage_error("record", "'" + v + "' is not a duration");
        } else if (arg == "--duration") {
            char *end = nullptr;
            duration = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !(duration > 0) || duration > 1e9)
                return usage_error("record", "'" + v + "' is not a duration in seconds");
        } else if (!parse_int(v, 10, 3600000, interval)) {
            return usage_error("record", "'" + v + "' is not an interval in ms (10..3600000)");
        }
    }
    if (dir.empty()) return usage_error("record", "which directory? (procmon record DIR)");
    if (!(err = check_sizes(jo, max_size, segment_size)).empty()) return usage_error("record", err);

    procmon_options o = PROCMON_OPTIONS_INIT;
    if (poll) o.event_source = PROCMON_SOURCE_POLLING;
    o.poll_interval_ms = static_cast<uint32_t>(interval);
    procmon_ctx *ctx = nullptr;
    if (procmon_open(&ctx, &o) != PROCMON_OK) return failure(nullptr);
    const procmon_subscribe_options so = filter.options();
    jo.filter = &so;
    procmon_journal *j = nullptr;
    if (int rc = procmon_journal_open(&j, ctx, dir.c_str(), &jo); rc != PROCMON_OK) return start_failed("record", rc, ctx);
    say_event_source(ctx, false);
    catch_interrupts();

    const auto end = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(duration));
    int last_error = PROCMON_OK;
    while (!interrupted() && (duration < 0 || std::chrono::steady_clock::now() < end)) {
        struct timespec nap = {0, 200 * 1000000};
        nanosleep(&nap, nullptr);
        procmon_journal_stats js{};
        js.size = sizeof js;
        procmon_journal_stats_get(&js, j);
        if (js.last_error != last_error && js.last_error != PROCMON_OK)
            std::fprintf(stderr, "procmon: warning: writing the journal failed (%s); events are counted as lost "
                                 "and recording resumes when it can\n", procmon_strerror(js.last_error));
        last_error = js.last_error;
    }
    // Written and synced first, so the line below counts everything
    // recorded up to now (close frees the journal with its counters).
    int rc = procmon_journal_sync(j, -1, nullptr);
    procmon_journal_stats js{};
    js.size = sizeof js;
    procmon_journal_stats_get(&js, j);
    if (int closed = procmon_journal_close(j); rc == PROCMON_OK) rc = closed;
    procmon_close(ctx);
    std::fprintf(stderr,
                 "procmon: recorded %llu events to %s (next seq %llu), lost %llu, %llu bytes in %llu commits, %llu "
                 "fsyncs, %llu segments on disk (%llu bytes)%s\n",
                 static_cast<unsigned long long>(js.records), dir.c_str(), static_cast<unsigned long long>(js.next_seq),
                 static_cast<unsigned long long>(js.lost), static_cast<unsigned long long>(js.bytes_written),
                 static_cast<unsigned long long>(js.commits), static_cast<unsigned long long>(js.fsyncs),
                 static_cast<unsigned long long>(js.segments), static_cast<unsigned long long>(js.disk_bytes),
                 js.recovered_truncated_bytes || js.recovered_corrupt_records ? "; recovery at open cut a torn tail or found corrupt records" : "");
    if (rc != PROCMON_OK) return failure("writing the last events: ");  // the error slot keeps the failing call's
    return kExitOk;
}

int run_replay(int argc, char **argv) {
    // With --connect the journal is procmond's, read through a subscription.
    for (int i = 0; i < argc; ++i)
        if (std::strcmp(argv[i], "--connect") == 0 || std::strncmp(argv[i], "--connect=", 10) == 0)
            return run_remote_replay(argc, argv);
    ArgCursor args(argc, argv);
    std::string dir, err;
    Bound since, until;
    bool follow = false, wide = false;
    Format format = Format::table;
    while (args.next()) {
        const std::string &arg = args.option();
        if (arg == "-h" || arg == "--help") {
            std::printf(kReplayUsage, kExitHelp);
            return kExitOk;
        }
        if (arg == "--follow" || arg == "-w" || arg == "--wide") {
            (arg == "--follow" ? follow : wide) = true;
            continue;
        }
        if (arg.rfind("-", 0) != 0) {
            if (!dir.empty()) return usage_error("replay", "one directory only ('" + arg + "' is a second)");
            dir = arg;
            continue;
        }
        if (arg != "--since" && arg != "--until" && arg != "--format")
            return usage_error("replay", "unknown option '" + std::string(args.raw()) + "'");
        std::string v;
        if (!(err = args.value(v)).empty()) return usage_error("replay", err);
        if (arg == "--format") {
            if (!parse_format(v, format) || format == Format::summary)
                return usage_error("replay", "unknown format '" + v + "' (table, json-stream, json-array, json-pretty)");
        } else if (!parse_bound(v, arg == "--since" ? since : until)) {
            return usage_error("replay", "'" + v + "' is neither a sequence number nor a time (2026-11-22T10:00:00Z, @SECONDS)");
        }
    }
    if (dir.empty()) return usage_error("replay", "which directory? (procmon replay DIR)");
    // Sequence numbers and times are in the same order; a bound of each kind
    // cannot be compared before reading.
    if (since.set && until.set && since.is_seq == until.is_seq && since.value > until.value)
        return usage_error("replay", "--since " + since.text + " is after --until " + until.text + ": nothing to replay");

    procmon_journal_read_options ro = PROCMON_JOURNAL_READ_OPTIONS_INIT;
    if (since.set) (since.is_seq ? ro.from_seq : ro.from_time_ns) = since.value;
    procmon_journal_reader *r = nullptr;
    if (procmon_journal_reader_open(&r, dir.c_str(), &ro) != PROCMON_OK) return failure(nullptr);
    catch_interrupts();
    EventPrinter printer(format, format == Format::table ? output_columns(wide) : 0);
    printer.begin();
    std::vector<procmon_event> batch(512);
    bool write_failed = false, done = false;
    int rc = PROCMON_OK;
    while (!interrupted() && !write_failed && !done) {
        size_t n = 0;
        rc = procmon_journal_reader_next(r, batch.data(), sizeof batch[0], batch.size(), &n, follow ? 1000 : 0);
        if (rc != PROCMON_OK) break;
        if (n == 0 && !follow) break;
        for (size_t i = 0; i < n && !done; ++i) {
            const procmon_event &e = batch[i];
            if (until.set && (until.is_seq ? e.seq > until.value : e.time_ns > until.value)) {
                done = true;
                break;
            }
            if (e.type == PROCMON_EVENT_LOST)
                std::fprintf(stderr, "procmon: warning: %llu events lost%s\n", static_cast<unsigned long long>(e.lost),
                             e.flags & PROCMON_EVENT_FLAG_SYNTHESIZED
                                 ? " (missing from the journal: records damaged or removed)"
                                 : " (not recorded: the recorder fell behind or could not write)");
            printer.add(e);
        }
        write_failed = !printer.flush();
    }
    if (!write_failed) printer.end();
    procmon_journal_reader_stats rs{};
    rs.size = sizeof rs;
    procmon_journal_reader_stats_get(&rs, r);
    procmon_journal_reader_close(r);
    if (rc != PROCMON_OK) return failure(nullptr);
    // What was printed: the reader reads ahead of --until.
    std::fprintf(stderr, "procmon: replayed %llu records", static_cast<unsigned long long>(printer.written()));
    if (rs.corrupt_records)
        std::fprintf(stderr, "; skipped %llu corrupt runs (%llu bytes, the first in segment %llu at byte %llu)",
                     static_cast<unsigned long long>(rs.corrupt_records), static_cast<unsigned long long>(rs.corrupt_bytes),
                     static_cast<unsigned long long>(rs.first_corrupt_segment),
                     static_cast<unsigned long long>(rs.first_corrupt_offset));
    if (rs.missing) std::fprintf(stderr, "; %llu sequence numbers missing", static_cast<unsigned long long>(rs.missing));
    if (rs.skipped_files)
        std::fprintf(stderr, "; skipped %llu files named like segments that are not regular files",
                     static_cast<unsigned long long>(rs.skipped_files));
    std::fputc('\n', stderr);
    return write_failed && errno != EPIPE ? kExitFailure : kExitOk;
}

}  // namespace procmon::cli
