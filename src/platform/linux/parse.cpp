#include "platform/linux/parse.hpp"

#include <algorithm>
#include <cstring>

namespace procmon::platform::procfs {
namespace {

constexpr uint64_t kMaxU64 = ~uint64_t{0};

// Cursor over one buffer; every reader stops at `end`.
struct Cursor {
    const char *p;
    const char *end;

    bool at_end() const { return p >= end; }
    void skip_spaces() {
        while (p < end && (*p == ' ' || *p == '\t')) ++p;
    }
    bool u64(uint64_t &out) {
        skip_spaces();
        if (p >= end || *p < '0' || *p > '9') return false;
        uint64_t v = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            const uint64_t d = static_cast<uint64_t>(*p - '0');
            if (v > (kMaxU64 - d) / 10) return false;  // overflow
            v = v * 10 + d;
            ++p;
        }
        out = v;
        return true;
    }
    bool i64(int64_t &out) {
        skip_spaces();
        bool neg = p < end && *p == '-';
        if (neg) ++p;
        uint64_t mag;
        if (!u64(mag)) return false;
        if (mag > (neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1)) return false;
        out = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
        return true;
    }
    bool i32(int32_t &out) {
        int64_t v;
        if (!i64(v) || v < INT32_MIN || v > INT32_MAX) return false;
        out = static_cast<int32_t>(v);
        return true;
    }
    // Skips one space-separated field; false if none is left.
    bool skip_field() {
        skip_spaces();
        if (p >= end || *p == '\n') return false;
        while (p < end && *p != ' ' && *p != '\n') ++p;
        return true;
    }
};

uint64_t mul_sat(uint64_t a, uint64_t b) { return (b != 0 && a > kMaxU64 / b) ? kMaxU64 : a * b; }
uint64_t add_sat(uint64_t a, uint64_t b) { return a > kMaxU64 - b ? kMaxU64 : a + b; }

// memrchr: the ')' sits near the start of a ~300-byte stat line, and a byte
// loop from the end cost ~1,500 instructions per call (perf gate, warm:
// 10,613 instructions per process before, see docs/PERFORMANCE.md).
const char *last_paren(const char *buf, std::size_t n) {
    return static_cast<const char *>(::memrchr(buf, ')', n));
}

bool starts_with(const char *p, const char *end, const char *prefix, std::size_t len) {
    return static_cast<std::size_t>(end - p) >= len && std::memcmp(p, prefix, len) == 0;
}

const char *line_end(const char *p, const char *end) {
    const void *nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    return nl ? static_cast<const char *>(nl) : end;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

bool stat_complete(const char *buf, std::size_t n) {
    if (n == 0 || buf[n - 1] != '\n') return false;
    const char *paren = last_paren(buf, n);
    if (paren == nullptr) return false;
    // Fields 3..24 (state to rss) follow the ')': 22 of them, 22 spaces.
    // Stop at the 22nd instead of counting the whole tail.
    std::size_t spaces = 0;
    for (const char *p = paren; p < buf + n; ++p)
        if (*p == ' ' && ++spaces == 22) return true;
    return false;
}

procmon_state state_kind(char letter) {
    // fs/proc/array.c's task_state_array, plus the letters of older kernels
    // (x, K, W, P), read as psutil's PROC_STATUSES reads them
    switch (letter) {
    case 'R': return PROCMON_STATE_RUNNING;
    case 'S': return PROCMON_STATE_SLEEPING;
    case 'D': return PROCMON_STATE_DISK_SLEEP;
    case 'T': return PROCMON_STATE_STOPPED;
    case 't': return PROCMON_STATE_TRACING_STOP;
    case 'Z': return PROCMON_STATE_ZOMBIE;
    case 'X':
    case 'x': return PROCMON_STATE_DEAD;
    case 'K': return PROCMON_STATE_WAKE_KILL;
    case 'W': return PROCMON_STATE_WAKING;
    case 'I': return PROCMON_STATE_IDLE;
    case 'P': return PROCMON_STATE_PARKED;
    default: return PROCMON_STATE_UNKNOWN;
    }
}

bool parse_stat(const char *buf, std::size_t n, const Units &units, Stat &out) {
    const char *open = static_cast<const char *>(std::memchr(buf, '(', n));
    const char *close = last_paren(buf, n);
    if (open == nullptr || close == nullptr || close < open) return false;

    Cursor c{buf, open};
    if (!c.i32(out.pid)) return false;

    std::size_t name_len = static_cast<std::size_t>(close - open - 1);
    if (name_len >= sizeof out.name) name_len = sizeof out.name - 1;
    std::memcpy(out.name, open + 1, name_len);
    out.name[name_len] = '\0';

    c = Cursor{close + 1, buf + n};
    c.skip_spaces();
    if (c.at_end() || *c.p == '\n') return false;
    out.state = *c.p++;  // field 3
    out.state_kind = state_kind(out.state);

    uint64_t kflags = 0, utime = 0, stime = 0, start = 0, vsize = 0, rss = 0, threads = 0;
    int64_t priority = 0, nice = 0;
    if (!c.i32(out.ppid) || !c.i32(out.pgid) || !c.i32(out.sid) || !c.i32(out.tty))  // 4-7
        return false;
    if (!c.skip_field() || !c.u64(kflags)) return false;                      // 8 tpgid, 9 flags
    for (int f = 10; f <= 13; ++f)
        if (!c.skip_field()) return false;                                    // fault counters
    if (!c.u64(utime) || !c.u64(stime)) return false;                         // 14-15
    if (!c.skip_field() || !c.skip_field()) return false;                     // 16-17 children
    if (!c.i64(priority) || !c.i64(nice) || !c.u64(threads)) return false;    // 18-20
    if (!c.skip_field() || !c.u64(start)) return false;                       // 21, 22 starttime

    out.kernel_thread = (kflags & 0x00200000u) != 0;  // PF_KTHREAD
    out.utime_ns = mul_sat(utime, units.ns_per_tick);
    out.stime_ns = mul_sat(stime, units.ns_per_tick);
    out.priority = static_cast<int32_t>(priority < INT32_MIN ? INT32_MIN : priority > INT32_MAX ? INT32_MAX : priority);
    out.nice = static_cast<int32_t>(nice < -20 ? -20 : nice > 19 ? 19 : nice);
    out.threads = threads > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(threads);
    out.start_ticks = start;
    out.start_boot_ns = mul_sat(start, units.ns_per_tick);
    out.start_time_ns = add_sat(units.boot_time_ns, out.start_boot_ns);

    out.has_memory = c.u64(vsize) && c.u64(rss);  // 23-24
    if (out.has_memory) {
        out.vms_bytes = vsize;
        out.rss_bytes = mul_sat(rss, units.page_size);
    } else {
        return true;
    }

    // Exec detection: startcode, endcode (26, 27) and arg_start, arg_end
    // (48, 49) all move when a process execs. Zero when unreadable or absent.
    uint64_t v;
    std::memset(out.exec_key, 0, sizeof out.exec_key);
    if (!c.skip_field()) return true;  // 25 rsslim
    if (!c.u64(v)) return true;
    out.exec_key[0] = v;
    if (!c.u64(v)) return true;
    out.exec_key[1] = v;
    for (int f = 28; f <= 47; ++f)
        if (!c.skip_field()) return true;
    if (c.u64(v)) out.exec_key[2] = v;  // arg_start
    if (c.u64(v)) out.exec_key[3] = v;  // arg_end
    if (out.exec_key[2] != 0 && out.exec_key[3] > out.exec_key[2]) out.argv_bytes = out.exec_key[3] - out.exec_key[2];
    return true;
}

bool status_complete(const char *buf, std::size_t n, bool ctxsw) {
    // Lines are only whole once their '\n' has arrived.
    bool uid = false, gid = false, vol = !ctxsw, nonvol = !ctxsw;
    const char *end = buf + n;
    for (const char *p = buf; p < end;) {
        const char *eol = line_end(p, end);
        if (eol == end) break;  // an unfinished last line
        uid = uid || starts_with(p, eol, "Uid:", 4);
        gid = gid || starts_with(p, eol, "Gid:", 4);
        vol = vol || starts_with(p, eol, "voluntary_ctxt_switches:", 24);
        nonvol = nonvol || starts_with(p, eol, "nonvoluntary_ctxt_switches:", 27);
        p = eol + 1;
    }
    return uid && gid && vol && nonvol;
}

void parse_status(const char *buf, std::size_t n, Status &out) {
    const char *end = buf + n;
    bool uid = false, gid = false, vol = false, nonvol = false;
    for (const char *p = buf; p < end;) {
        const char *eol = line_end(p, end);
        Cursor c{p, eol};
        uint64_t a, b, s;
        if (starts_with(p, eol, "Uid:", 4)) {
            c.p += 4;
            if (c.u64(a) && c.u64(b) && c.u64(s) && a <= UINT32_MAX && b <= UINT32_MAX && s <= UINT32_MAX) {
                out.uid = static_cast<uint32_t>(a), out.euid = static_cast<uint32_t>(b), out.suid = static_cast<uint32_t>(s);
                uid = true;
            }
        } else if (starts_with(p, eol, "Gid:", 4)) {
            c.p += 4;
            if (c.u64(a) && c.u64(b) && c.u64(s) && a <= UINT32_MAX && b <= UINT32_MAX && s <= UINT32_MAX) {
                out.gid = static_cast<uint32_t>(a), out.egid = static_cast<uint32_t>(b), out.sgid = static_cast<uint32_t>(s);
                gid = true;
            }
        } else if (starts_with(p, eol, "Tgid:", 5)) {
            c.p += 5;
            int32_t v;
            if (c.i32(v)) out.tgid = v;
        } else if (starts_with(p, eol, "Pid:", 4)) {
            c.p += 4;
            int32_t v;
            if (c.i32(v)) out.pid = v;
        } else if (starts_with(p, eol, "voluntary_ctxt_switches:", 24)) {
            c.p += 24;
            vol = c.u64(out.voluntary);
        } else if (starts_with(p, eol, "nonvoluntary_ctxt_switches:", 27)) {
            c.p += 27;
            nonvol = c.u64(out.nonvoluntary);
        }
        p = eol + 1;
    }
    out.has_ids = uid && gid;
    out.has_ctxsw = vol && nonvol;
}

bool parse_schedstat(const char *buf, std::size_t n, RunCount &out) {
    Cursor c{buf, buf + n};
    if (!c.u64(out.run_ns) || !c.u64(out.wait_ns) || !c.u64(out.slices)) return false;
    c.skip_spaces();
    return c.p < c.end && *c.p == '\n';
}

bool parse_io(const char *buf, std::size_t n, Io &out) {
    struct Key {
        const char *name;
        std::size_t len;
        uint64_t *dst;
    } keys[] = {{"rchar:", 6, &out.rchar},           {"wchar:", 6, &out.wchar},
                {"syscr:", 6, &out.syscr},           {"syscw:", 6, &out.syscw},
                {"read_bytes:", 11, &out.read_bytes}, {"write_bytes:", 12, &out.write_bytes}};
    unsigned found = 0;
    const char *end = buf + n;
    for (const char *p = buf; p < end;) {
        const char *eol = line_end(p, end);
        for (unsigned i = 0; i < 6; ++i) {
            if (starts_with(p, eol, keys[i].name, keys[i].len)) {
                Cursor c{p + keys[i].len, eol};
                if (c.u64(*keys[i].dst)) found |= 1u << i;
            }
        }
        p = eol + 1;
    }
    return found == 0x3f;
}

void parse_cgroup(const char *buf, std::size_t n, Bytes &path, Bytes &container_id) {
    path.clear();
    container_id.clear();
    const char *end = buf + n;
    for (const char *p = buf; p < end;) {
        const char *eol = line_end(p, end);
        if (starts_with(p, eol, "0::", 3)) {  // cgroup v2: the one path that matters
            path.assign(p + 3, eol);
            break;
        }
        // cgroup v1 "N:controllers:/path": keep the whole line
        if (eol > p) {
            if (!path.empty()) path.push_back(';');
            path.insert(path.end(), p, eol);
        }
        p = eol + 1;
    }
    // The container id is the last run of exactly 64 lowercase hex digits
    // (docker-<id>.scope, /docker/<id>, cri-containerd-<id>.scope, libpod-<id>).
    std::size_t found = path.size(), run = 0;
    for (std::size_t i = 0; i <= path.size(); ++i) {
        if (i < path.size() && is_hex(path[i])) {
            ++run;
            continue;
        }
        if (run == 64) found = i - 64;
        run = 0;
    }
    if (found != path.size())
        container_id.assign(path.begin() + static_cast<std::ptrdiff_t>(found),
                            path.begin() + static_cast<std::ptrdiff_t>(found + 64));
}

bool parse_btime(const char *buf, std::size_t n, uint64_t &seconds) {
    const char *end = buf + n;
    for (const char *p = buf; p < end;) {
        const char *eol = line_end(p, end);
        if (starts_with(p, eol, "btime ", 6)) {
            Cursor c{p + 6, eol};
            return c.u64(seconds);
        }
        p = eol + 1;
    }
    return false;
}

bool parse_uptime_ns(const char *buf, std::size_t n, uint64_t &ns) {
    Cursor c{buf, buf + n};
    uint64_t secs, frac = 0, scale = 1000000000;
    if (!c.u64(secs)) return false;
    if (c.p < c.end && *c.p == '.') {
        ++c.p;
        while (c.p < c.end && *c.p >= '0' && *c.p <= '9' && scale > 1) {
            scale /= 10;
            frac += static_cast<uint64_t>(*c.p++ - '0') * scale;
        }
    }
    ns = add_sat(mul_sat(secs, 1000000000), frac);
    return true;
}

unsigned parse_kb_lines(const char *buf, std::size_t n, const char *const *keys, std::size_t count, uint64_t *out) {
    unsigned found = 0;
    const char *end = buf + n;
    for (const char *p = buf; p < end;) {
        const char *eol = line_end(p, end);
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t len = std::strlen(keys[i]);
            uint64_t kb;
            if (starts_with(p, eol, keys[i], len)) {
                Cursor c{p + len, eol};
                if (c.u64(kb)) {
                    out[i] = mul_sat(kb, 1024);
                    found |= 1u << i;
                }
                break;
            }
        }
        p = eol + 1;
    }
    return found;
}

bool parse_smaps_rollup(const char *buf, std::size_t n, Smaps &out) {
    static const char *const keys[] = {"Pss:", "Private_Clean:", "Private_Dirty:", "Private_Hugetlb:", "Swap:"};
    uint64_t v[5] = {};
    const unsigned found = parse_kb_lines(buf, n, keys, 5, v);
    if ((found & 0x7) != 0x7) return false;
    out.pss = v[0];
    out.uss = add_sat(add_sat(v[1], v[2]), v[3]);
    out.swap = v[4];
    return true;
}

bool parse_meminfo(const char *buf, std::size_t n, SystemInfo &out) {
    static const char *const keys[] = {"MemTotal:", "MemFree:", "MemAvailable:", "Cached:", "SwapTotal:", "SwapFree:"};
    uint64_t v[6] = {};
    const unsigned found = parse_kb_lines(buf, n, keys, 6, v);
    if ((found & 0x3) != 0x3) return false;
    out.mem_total = v[0];
    out.mem_free = v[1];
    out.mem_available = (found & 0x4) ? v[2] : std::min(v[0], add_sat(v[1], v[3]));
    out.swap_total = v[4];
    out.swap_free = v[5];
    return true;
}

bool parse_loadavg(const char *buf, std::size_t n, double load[3]) {
    Cursor c{buf, buf + n};
    for (int i = 0; i < 3; ++i) {
        uint64_t whole, frac = 0, scale = 1;
        if (!c.u64(whole)) return false;
        if (c.p < c.end && *c.p == '.') {
            ++c.p;
            while (c.p < c.end && *c.p >= '0' && *c.p <= '9' && scale < 1000000) {
                frac = frac * 10 + static_cast<uint64_t>(*c.p++ - '0');
                scale *= 10;
            }
        }
        load[i] = static_cast<double>(whole) + static_cast<double>(frac) / static_cast<double>(scale);
    }
    return true;
}

}  // namespace procmon::platform::procfs
