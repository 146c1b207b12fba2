#include "fields.hpp"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "json.hpp"

namespace procmon::cli {

std::string Env::user(uint32_t uid) {
    char name[256];  // LOGIN_NAME_MAX on Linux
    return procmon_user_name(uid, name, sizeof name) == PROCMON_OK ? std::string(name) : std::to_string(uid);
}

void append_printable(std::string &out, const char *s, std::size_t n) {
    for (std::size_t i = 0; i < n;) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            std::size_t len = utf8_sequence(reinterpret_cast<const unsigned char *>(s + i), n - i);
            if (len > 0) {
                out.append(s + i, len);
                i += len;
            } else {
                out.push_back('?');
                ++i;
            }
            continue;
        }
        out.push_back(c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c));
        ++i;
    }
}

const char *shown_name(const procmon_process &p) { return p.full_name != nullptr ? p.full_name : p.name; }

void append_command(std::string &out, const procmon_process &p) {
    if (!(p.valid & PROCMON_FIELD_ARGV) || p.argc == 0) {
        out.push_back('[');
        append_printable(out, shown_name(p), std::strlen(shown_name(p)));
        out.push_back(']');
        return;
    }
    const char *a = p.argv, *end = p.argv + p.argv_len;
    for (bool first = true; a < end; first = false) {
        std::size_t len = std::strlen(a);
        if (!first) out.push_back(' ');
        append_printable(out, a, len);
        a += len + 1;
    }
}

void append_percent(std::string &out, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", std::isfinite(v) ? v : 0.0);
    out += buf;
}

