// The one arena a fuzz target decodes snapshots into, made once: 256 MiB,
// more than any input libFuzzer makes can justify.
#pragma once

#include <cstdlib>
#include <memory>

#include "core/arena.hpp"

inline std::shared_ptr<procmon::Arena> &fuzz_arena() {
    static std::shared_ptr<procmon::Arena> a = [] {
        std::shared_ptr<procmon::Arena> made;
        if (procmon::Arena::create(256u << 20, made) != PROCMON_OK) std::abort();
        return made;
    }();
    return a;
}
