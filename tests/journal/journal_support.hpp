// Helpers for the journal tests: synthetic events whose every field follows
// from their sequence number (so a reader can check each record it gets),
// a temporary directory, and reading a whole journal back.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "procmon.h"

namespace jt {

// The strings of the event for `seq`, kept alive by the caller.
struct Synthetic {
    std::string name, exe, argv;
    procmon_event e{};
};

inline void make_event(uint64_t seq, Synthetic &s) {
    s.name = "n" + std::to_string(seq);
    s.exe = "/usr/bin/e" + std::to_string(seq % 97);
    s.argv = std::string("prog") + '\0' + std::to_string(seq) + '\0' + std::string(seq % 13, 'x') + '\0';
    s.e = procmon_event{};
    s.e.size = sizeof s.e;
    static const uint32_t types[] = {PROCMON_EVENT_START, PROCMON_EVENT_EXEC, PROCMON_EVENT_EXIT};
    s.e.type = types[seq % 3];
    s.e.pid = static_cast<int32_t>(seq % 4000000) + 1;
    s.e.ppid = static_cast<int32_t>(seq % 1000);
    s.e.uid = seq % 5 == 0 ? UINT32_MAX : static_cast<uint32_t>(seq % 70000);
    s.e.time_ns = 1700000000000000000ull + seq * 1000;
    s.e.start_time_ns = s.e.time_ns - (seq % 100000) * 1000;
    s.e.start_ticks = seq * 3;
    s.e.exit_code = s.e.type == PROCMON_EVENT_EXIT ? static_cast<int32_t>(seq % 256) : -1;
    s.e.exit_signal = static_cast<int32_t>(seq % 7 == 0 ? 9 : 0);
    s.e.lifetime_ns = seq * 17;
    s.e.name = s.name.c_str();
    s.e.exe = s.exe.c_str();
    s.e.argv = s.argv.data();
    s.e.argv_len = s.argv.size();
    s.e.argc = 3;
}

// Whether `e` (as read back, with `seq`) is exactly what make_event(seq) made.
inline bool is_event_of(const procmon_event &e, uint64_t seq, std::string &why) {
    Synthetic s;
    make_event(seq, s);
    const procmon_event &w = s.e;
    auto bad = [&](const char *field) {
        why = std::string("seq ") + std::to_string(seq) + ": " + field;
        return false;
    };
    if (e.seq != seq) return bad("seq");
    if (e.type != w.type || e.flags != w.flags) return bad("type/flags");
    if (e.pid != w.pid || e.ppid != w.ppid || e.uid != w.uid) return bad("pid/ppid/uid");
    if (e.time_ns != w.time_ns || e.start_time_ns != w.start_time_ns || e.start_ticks != w.start_ticks) return bad("times");
    if (e.exit_code != w.exit_code || e.exit_signal != w.exit_signal || e.lifetime_ns != w.lifetime_ns) return bad("exit");
    if (std::strcmp(e.name, w.name) != 0 || std::strcmp(e.exe, w.exe) != 0) return bad("name/exe");
    if (e.argv_len != w.argv_len || std::memcmp(e.argv, w.argv, w.argv_len) != 0 || e.argc != w.argc) return bad("argv");
    return true;
}

// The events for [first, first + n), with their strings.
struct Batch {
    std::vector<Synthetic> keep;
    std::vector<procmon_event> evs;
    Batch(uint64_t first, uint64_t n) : keep(n), evs(n) {
        for (uint64_t i = 0; i < n; ++i) {
            make_event(first + i, keep[i]);
            evs[i] = keep[i].e;
        }
    }
};

inline int append_range(procmon_journal *j, uint64_t first, uint64_t n) {
    Batch b(first, n);
    return procmon_journal_append(j, b.evs.data(), sizeof b.evs[0], n);
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/procmon-journal-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string sub(const char *name) const { return path + "/" + name; }
};

// Everything a reader returns now (no waiting), as (event, strings copied).
struct Read {
    procmon_event e;
    std::string name, exe, argv;
};
// `per_call` events at most per procmon_journal_reader_next (1..64).
inline int read_all(const std::string &dir, std::vector<Read> &out, procmon_journal_reader_stats *stats = nullptr,
                    uint64_t from_seq = 0, size_t per_call = 64) {
    procmon_journal_read_options ro = PROCMON_JOURNAL_READ_OPTIONS_INIT;
    ro.from_seq = from_seq;
    procmon_journal_reader *r = nullptr;
    int rc = procmon_journal_reader_open(&r, dir.c_str(), &ro);
    if (rc != PROCMON_OK) return rc;
    procmon_event batch[64];
    for (;;) {
        size_t n = 0;
        rc = procmon_journal_reader_next(r, batch, sizeof batch[0], per_call, &n, 0);
        if (rc != PROCMON_OK || n == 0) break;
        for (size_t i = 0; i < n; ++i) {
            Read x{batch[i], batch[i].name, batch[i].exe, std::string(batch[i].argv, batch[i].argv_len)};
            x.e.name = x.e.exe = x.e.argv = nullptr;
            out.push_back(std::move(x));
        }
    }
    if (stats != nullptr) {
        stats->size = sizeof *stats;
        procmon_journal_reader_stats_get(stats, r);
    }
    procmon_journal_reader_close(r);
    return rc;
}

// A read record, pointers restored, for is_event_of.
inline procmon_event view(const Read &r) {
    procmon_event e = r.e;
    e.name = r.name.c_str();
    e.exe = r.exe.c_str();
    e.argv = r.argv.data();
    return e;
}

inline std::vector<std::string> segment_files(const std::string &dir) {
    std::vector<std::string> out;
    for (const auto &f : std::filesystem::directory_iterator(dir))
        if (f.path().extension() == ".pmj") out.push_back(f.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace jt
