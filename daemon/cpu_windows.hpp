// cpu_percent as a client's own context would measure it. The library
// measures a process's %CPU since its context last enumerated it; procmond
// has one context for every client (and its window restarts at anyone's
// snapshot), so each session keeps its own marks and sets the figure it
// sends: since this session's previous snapshot of the same process, or,
// for one it has not seen, since the process started (docs/api.md).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "procmon.h"

namespace procmon::daemon {

class CpuWindows {
public:
    // Sets cpu_percent of each record read with its CPU fields. `boot_ns`:
    // when the enumeration began, on the boot clock (platform::Clock::
    // boottime, which start_ticks count on: a wall-clock step moves
    // neither). `whole`: the snapshot listed every process the peer may
    // see, so the marks of the others can go.
    void apply(std::vector<procmon_process> &records, uint64_t boot_ns, bool whole);

private:
    struct Mark {
        uint64_t start_ticks, cpu_ns, at_ns;
    };
    std::unordered_map<int32_t, Mark> marks_;
};

}  // namespace procmon::daemon
