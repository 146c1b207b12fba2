// The stub backend's run-time services: no dynamic loading (the arena then
// uses the C library's malloc, saying why), no forks to guard, no user
// database, and no portable way to ask malloc a block's size.
#include <cerrno>

#include "platform/dynlib.hpp"
#include "platform/fork_guard.hpp"
#include "platform/memory.hpp"
#include "platform/users.hpp"

namespace procmon::platform {

void *load_library(const char *) { return nullptr; }
void *library_symbol(void *, const char *) { return nullptr; }
const char *library_error() { return "no dynamic loading on this platform backend"; }

namespace {
std::mutex fork_mutex;  // nothing forks here; kept so callers' locking reads the same
}  // namespace
std::unique_lock<std::mutex> no_fork_meanwhile() { return std::unique_lock<std::mutex>(fork_mutex); }
void parent_only(const File &, std::unique_lock<std::mutex> &no_fork) { no_fork.unlock(); }
void close_parent_only(File &f) { f.close(); }

// Standard C++ cannot tell; a port supplies its own (Windows: _msize,
// macOS: malloc_size). 0 leaves the arena's accounting of malloc'ed blocks
// at nothing, which no stub context reaches: it cannot open a process table.
std::size_t malloc_usable_bytes(void *) { return 0; }

// No user database without an OS: every lookup says it could not ask.
UserLookup user_name(uint32_t, std::string &) {
    errno = ENOSYS;
    return UserLookup::failed;
}
UserLookup user_id(const std::string &, uint32_t &) {
    errno = ENOSYS;
    return UserLookup::failed;
}
UserLookup group_id(const std::string &, uint32_t &) {
    errno = ENOSYS;
    return UserLookup::failed;
}

}  // namespace procmon::platform
