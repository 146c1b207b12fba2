// The netlink proc connector's wire format, Linux only: kept out of the
// portable platform.hpp, and declared here so the parser can be tested on
// hostile buffers directly (tests/unit/netlink_parse_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/platform.hpp"

namespace procmon::platform {

// Decodes a buffer of connector messages into events; returns how many
// messages were malformed or cut short (and skipped).
std::size_t parse_connector_messages(const char *buf, std::size_t n, KernelEvents &out);

// Bytes a connector message with a `len`-byte payload takes (NLMSG_SPACE).
std::size_t connector_message_size(std::size_t len);
// Writes one netlink message carrying a connector message to connector
// `idx` (CN_IDX_PROC for the proc connector) with `len` bytes of payload
// into out, which holds connector_message_size(len) bytes; returns the
// message's length (nlmsg_len). cn_msg ends in a flexible array, so the
// layout is written by hand. The listen request uses it, and tests build
// what the kernel would send with it.
std::size_t write_connector_message(char *out, uint32_t idx, const void *payload, std::size_t len);

}  // namespace procmon::platform
