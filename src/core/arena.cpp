#include "core/arena.hpp"

#include <malloc.h>
#include <mimalloc.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "procmon.h"

namespace procmon {
namespace {

// mimalloc 2.0 cannot release an arena and allows at most 64 per process, so
// closed contexts hand theirs back here and the next open reuses one.
struct PooledArena {
    int id;
    std::size_t reserved;
};
std::mutex pool_mutex;
std::vector<PooledArena> pool;

constexpr std::size_t kArenaBlock = std::size_t{32} << 20;  // mimalloc's arena granularity

// Where the blocks come from. Sanitizer builds take them from the system
// allocator, which ASan and TSan intercept: inside a mimalloc arena ASan sees
// no use-after-free, and TSan takes mimalloc's (uninstrumented) hand-over of
// a finished thread's pages for a race. The arena is still reserved, so the
// limits (contexts, cap) behave as in a normal build.
#if defined(PROCMON_ARENA_SYSTEM_MALLOC)
std::size_t block_good_size(std::size_t n) { return n; }
void *block_alloc(int, std::size_t n) { return std::malloc(n); }
std::size_t block_size(void *p) { return malloc_usable_size(p); }
void block_free(void *p) { std::free(p); }
#else
// One heap per (thread, arena), created on first use by that thread: a heap
// may only allocate on the thread that created it. Heaps live as long as the
// thread; the arena ids they belong to are never released (see pool above).
mi_heap_t *heap_for(int arena_id) {
    thread_local std::vector<std::pair<int, mi_heap_t *>> heaps;
    for (auto &[id, heap] : heaps)
        if (id == arena_id) return heap;
    mi_heap_t *heap = mi_heap_new_in_arena(arena_id);
    if (heap == nullptr) return nullptr;
    heaps.emplace_back(arena_id, heap);
    return heap;
}

std::size_t block_good_size(std::size_t n) { return mi_good_size(n); }
void *block_alloc(int arena_id, std::size_t n) {
    mi_heap_t *heap = heap_for(arena_id);
    return heap ? mi_heap_malloc(heap, n) : nullptr;
}
std::size_t block_size(void *p) { return mi_usable_size(p); }
void block_free(void *p) { mi_free(p); }
#endif

}  // namespace

int Arena::create(uint64_t cap, unsigned threads, std::shared_ptr<Arena> &out) {
    std::size_t want = (cap + kArenaBlock - 1) / kArenaBlock * kArenaBlock + (threads > 1 ? threads - 1 : 0) * kArenaBlock;
    PooledArena chosen{-1, 0};
    {
        std::lock_guard<std::mutex> lock(pool_mutex);
        // smallest pooled arena that is large enough
        std::size_t best = pool.size();
        for (std::size_t i = 0; i < pool.size(); ++i)
            if (pool[i].reserved >= want && (best == pool.size() || pool[i].reserved < pool[best].reserved))
                best = i;
        if (best != pool.size()) {
            chosen = pool[best];
            pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(best));
        }
    }
    if (chosen.id < 0) {
        mi_arena_id_t id = 0;
        int rc = mi_reserve_os_memory_ex(want, /*commit=*/false, /*allow_large=*/false,
                                         /*exclusive=*/true, &id);
        if (rc != 0)
            return fail(PROCMON_ENOMEM, rc,
                        "reserve a %zu byte memory arena: mimalloc refused (error %d; at most "
                        "64 arenas exist per process, one per open context)",
                        want, rc);
        chosen = {id, want};
    }
    try {
        out = std::make_shared<Arena>(chosen.id, chosen.reserved, cap);
    } catch (const std::bad_alloc &) {
        std::lock_guard<std::mutex> lock(pool_mutex);
        pool.push_back(chosen);
        return fail(PROCMON_ENOMEM, ENOMEM, "allocate the arena bookkeeping");
    }
    return PROCMON_OK;
}

Arena::~Arena() {
    std::lock_guard<std::mutex> lock(pool_mutex);
    try {
        pool.push_back({id_, reserved_});
    } catch (...) {
        // Losing the arena for reuse only costs address space; never throw here.
    }
}

void *Arena::allocate(std::size_t n) {
    if (n == 0) n = 1;
    const uint64_t size = block_good_size(n);
    uint64_t used = used_.load(std::memory_order_relaxed);
    do {
        if (used + size > cap_) throw ArenaFull(n, used, cap_);
    } while (!used_.compare_exchange_weak(used, used + size, std::memory_order_relaxed));

    void *p = block_alloc(id_, n);
    if (p == nullptr) {
        used_.fetch_sub(size, std::memory_order_relaxed);
        throw ArenaFull(n, used_.load(std::memory_order_relaxed), cap_);
    }
    // mi_good_size and mi_usable_size agree; keep the exact figure anyway.
    const uint64_t usable = block_size(p);
    if (usable != size) used_.fetch_add(usable - size, std::memory_order_relaxed);
    uint64_t now = used + usable, peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
    return p;
}

void Arena::deallocate(void *p) noexcept {
    if (p == nullptr) return;
    used_.fetch_sub(block_size(p), std::memory_order_relaxed);
    block_free(p);
}

}  // namespace procmon
