#include "cpu_windows.hpp"

namespace procmon::daemon {
namespace {

// A mark no snapshot of this session has refreshed for this long is of a
// process gone, or one its filtered snapshots no longer ask for: a session
// that only ever filters must not keep every process it once saw.
constexpr uint64_t kStaleNs = 600'000'000'000;  // 10 minutes

double percent(uint64_t cpu_ns, uint64_t wall_ns) {
    return wall_ns > 0 ? 100.0 * static_cast<double>(cpu_ns) / static_cast<double>(wall_ns) : 0.0;
}

}  // namespace

void CpuWindows::apply(std::vector<procmon_process> &records, uint64_t mono_ns, uint64_t wall_ns, bool whole) {
    std::unordered_map<int32_t, Mark> kept;
    if (whole) kept.reserve(records.size());
    for (procmon_process &p : records) {
        if (!(p.valid & PROCMON_FIELD_CPU)) continue;
        const uint64_t cpu = p.utime_ns + p.stime_ns;
        const auto it = marks_.find(p.pid);
        if (it != marks_.end() && it->second.start_ticks == p.start_ticks && cpu >= it->second.cpu_ns &&
            mono_ns > it->second.at_ns) {
            p.cpu_percent = percent(cpu - it->second.cpu_ns, mono_ns - it->second.at_ns);
        } else {  // first seen by this session (or its pid reused): its lifetime's average
            p.cpu_percent = wall_ns > p.start_time_ns ? percent(cpu, wall_ns - p.start_time_ns) : 0.0;
        }
        const Mark mark{p.start_ticks, cpu, mono_ns};
        if (whole) kept[p.pid] = mark;
        else marks_[p.pid] = mark;
    }
    if (whole) {
        marks_.swap(kept);
        return;
    }
    for (auto it = marks_.begin(); it != marks_.end();)
        it = mono_ns - it->second.at_ns > kStaleNs ? marks_.erase(it) : std::next(it);
}

}  // namespace procmon::daemon
