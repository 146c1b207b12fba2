// The object behind procmon_snapshot: immutable records sorted by pid, with
// their strings, all in the arena. It keeps the arena alive, so it may
// outlive its context.
#pragma once

#include <memory>
#include <vector>

#include "collect/string_pool.hpp"
#include "core/arena.hpp"
#include "procmon.h"

struct procmon_snapshot {
    explicit procmon_snapshot(std::shared_ptr<procmon::Arena> a)
        : arena(std::move(a)), records(procmon::ArenaAllocator<procmon_process>(arena.get())), strings(arena.get()) {}

    std::shared_ptr<procmon::Arena> arena;  // declared first: destroyed last
    std::vector<procmon_process, procmon::ArenaAllocator<procmon_process>> records;
    procmon::StringPool strings;
};
