// Linux's push sources, best first: PROCMON_SOURCE_AUTO tries them in this
// order and polls when none opens.
//
// Adding one (eBPF, say) takes a file beside netlink.cpp with its
// EventSource and its opener (declared in push_sources.hpp), a value in
// include/procmon.h's PROCMON_SOURCE_MAP, and its row below, placed by
// preference. The engine, the options check and the stats need nothing more.
#include "platform/linux/push_sources.hpp"

#include <iterator>

#include "core/error.hpp"
#include "procmon.h"

namespace procmon::platform {
namespace {

const EventSource::Kind kPushSources[] = {
    {PROCMON_SOURCE_NETLINK,
     {"netlink proc connector", "polling: the netlink proc connector needs root or CAP_NET_ADMIN",
      "polling: the netlink proc connector is unavailable here",
      "polling: the netlink proc connector failed while running"},
     open_netlink},
};

}  // namespace

const EventSource::Kind *EventSource::kinds(std::size_t &n) {
    n = std::size(kPushSources);
    return kPushSources;
}

const EventSource::Kind *EventSource::find(uint32_t source) {
    for (const Kind &k : kPushSources)
        if (k.source == source) return &k;
    return nullptr;
}

int EventSource::open(uint32_t source, std::unique_ptr<EventSource> &out) {
    const Kind *k = find(source);
    if (k == nullptr) return fail(PROCMON_EUNSUPPORTED, 0, "event source %u is not a push source on Linux", source);
    return k->open(out);
}

}  // namespace procmon::platform
