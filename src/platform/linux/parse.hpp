// Parsers for the /proc text formats. Hand-written: they run once per process
// per enumeration on the hot path, never allocate, and reject what does not
// parse (overflow included) instead of guessing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/platform.hpp"

namespace procmon::platform::procfs {

struct Units {
    uint64_t ns_per_tick;   // 1e9 / sysconf(_SC_CLK_TCK)
    uint64_t page_size;
    uint64_t boot_time_ns;  // wall clock at boot
};

// True when `buf` holds a whole /proc/<pid>/stat line: it ends in '\n' and
// enough fields follow the last ')'. Lets the reader stop without a final
// read() that returns 0, and stay correct when a read comes back short.
bool stat_complete(const char *buf, std::size_t n);

// A state letter of /proc/<pid>/stat in the library's words; UNKNOWN for
// a letter it does not know.
procmon_state state_kind(char letter);

// /proc/<pid>/stat. comm runs from the first '(' to the *last* ')', so names
// holding ")", spaces or newlines come out whole. False if malformed or if a
// field needed for identity is missing.
bool parse_stat(const char *buf, std::size_t n, const Units &units, Stat &out);

// True when `buf` holds whole Uid and Gid lines (and, with ctxsw, both
// context switch lines): all parse_status needs, so no read to EOF.
bool status_complete(const char *buf, std::size_t n, bool ctxsw);

// /proc/<pid>/status: Uid, Gid and the context switch counters.
void parse_status(const char *buf, std::size_t n, Status &out);

// /proc/<pid>/schedstat: "run_ns wait_ns slices\n". False if malformed.
bool parse_schedstat(const char *buf, std::size_t n, RunCount &out);

// /proc/<pid>/io. False if any of the six counters is missing or malformed.
bool parse_io(const char *buf, std::size_t n, Io &out);

// /proc/<pid>/cgroup: the v2 path ("0::/x" -> "/x"); with v1 lines, the lines
// joined by ';'. The container id is the last run of 64 hex digits in it.
void parse_cgroup(const char *buf, std::size_t n, Bytes &path, Bytes &container_id);

// "btime N" from /proc/stat, in seconds. False if absent.
bool parse_btime(const char *buf, std::size_t n, uint64_t &seconds);

// "Key: N kB" lines (meminfo, smaps_rollup): for each of the n keys (each
// with its ':'), the value in bytes into out[i]. A bit per key found.
unsigned parse_kb_lines(const char *buf, std::size_t n, const char *const *keys, std::size_t count, uint64_t *out);

// /proc/<pid>/smaps_rollup: Pss, Private_Clean + Private_Dirty (+
// Private_Hugetlb) as uss, Swap. False if Pss or the private lines are missing.
bool parse_smaps_rollup(const char *buf, std::size_t n, Smaps &out);

// /proc/meminfo into out's memory fields. False without MemTotal and MemFree
// (MemAvailable, from Linux 3.14, is estimated as MemFree + Cached then).
bool parse_meminfo(const char *buf, std::size_t n, SystemInfo &out);

// /proc/loadavg: "0.12 0.34 0.56 r/t lastpid". False if malformed.
bool parse_loadavg(const char *buf, std::size_t n, double load[3]);

// First number of /proc/uptime ("123.45 ...") in ns. False if malformed.
bool parse_uptime_ns(const char *buf, std::size_t n, uint64_t &ns);

}  // namespace procmon::platform::procfs
