// Files a forked child must not keep. A lock held through an open file (flock
// on Linux belongs to the open file description, which a child shares) would
// outlive its owner in a child that does not exec. In the child each file
// registered here is made harmless (POSIX: the fd then names /dev/null; the
// number stays taken, so the child's copy of its owner still closes it).
// Children made without the fork handlers (a raw clone) are not covered.
#pragma once

#include <mutex>

#include "platform/files.hpp"

namespace procmon::platform {

// Held from before such a file is opened until it is registered: a fork on
// another thread in between (which would copy it unregistered) waits.
std::unique_lock<std::mutex> no_fork_meanwhile();
// Registers f (releasing no_fork); until forgotten, only this process holds it.
void parent_only(const File &f, std::unique_lock<std::mutex> &no_fork);
// Forgets f and closes it, under the guard: a fork on another thread sees it
// either registered or closed, never open and forgotten.
void close_parent_only(File &f);

}  // namespace procmon::platform
