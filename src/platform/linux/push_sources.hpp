// The openers of Linux's push sources, one file each, listed in
// push_sources.cpp.
#pragma once

#include <memory>

#include "platform/platform.hpp"

namespace procmon::platform {

int open_netlink(std::unique_ptr<EventSource> &out);  // netlink.cpp

}  // namespace procmon::platform
