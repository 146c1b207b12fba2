// The netlink proc connector's wire format, Linux only: kept out of the
// portable platform.hpp, and declared here so the parser can be tested on
// hostile buffers directly (tests/unit/netlink_parse_test.cpp).
#pragma once

#include <cstddef>

#include "platform/platform.hpp"

namespace procmon::platform {

// Decodes a buffer of connector messages into events; returns how many
// messages were malformed or cut short (and skipped).
std::size_t parse_connector_messages(const char *buf, std::size_t n, KernelEvents &out);

}  // namespace procmon::platform
