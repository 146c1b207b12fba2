// What a context remembers about each process between enumerations, keyed by
// identity (pid, start time): the facts that only change on exec, and the
// last CPU sample for cpu_percent.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/arena.hpp"
#include "platform/platform.hpp"

namespace procmon {

struct CacheEntry {
    explicit CacheEntry(Arena *a) : exe(ArenaAllocator<char>(a)), argv(ArenaAllocator<char>(a)) {}

    int32_t pid = 0;
    uint64_t start_ticks = 0;

    // exec detection
    char name[64] = {};
    uint64_t exec_key[4] = {};

    bool has_ids = false, has_exe = false, has_argv = false, argv_truncated = false;
    uint32_t uid = 0, euid = 0, suid = 0, gid = 0, egid = 0, sgid = 0;
    platform::Bytes exe;
    platform::Bytes argv;  // NUL-terminated arguments back to back
    uint32_t argc = 0;

    // last CPU sample
    uint64_t cpu_ns = 0;
    uint64_t sample_ns = 0;  // boot clock

    void forget_static_facts() {
        has_ids = has_exe = has_argv = argv_truncated = false;
        exe.clear();
        argv.clear();
        argc = 0;
    }
};

// Sorted by pid.
using Cache = std::vector<CacheEntry, ArenaAllocator<CacheEntry>>;

}  // namespace procmon
