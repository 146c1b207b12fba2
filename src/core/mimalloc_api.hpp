// mimalloc, loaded at run time with dlopen(RTLD_LOCAL) rather than linked.
//
// Why: Debian's libmimalloc.so.2 is built to replace malloc. Linked in, it
// would become the malloc of every program that links procmon, static or
// shared, ahead of (or fighting with) the host's own allocator. Loaded
// locally, its symbols reach only the pointers below, and the host's malloc
// stays the host's. When it cannot be loaded, arenas fall back to the system
// allocator with the same exact accounting (see arena.cpp).
#pragma once

#include <mimalloc.h>

namespace procmon::mimalloc {

struct Api {
    // Linked in, mimalloc is the process's malloc and every thread has run
    // its thread set-up before procmon's first call. Loaded locally, it has
    // not: a thread must call thread_init before any other call (without
    // it, mi_reserve_os_memory_ex on a fresh thread crashed one run in ~20).
    decltype(&::mi_thread_init) thread_init;
    decltype(&::mi_reserve_os_memory_ex) reserve_os_memory_ex;
    decltype(&::mi_heap_new_in_arena) heap_new_in_arena;
    decltype(&::mi_heap_malloc) heap_malloc;
    decltype(&::mi_free) free;
    decltype(&::mi_usable_size) usable_size;
    decltype(&::mi_good_size) good_size;
};

// The library's functions, or nullptr if it cannot be used; loaded once per
// process, on first call, from any thread, and set up for the calling thread
// (mimalloc's thread_init), so call it on every thread before using the Api.
// `why_not` (may be null) receives a static description of the reason when
// the answer is nullptr.
const Api *load(const char **why_not);

// mimalloc's set-up of the calling thread, once per thread: before any call
// on a thread that did not get the Api from load() (reader threads, a
// thread freeing a snapshot).
inline void enter_thread(const Api &mi) {
    thread_local bool ready = false;
    if (!ready) {
        mi.thread_init();
        ready = true;
    }
}

}  // namespace procmon::mimalloc
