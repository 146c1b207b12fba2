// The object behind procmon_ctx: its arena, its process source and the
// collector with its cache. Destroyed in reverse order of declaration, so
// the arena goes last.
#pragma once

#include <memory>

#include "collect/collector.hpp"
#include "core/arena.hpp"
#include "platform/platform.hpp"

struct procmon_ctx {
    std::shared_ptr<procmon::Arena> arena;
    std::unique_ptr<procmon::platform::ProcSource> source;
    std::unique_ptr<procmon::Collector> collector;
    uint64_t enumerations = 0;
};
