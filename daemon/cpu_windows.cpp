#include "cpu_windows.hpp"

#include "platform/platform.hpp"

namespace procmon::daemon {
namespace {

// A mark no snapshot of this session has refreshed for this long is of a
// process gone, or one its filtered snapshots no longer ask for: a session
// that only ever filters must not keep every process it once saw.
constexpr uint64_t kStaleNs = 600'000'000'000;  // 10 minutes
// Past this many marks (some 4 MiB), a filtered snapshot keeps only its own.
constexpr std::size_t kMaxMarks = 65536;

double percent(uint64_t cpu_ns, uint64_t wall_ns) {
    return wall_ns > 0 ? 100.0 * static_cast<double>(cpu_ns) / static_cast<double>(wall_ns) : 0.0;
}

}  // namespace

void CpuWindows::apply(std::vector<procmon_process> &records, uint64_t boot_ns, bool whole) {
    static const uint64_t ns_per_tick = platform::ns_per_start_tick();
    std::unordered_map<int32_t, Mark> fresh;  // this snapshot's
    fresh.reserve(records.size());
    for (procmon_process &p : records) {
        if (!(p.valid & PROCMON_FIELD_CPU)) continue;
        const uint64_t cpu = p.utime_ns + p.stime_ns;
        const auto it = marks_.find(p.pid);
        if (it != marks_.end() && it->second.start_ticks == p.start_ticks && cpu >= it->second.cpu_ns &&
            boot_ns > it->second.at_ns) {
            p.cpu_percent = percent(cpu - it->second.cpu_ns, boot_ns - it->second.at_ns);
        } else {  // first seen by this session (or its pid reused): its lifetime's average, as the library's
            const uint64_t started = p.start_ticks * ns_per_tick;
            p.cpu_percent = ns_per_tick != 0 && boot_ns > started ? percent(cpu, boot_ns - started) : 0.0;
        }
        fresh[p.pid] = Mark{p.start_ticks, cpu, boot_ns};
    }
    if (whole || marks_.size() + fresh.size() > kMaxMarks) {
        marks_.swap(fresh);
        return;
    }
    for (auto it = marks_.begin(); it != marks_.end();)
        it = boot_ns - it->second.at_ns > kStaleNs ? marks_.erase(it) : std::next(it);
    for (const auto &[pid, mark] : fresh) marks_[pid] = mark;
}

}  // namespace procmon::daemon
