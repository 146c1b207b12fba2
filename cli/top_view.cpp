#include "top_view.hpp"

#include <string.h>
#include <time.h>

#include <cctype>
#include <cinttypes>
#include <cstdio>

#include "args.hpp"

namespace procmon::cli::top {
namespace {

std::string format(const char *fmt, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

// "812K", "200M", "1.5G": top's compact sizes, at most 5 characters.
std::string compact_size(uint64_t bytes) {
    const char units[] = {'K', 'M', 'G', 'T', 'P'};
    double v = static_cast<double>(bytes) / 1024;
    int u = 0;
    while (v >= 1000 && u < 4) v /= 1024, ++u;
    return format(v < 10 && u > 0 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

std::string uptime(uint64_t boot_ns) {
    const uint64_t s = static_cast<uint64_t>(time(nullptr)) - boot_ns / 1000000000u;
    if (s >= 86400) return format("%" PRIu64 " days, %" PRIu64 ":%02" PRIu64, s / 86400, s / 3600 % 24, s / 60 % 60);
    return format("%" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60);
}

std::string cell(const Row &r, Column c, Env &env) {
    const procmon_process &p = *r.p;
    auto has = [&p](uint64_t group) { return (p.valid & group) != 0; };
    std::string s;
    switch (c) {
    case Column::pid: return std::to_string(p.pid);
    case Column::user:
        if (!has(PROCMON_FIELD_IDS)) return "-";
        s = env.user(p.euid);
        return s.size() > 8 ? s.substr(0, 7) + "+" : s;  // top marks a cut name so
    case Column::state: return std::string(1, std::isprint(static_cast<unsigned char>(p.state)) ? p.state : '?');
    case Column::cpu: return has(PROCMON_FIELD_CPU) ? format("%.1f", r.cpu) : "-";
    case Column::mem: return has(PROCMON_FIELD_MEMORY) ? format("%.1f", p.mem_percent) : "-";
    case Column::rss: return has(PROCMON_FIELD_MEMORY) ? compact_size(p.rss_bytes) : "-";
    case Column::vsz: return has(PROCMON_FIELD_MEMORY) ? compact_size(p.vms_bytes) : "-";
    case Column::threads: return has(PROCMON_FIELD_SCHED) ? std::to_string(p.threads) : "-";
    case Column::time:
        if (!has(PROCMON_FIELD_CPU)) return "-";
        append_cpu_time(s, p.utime_ns + p.stime_ns);
        return s;
    case Column::command:
        // ps f's tree: each level indents, and "\_ " leads to the child
        if (r.depth > 0) s = std::string(static_cast<std::size_t>(4 * r.depth - 3), ' ') + "\\_ ";
        append_command(s, p);
        return s;
    }
    return s;
}

void pad(std::string &line, const std::string &text, const ColumnInfo &info) {
    const std::size_t w = static_cast<std::size_t>(info.width);
    if (info.numeric && text.size() < w) line.append(w - text.size(), ' ');
    line += text;
    if (!info.numeric && text.size() < w) line.append(w - text.size(), ' ');
}

}  // namespace

std::string short_duration(uint64_t ns) {
    const uint64_t ms = ns / 1000000u, s = ns / 1000000000u;
    if (ms < 1000) return format("%" PRIu64 " ms", ms);
    if (s < 60) return format("%.1f s", static_cast<double>(ns) / 1e9);
    if (s < 3600) return format("%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    if (s < 86400) return format("%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
    return format("%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

std::string signal_name(int sig) {
    const char *abbrev = sigabbrev_np(sig);
    return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

bool parse_signal(const std::string &s, int &out) {
    long long n;
    if (parse_int(s, 1, 64, n)) {
        out = static_cast<int>(n);
        return true;
    }
    std::string name;
    for (char c : s) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.rfind("SIG", 0) == 0) name.erase(0, 3);
    for (int sig = 1; sig < 65; ++sig)
        if (const char *a = sigabbrev_np(sig); a != nullptr && name == a) {
            out = sig;
            return true;
        }
    return false;
}

std::vector<std::string> header_lines(const Model &m, const Options &o) {
    const Summary &s = m.summary();
    std::vector<std::string> lines;
    char clock[16];
    const time_t now = time(nullptr);
    tm local{};
    localtime_r(&now, &local);
    std::strftime(clock, sizeof clock, "%H:%M:%S", &local);
    if (!m.has_refreshed()) {  // the first screen, before the first refresh
        lines.push_back(format("procmon top - %s, reading the processes...", clock));
        return lines;
    }
    if (s.system_known)
        lines.push_back(format("procmon top - %s up %s, load average: %.2f, %.2f, %.2f; %u CPUs", clock,
                               uptime(s.system.boot_time_ns).c_str(), s.system.load1, s.system.load5, s.system.load15,
                               s.system.cpus));
    else
        lines.push_back(format("procmon top - %s (load and memory unknown)", clock));
    lines.push_back(format("Processes: %zu, %zu running, %zu sleeping, %zu stopped, %zu zombie; threads: %zu", s.processes,
                           s.running, s.sleeping, s.stopped, s.zombies, s.threads));
    std::string cpu = format("CPU: %.1f%% summed over processes", s.cpu_sum);
    if (s.system_known && s.system.cpus > 0) {
        cpu += format(" (%.1f%% of %u CPUs)", s.cpu_sum / s.system.cpus, s.system.cpus);
        const procmon_system &y = s.system;
        cpu += format("   Mem: %s used of %s (%.1f%%)   Swap: %s used of %s", human_bytes(y.mem_used_bytes).c_str(),
                      human_bytes(y.mem_total_bytes).c_str(),
                      y.mem_total_bytes ? 100.0 * static_cast<double>(y.mem_used_bytes) / static_cast<double>(y.mem_total_bytes) : 0.0,
                      human_bytes(y.swap_total_bytes - y.swap_free_bytes).c_str(), human_bytes(y.swap_total_bytes).c_str());
    }
    lines.push_back(cpu);
    std::string line = format("%" PRIu64 " %s started and ended since the last refresh; events: %s; procmon: %.1f%% CPU",
                              s.short_lived, s.short_lived == 1 ? "process" : "processes", m.events_note().c_str(),
                              s.self_cpu_percent);
    if (s.self_rss > 0) line += ", " + human_bytes(s.self_rss);  // through the daemon: unknown
    lines.push_back(line);
    std::string filter = o.filters.empty() ? "none" : o.filters.describe();
    lines.push_back(format("Sort: %s %s   Tree: %s   Filter: %s   Shown: %zu   Interval: %g s", column_info(o.sort).header,
                           o.descending ? "(descending)" : "(ascending)", o.tree ? "on" : "off", filter.c_str(),
                           m.rows().size(), o.interval));
    return lines;
}

std::string column_header(std::vector<std::pair<int, int>> *spans) {
    std::string line;
    if (spans != nullptr) spans->clear();
    for (int c = 0; c < kColumns; ++c) {
        const ColumnInfo &info = column_info(static_cast<Column>(c));
        if (c > 0) line += ' ';
        const int start = static_cast<int>(line.size());
        pad(line, info.header, info);
        if (spans != nullptr) spans->emplace_back(start, static_cast<int>(line.size()));
    }
    return line;
}

std::string row_text(const Row &r, Env &env) {
    std::string line;
    for (int c = 0; c < kColumns; ++c) {
        if (c > 0) line += ' ';
        pad(line, cell(r, static_cast<Column>(c), env), column_info(static_cast<Column>(c)));
    }
    return line;
}

std::string event_text(const EventLine &e, Env &env) {
    std::string line;
    append_iso8601(line, e.time_ns);
    line = line.substr(11, 12);  // HH:MM:SS.mmm
    const char *type = procmon_event_type_name(e.type);
    line += format(" %-5s ", type != nullptr ? type : "?");
    if (e.type == PROCMON_EVENT_LOST) return line + (e.lost ? std::to_string(e.lost) : "an unknown number of") + " events lost";
    std::string what;
    if (e.type == PROCMON_EVENT_EXIT) {
        if (e.flags & PROCMON_EVENT_FLAG_NO_STATUS) what = "exit ?";
        else if (e.exit_signal != 0) what = signal_name(e.exit_signal);
        else what = "exit " + std::to_string(e.exit_code);
        what += " after " + short_duration(e.lifetime_ns);
    } else if (e.type == PROCMON_EVENT_START) {
        what = "from " + std::to_string(e.ppid);
    }
    std::string user = e.uid == UINT32_MAX ? "?" : env.user(e.uid);
    if (user.size() > 8) user = user.substr(0, 7) + "+";
    line += format("%7d %-8s %-22s ", e.pid, user.c_str(), what.c_str());
    line += e.command;
    if (e.flags & PROCMON_EVENT_FLAG_PARTIAL) line += " (partial)";
    return line;
}

}  // namespace procmon::cli::top
