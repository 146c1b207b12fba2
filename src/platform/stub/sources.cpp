// The stub backend: what procmon does on an OS it has no backend for. It is
// built from the C++ standard library alone (tests/portability/os_includes.py
// checks it like the rest of the portable core), so the core above the seam
// is shown to compile and link without any OS; every source of process
// facts refuses, saying why.
#include "core/error.hpp"
#include "platform/platform.hpp"

namespace procmon::platform {

int ProcSource::open(const char *root, Arena *, std::unique_ptr<ProcSource> &out) {
    out.reset();
    return fail(PROCMON_EUNSUPPORTED, 0, "procmon: no platform backend for this OS (the process table%s%s cannot be read)",
                root != nullptr && root[0] != '\0' ? " at " : "", root != nullptr ? root : "");
}

// No push sources: PROCMON_SOURCE_AUTO would poll (and polling needs a ProcSource).
const EventSource::Kind *EventSource::kinds(std::size_t &n) {
    n = 0;
    return nullptr;
}

const EventSource::Kind *EventSource::find(uint32_t) { return nullptr; }

int EventSource::open(uint32_t, std::unique_ptr<EventSource> &out) {
    out.reset();
    return fail(PROCMON_EUNSUPPORTED, 0, "procmon: no platform backend for this OS (no process events)");
}

}  // namespace procmon::platform
