// What a peer may see of a process or an event: its own processes (real,
// effective and saved uid all the peer's, as /proc's ptrace check) in full; other users' keep only the field
// groups its permissions' see_others names, the others cleared exactly as
// when the library could not read them (valid bit off, numbers 0, strings "").
#pragma once

#include <cstdint>

#include "config.hpp"
#include "procmon.h"

namespace procmon::daemon {

// Whether the process belongs to the peer. A record whose ids were not read
// belongs to no one: it is masked.
bool owns(const procmon_process &p, uint32_t peer_uid);

// Clears from p the groups the peer may not see. Root sees all.
void mask_process(procmon_process &p, uint32_t peer_uid, const Permissions &perm);

// Events of other users: exe emptied unless "exe" is in see_others, argv
// unless "argv" is; the full name then falls back to the name, which it is
// derived from otherwise (it may be argv[0]'s base name).
void mask_event(procmon_event &e, uint32_t peer_uid, const Permissions &perm);

}  // namespace procmon::daemon
