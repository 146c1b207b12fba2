#include "core/mimalloc_api.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "platform/dynlib.hpp"

#ifndef PROCMON_MIMALLOC_SONAME
#define PROCMON_MIMALLOC_SONAME "libmimalloc.so.2"
#endif

namespace procmon::mimalloc {
namespace {

Api api;
const Api *loaded = nullptr;
char reason[320];

template <class F>
bool resolve(void *lib, const char *name, F &fn) {
    fn = reinterpret_cast<F>(platform::library_symbol(lib, name));
    if (fn != nullptr) return true;
    std::snprintf(reason, sizeof reason, "system malloc: %s has no %s", PROCMON_MIMALLOC_SONAME, name);
    return false;
}

void load_once() {
    if (const char *choice = std::getenv("PROCMON_ALLOCATOR"); choice != nullptr && std::strcmp(choice, "system") == 0) {
        std::snprintf(reason, sizeof reason, "system malloc: PROCMON_ALLOCATOR=system");
        return;
    }
    // Local: its malloc stays out of the global symbol scope. Never unloaded:
    // arenas and per-thread heaps live as long as the process.
    void *lib = platform::load_library(PROCMON_MIMALLOC_SONAME);
    if (lib == nullptr) {
        const char *err = platform::library_error();
        std::snprintf(reason, sizeof reason, "system malloc: %s", err ? err : PROCMON_MIMALLOC_SONAME " not loadable");
        return;
    }
    decltype(&::mi_process_init) process_init = nullptr;
    if (resolve(lib, "mi_process_init", process_init) && resolve(lib, "mi_thread_init", api.thread_init) &&
        resolve(lib, "mi_reserve_os_memory_ex", api.reserve_os_memory_ex) &&
        resolve(lib, "mi_heap_new_in_arena", api.heap_new_in_arena) &&
        resolve(lib, "mi_heap_malloc", api.heap_malloc) && resolve(lib, "mi_free", api.free) &&
        resolve(lib, "mi_usable_size", api.usable_size) && resolve(lib, "mi_good_size", api.good_size)) {
        process_init();  // idempotent; its constructor may already have run it
        loaded = &api;
    }
}

}  // namespace

const Api *load(const char **why_not) {
    static std::once_flag once;
    std::call_once(once, load_once);
    if (loaded == nullptr) {
        if (why_not != nullptr) *why_not = reason;
        return nullptr;
    }
    enter_thread(*loaded);
    return loaded;
}

}  // namespace procmon::mimalloc