std::string human_bytes(uint64_t b) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, ++u;
    char buf[32];
    // "64 MiB", not "64.0 MiB", for a round size (a segment, a limit)
    std::snprintf(buf, sizeof buf, u == 0 || v == static_cast<double>(static_cast<uint64_t>(v)) ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

void append_cpu_time(std::string &out, uint64_t ns) {
    uint64_t s = ns / 1000000000u;
    char buf[96];
    if (s >= 86400)
        std::snprintf(buf, sizeof buf, "%" PRIu64 "-%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 86400, s / 3600 % 24,
                      s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60, s % 60);
    out += buf;
}

namespace {

void key(std::string &out, const char *k) {
    out.push_back('"');
    out += k;
    out += "\":";
}
void num(std::string &out, uint64_t v) { out += std::to_string(v); }
void num(std::string &out, int64_t v) { out += std::to_string(v); }
void num(std::string &out, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", std::isfinite(v) ? v : 0.0);
    out += buf;
}
bool has(const procmon_process &p, uint64_t group) { return (p.valid & group) == group; }

}  // namespace

void append_iso8601(std::string &out, uint64_t ns) {
    time_t secs = static_cast<time_t>(ns / 1000000000u);
    tm t;
    gmtime_r(&secs, &t);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
    out.append(buf, n);
    unsigned ms = static_cast<unsigned>(ns / 1000000u % 1000u);
    out.push_back('.');
    out.push_back(static_cast<char>('0' + ms / 100));
    out.push_back(static_cast<char>('0' + ms / 10 % 10));
    out.push_back(static_cast<char>('0' + ms % 10));
    out.push_back('Z');
}

namespace {

void start_text(std::string &out, uint64_t ns) {
    time_t secs = static_cast<time_t>(ns / 1000000000u), now = time(nullptr);
    tm t;
    localtime_r(&secs, &t);
    char buf[32];
    std::strftime(buf, sizeof buf, now - secs < 86400 ? "%H:%M" : "%b%d", &t);
    out += buf;
}

void append_int(std::string &out, int64_t v) { out += std::to_string(v); }
void append_kib(std::string &out, uint64_t bytes) { out += std::to_string(bytes / 1024); }  // as ps

// Number field helpers: one line per field in the table below. JSON has
// EXPR under KEY (null when not read), the table CELL(out, EXPR) ("-").
#define PM_NUMBER_FIELD(NAME, HEADER, KEY, GROUP, EXPR, CELL)                                                \
    Field {                                                                                                  \
        NAME, HEADER, GROUP, true,                                                                           \
            [](std::string &o, const procmon_process &p, Env &) {                                            \
                key(o, KEY);                                                                                 \
                if (has(p, GROUP)) num(o, EXPR); else o += "null";                                           \
            },                                                                                               \
            [](std::string &o, const procmon_process &p, Env &) {                                            \
                if (has(p, GROUP)) CELL(o, EXPR); else o += "-";                                             \
            },                                                                                               \
            [](const procmon_process &p) { return has(p, GROUP) ? static_cast<double>(EXPR) : -1.0; }        \
    }
#define PM_INT_FIELD(NAME, HEADER, GROUP, EXPR) \
    PM_NUMBER_FIELD(NAME, HEADER, NAME, GROUP, static_cast<int64_t>(EXPR), append_int)
// two decimals in JSON, one in the table, as ps
#define PM_PERCENT_FIELD(NAME, HEADER, KEY, GROUP, EXPR) PM_NUMBER_FIELD(NAME, HEADER, KEY, GROUP, EXPR, append_percent)
// bytes in JSON, KiB in the table, as ps
#define PM_KIB_FIELD(NAME, HEADER, KEY, GROUP, EXPR) PM_NUMBER_FIELD(NAME, HEADER, KEY, GROUP, EXPR, append_kib)

#define PM_TEXT_FIELD(NAME, HEADER, GROUP, EXPR)                                                             \
    Field {                                                                                                  \
        NAME, HEADER, GROUP, false,                                                                          \
            [](std::string &o, const procmon_process &p, Env &) { json_text_field(o, NAME, EXPR, has(p, GROUP)); }, \
            [](std::string &o, const procmon_process &p, Env &) {                                            \
                if (has(p, GROUP) && *(EXPR)) append_printable(o, EXPR, std::strlen(EXPR)); else o += "-";   \
            },                                                                                               \
            nullptr                                                                                          \
    }

#define PM_BOOL_FIELD(NAME, FLAG)                                                                            \
    Field {                                                                                                  \
        NAME, NAME, PROCMON_FIELD_BASIC, false,                                                              \
            [](std::string &o, const procmon_process &p, Env &) {                                            \
                key(o, NAME);                                                                                \
                o += (p.flags & FLAG) ? "true" : "false";                                                    \
            },                                                                                               \
            [](std::string &o, const procmon_process &p, Env &) { o += (p.flags & FLAG) ? "yes" : "no"; },    \
            [](const procmon_process &p) { return (p.flags & FLAG) ? 1.0 : 0.0; }                            \
    }

std::vector<Field> make_fields() {
    std::vector<Field> f = {
        PM_INT_FIELD("pid", "PID", PROCMON_FIELD_BASIC, p.pid),
        PM_INT_FIELD("ppid", "PPID", PROCMON_FIELD_BASIC, p.ppid),
        PM_INT_FIELD("pgid", "PGID", PROCMON_FIELD_BASIC, p.pgid),
        PM_INT_FIELD("sid", "SID", PROCMON_FIELD_BASIC, p.sid),
        PM_INT_FIELD("tty", "TTY", PROCMON_FIELD_BASIC, p.tty),
        Field{"state", "S", PROCMON_FIELD_BASIC, false,
              [](std::string &o, const procmon_process &p, Env &) {
                  key(o, "state");
                  json_string(o, &p.state, 1);
              },
              [](std::string &o, const procmon_process &p, Env &) { append_printable(o, &p.state, 1); },
              nullptr},
        PM_BOOL_FIELD("kernel_thread", PROCMON_PROC_KTHREAD),
        PM_BOOL_FIELD("zombie", PROCMON_PROC_ZOMBIE),
        PM_TEXT_FIELD("name", "NAME", PROCMON_FIELD_BASIC, shown_name(p)),
        PM_TEXT_FIELD("comm", "COMM", PROCMON_FIELD_BASIC, p.name),  // the kernel's, cut at 15 bytes
        Field{"user", "USER", PROCMON_FIELD_IDS, false,
              [](std::string &o, const procmon_process &p, Env &env) {
                  key(o, "user");
                  if (has(p, PROCMON_FIELD_IDS)) json_string(o, env.user(p.euid)); else o += "null";
              },
              [](std::string &o, const procmon_process &p, Env &env) {
                  if (!has(p, PROCMON_FIELD_IDS)) {
                      o += "-";
                      return;
                  }
                  const std::string user = env.user(p.euid);
                  append_printable(o, user.data(), user.size());
              },
              nullptr},
        PM_INT_FIELD("uid", "UID", PROCMON_FIELD_IDS, p.uid),
        PM_INT_FIELD("euid", "EUID", PROCMON_FIELD_IDS, p.euid),
        PM_INT_FIELD("suid", "SUID", PROCMON_FIELD_IDS, p.suid),
        PM_INT_FIELD("gid", "GID", PROCMON_FIELD_IDS, p.gid),
        PM_INT_FIELD("egid", "EGID", PROCMON_FIELD_IDS, p.egid),
        PM_INT_FIELD("sgid", "SGID", PROCMON_FIELD_IDS, p.sgid),
        PM_TEXT_FIELD("exe", "EXE", PROCMON_FIELD_EXE, p.exe),
        Field{"argv", "COMMAND", PROCMON_FIELD_ARGV, false,
              [](std::string &o, const procmon_process &p, Env &) {
                  if (!has(p, PROCMON_FIELD_ARGV)) {
                      o += "\"argv\":null";
                      return;
                  }
                  json_argv_field(o, p.argv, p.argv_len);
                  o += ",\"argv_truncated\":";
                  o += (p.flags & PROCMON_PROC_ARGV_TRUNCATED) ? "true" : "false";
              },
              [](std::string &o, const procmon_process &p, Env &) { append_command(o, p); }, nullptr},
        PM_INT_FIELD("argc", "ARGC", PROCMON_FIELD_ARGV, p.argc),
        Field{"start", "START", PROCMON_FIELD_BASIC, true,
              [](std::string &o, const procmon_process &p, Env &) {
                  key(o, "start");
                  o.push_back('"');
                  append_iso8601(o, p.start_time_ns);
                  o.push_back('"');
              },
              [](std::string &o, const procmon_process &p, Env &) { start_text(o, p.start_time_ns); },
              [](const procmon_process &p) { return static_cast<double>(p.start_ticks); }},
        PM_INT_FIELD("start_ticks", "TICKS", PROCMON_FIELD_BASIC, p.start_ticks),
        PM_INT_FIELD("utime_ns", "UTIME", PROCMON_FIELD_CPU, p.utime_ns),
        PM_INT_FIELD("stime_ns", "STIME", PROCMON_FIELD_CPU, p.stime_ns),
        Field{"time", "TIME", PROCMON_FIELD_CPU, true,
              [](std::string &o, const procmon_process &p, Env &) {
                  key(o, "time_ns");
                  if (has(p, PROCMON_FIELD_CPU)) num(o, p.utime_ns + p.stime_ns); else o += "null";
              },
              [](std::string &o, const procmon_process &p, Env &) {
                  if (has(p, PROCMON_FIELD_CPU)) append_cpu_time(o, p.utime_ns + p.stime_ns); else o += "-";
              },
              [](const procmon_process &p) { return static_cast<double>(p.utime_ns + p.stime_ns); }},
        PM_PERCENT_FIELD("cpu", "%CPU", "cpu_percent", PROCMON_FIELD_CPU, p.cpu_percent),
        PM_PERCENT_FIELD("mem", "%MEM", "mem_percent", PROCMON_FIELD_MEMORY, p.mem_percent),
        PM_KIB_FIELD("rss", "RSS", "rss_bytes", PROCMON_FIELD_MEMORY, p.rss_bytes),
        PM_KIB_FIELD("vms", "VSZ", "vms_bytes", PROCMON_FIELD_MEMORY, p.vms_bytes),
        PM_INT_FIELD("threads", "NLWP", PROCMON_FIELD_SCHED, p.threads),
        PM_INT_FIELD("nice", "NI", PROCMON_FIELD_SCHED, p.nice),
        PM_INT_FIELD("priority", "PRI", PROCMON_FIELD_SCHED, p.priority),
        PM_TEXT_FIELD("cwd", "CWD", PROCMON_FIELD_CWD, p.cwd),
        PM_INT_FIELD("fds", "FDS", PROCMON_FIELD_FDS, p.fd_count),
        PM_INT_FIELD("io_read_bytes", "READ", PROCMON_FIELD_IO, p.io_read_bytes),
        PM_INT_FIELD("io_write_bytes", "WRITE", PROCMON_FIELD_IO, p.io_write_bytes),
        PM_INT_FIELD("io_rchar", "RCHAR", PROCMON_FIELD_IO, p.io_rchar),
        PM_INT_FIELD("io_wchar", "WCHAR", PROCMON_FIELD_IO, p.io_wchar),
        PM_INT_FIELD("voluntary_ctxt_switches", "VCSW", PROCMON_FIELD_CTXSW, p.voluntary_ctxt_switches),
        PM_INT_FIELD("nonvoluntary_ctxt_switches", "NVCSW", PROCMON_FIELD_CTXSW, p.nonvoluntary_ctxt_switches),
        PM_TEXT_FIELD("cgroup", "CGROUP", PROCMON_FIELD_CGROUP, p.cgroup),
        PM_TEXT_FIELD("container_id", "CONTAINER", PROCMON_FIELD_CGROUP, p.container_id),
        PM_KIB_FIELD("pss", "PSS", "pss_bytes", PROCMON_FIELD_SMAPS, p.pss_bytes),
        PM_KIB_FIELD("uss", "USS", "uss_bytes", PROCMON_FIELD_SMAPS, p.uss_bytes),
        PM_KIB_FIELD("swap", "SWAP", "swap_bytes", PROCMON_FIELD_SMAPS, p.swap_bytes),
    };
    return f;
}

const char *const kDefaultTable[] = {"pid", "ppid", "user", "state", "cpu", "mem", "rss", "vms", "time", "threads", "argv"};

// ps's names for the same columns (ps -o, ps --sort), and top's "mem".
const std::pair<std::string_view, std::string_view> kAliases[] = {
    {"args", "argv"},       {"cmd", "argv"},         {"command", "argv"}, {"ucmd", "comm"},     {"ucomm", "comm"},
    {"%cpu", "cpu"},        {"pcpu", "cpu"},         {"%mem", "mem"},     {"pmem", "mem"},      {"rssize", "rss"},
    {"rsz", "rss"},         {"vsz", "vms"},          {"vsize", "vms"},    {"cputime", "time"},  {"start_time", "start"},
    {"lstart", "start"},    {"bsdstart", "start"},   {"nlwp", "threads"}, {"thcount", "threads"}, {"ni", "nice"},
    {"pri", "priority"},    {"stat", "state"},       {"s", "state"},      {"pgrp", "pgid"},     {"sess", "sid"},
    {"session", "sid"},     {"tt", "tty"},           {"tname", "tty"},    {"euser", "user"},    {"uname", "user"},
};

}  // namespace

const std::vector<Field> &all_fields() {
    static const std::vector<Field> fields = make_fields();
    return fields;
}

const Field *find_field(std::string_view name) {
    for (const auto &[alias, field] : kAliases)
        if (name == alias) name = field;
    for (const Field &f : all_fields())
        if (name == f.name) return &f;
    return nullptr;
}

std::string parse_field_list(std::string_view list, bool for_table, std::vector<const Field *> &out) {
    out.clear();
    // "default" and "all" are the library's names for its sets of groups:
    // every column those groups fill (the table has its own default, as ps)
    uint64_t groups = 0;
    if ((list == "default" || list == "all") && procmon_field_from_name(std::string(list).c_str(), &groups) == PROCMON_OK) {
        if (for_table && list == "default") {
            for (const char *n : kDefaultTable) out.push_back(find_field(n));
        } else {
            for (const Field &f : all_fields())
                if (f.group & groups) out.push_back(&f);
        }
        return {};
    }
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view name = list.substr(0, comma);
        if (name.empty()) return "empty name in --fields list";
        const Field *f = find_field(name);
        if (f == nullptr) return "unknown field '" + std::string(name) + "' (see --help for the list)";
        out.push_back(f);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return {};
}

}  // namespace procmon::cli
