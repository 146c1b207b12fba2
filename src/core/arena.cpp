#include "core/arena.hpp"

#include <cerrno>
#include <cstdlib>
#include <mutex>

#include "core/error.hpp"
#include "core/mimalloc_api.hpp"
#include "platform/memory.hpp"
#include "procmon.h"

namespace procmon {
namespace {

// Contexts open at once, with either allocator, so PROCMON_MAX_CONTEXTS
// means the same whichever one is behind them.
std::mutex live_mutex;
unsigned live = 0;

// One exclusive mimalloc arena for the whole process, shared by every
// context. mimalloc 2.0 cannot release an arena and allows 64 per process,
// and every thread that allocates takes 32 MiB blocks of its own: arenas per
// context ran out after 64 opens of growing caps, and one sized for N
// threads starved the N+1st. One arena reserved once, as address space
// only (mimalloc commits pages as they are used and decommits freed ones),
// serves any number of contexts and threads; each context's cap is its own
// exact accounting (Arena::allocate). Reserved as large as the OS allows,
// from 1 TiB down (a ulimit -v may refuse the larger sizes).
struct SharedArena {
    int id = -1;
    std::size_t reserved = 0;
    int error = 0;
};

[[maybe_unused]] const SharedArena &shared_arena(const mimalloc::Api &mi) {
    static const SharedArena arena = [&mi] {
        SharedArena a;
        for (std::size_t size = std::size_t{1} << 40; size >= (std::size_t{1} << 30); size >>= 2) {
            mi_arena_id_t id = 0;
            a.error = mi.reserve_os_memory_ex(size, /*commit=*/false, /*allow_large=*/false, /*exclusive=*/true, &id);
            if (a.error == 0) {
                a.id = id;
                a.reserved = size;
                break;
            }
        }
        return a;
    }();
    return arena;
}

// Where the blocks come from: mimalloc's shared arena when mimalloc loads
// and the arena can be reserved, else the system allocator. Sanitizer builds
// always take the system allocator, which ASan and TSan intercept: inside a
// mimalloc arena ASan sees no use-after-free, and TSan takes mimalloc's
// (uninstrumented) hand-over of a finished thread's pages for a race.
const mimalloc::Api *block_source(const char **why_not, SharedArena *arena = nullptr) {
#if defined(PROCMON_ARENA_SYSTEM_MALLOC)
    (void)arena;
    *why_not = "system malloc: sanitizer build";
    return nullptr;
#else
    const mimalloc::Api *mi = mimalloc::load(why_not);
    if (mi == nullptr) return nullptr;
    const SharedArena &shared = shared_arena(*mi);
    if (shared.id < 0) {  // e.g. a ulimit -v below 1 GiB
        *why_not = "system malloc: mimalloc could not reserve 1 GiB of address space";
        return nullptr;
    }
    if (arena != nullptr) *arena = shared;
    return mi;
#endif
}

// The calling thread's heap in the shared arena, created on first use: a
// heap may only allocate on the thread that created it. It lives as long as
// the thread; mimalloc hands its pages over when the thread ends.
mi_heap_t *heap_for(const mimalloc::Api &mi, int arena_id) {
    thread_local mi_heap_t *heap = nullptr;
    if (heap == nullptr) {
        mimalloc::enter_thread(mi);
        heap = mi.heap_new_in_arena(arena_id);
    }
    return heap;
}

}  // namespace

const char *Arena::allocator() {
    const char *why_not = nullptr;
    return block_source(&why_not) ? "mimalloc arena" : why_not;
}

int Arena::create(uint64_t cap, std::shared_ptr<Arena> &out) {
    const char *why_not = nullptr;
    SharedArena shared;
    const mimalloc::Api *mi = block_source(&why_not, &shared);
    {
        std::lock_guard<std::mutex> lock(live_mutex);
        if (live >= PROCMON_MAX_CONTEXTS)
            return fail(PROCMON_ENOMEM, 0,
                        "open a context: %d are open, the most one process may hold (PROCMON_MAX_CONTEXTS); "
                        "close one first",
                        PROCMON_MAX_CONTEXTS);
        ++live;
    }
    try {
        out = std::make_shared<Arena>(mi, shared.id, shared.reserved, cap);
    } catch (const std::bad_alloc &) {
        std::lock_guard<std::mutex> lock(live_mutex);
        --live;
        return fail(PROCMON_ENOMEM, ENOMEM, "allocate the arena bookkeeping");
    }
    return PROCMON_OK;
}

Arena::~Arena() {
    // Every block was given back by now (snapshots and queues keep the Arena
    // alive): the shared arena reuses them for other contexts.
    std::lock_guard<std::mutex> lock(live_mutex);
    --live;
}

void *Arena::allocate(std::size_t n) {
    if (n == 0) n = 1;
    const uint64_t size = mi_ ? mi_->good_size(n) : n;
    uint64_t used = used_.load(std::memory_order_relaxed);
    do {
        if (used + size > cap_) throw ArenaFull(n, used, cap_);
    } while (!used_.compare_exchange_weak(used, used + size, std::memory_order_relaxed));

    void *p = nullptr;
    if (mi_ == nullptr) {
        p = std::malloc(n);
    } else if (mi_heap_t *heap = heap_for(*mi_, id_)) {
        p = mi_->heap_malloc(heap, n);
    }
    if (p == nullptr) {  // under the cap, but the allocator itself is out
        used_.fetch_sub(size, std::memory_order_relaxed);
        throw ArenaFull(n, used_.load(std::memory_order_relaxed), cap_, mi_ ? reserved_ : 0, true);
    }
    // Count what the block really holds (mi_good_size and mi_usable_size
    // agree; malloc may round up, and then the cap still holds).
    const uint64_t usable = block_size(p);
    if (usable != size) {
        const uint64_t after = used_.fetch_add(usable - size, std::memory_order_relaxed) + (usable - size);
        if (after > cap_) {
            used_.fetch_sub(usable, std::memory_order_relaxed);
            if (mi_ != nullptr) mi_->free(p);
            else std::free(p);
            throw ArenaFull(n, after - usable, cap_);
        }
    }
    allocations_.fetch_add(1, std::memory_order_relaxed);
    uint64_t now = used + usable, peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
    return p;
}

void Arena::deallocate(void *p) noexcept {
    if (p == nullptr) return;
    used_.fetch_sub(block_size(p), std::memory_order_relaxed);
    if (mi_ != nullptr) {
        mimalloc::enter_thread(*mi_);
        mi_->free(p);
    } else {
        std::free(p);
    }
}

std::size_t Arena::block_size(void *p) const noexcept {
    return mi_ != nullptr ? mi_->usable_size(p) : platform::malloc_usable_bytes(p);
}

}  // namespace procmon
