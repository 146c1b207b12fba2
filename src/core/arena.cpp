#include "core/arena.hpp"

#include <malloc.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/mimalloc_api.hpp"
#include "procmon.h"

namespace procmon {
namespace {

// mimalloc 2.0 cannot release an arena and allows at most 64 per process, so
// closed contexts hand theirs back here and the next open reuses one. `live`
// counts arenas in use, with either allocator, so PROCMON_MAX_CONTEXTS holds
// the same way whichever one is behind them.
struct PooledArena {
    int id;
    std::size_t reserved;
};
std::mutex pool_mutex;
std::vector<PooledArena> pool;
unsigned live = 0;

constexpr std::size_t kArenaBlock = std::size_t{32} << 20;  // mimalloc's arena granularity

// Where the blocks come from: mimalloc when it can be loaded, else the
// system allocator. Sanitizer builds always take the system allocator, which
// ASan and TSan intercept: inside a mimalloc arena ASan sees no
// use-after-free, and TSan takes mimalloc's (uninstrumented) hand-over of a
// finished thread's pages for a race.
const mimalloc::Api *block_source(const char **why_not) {
#if defined(PROCMON_ARENA_SYSTEM_MALLOC)
    *why_not = "system malloc: sanitizer build";
    return nullptr;
#else
    return mimalloc::load(why_not);
#endif
}

// One heap per (thread, arena), created on first use by that thread: a heap
// may only allocate on the thread that created it. Heaps live as long as the
// thread; the arena ids they belong to are never released (see pool above).
mi_heap_t *heap_for(const mimalloc::Api &mi, int arena_id) {
    thread_local std::vector<std::pair<int, mi_heap_t *>> heaps;
    for (auto &[id, heap] : heaps)
        if (id == arena_id) return heap;
    mimalloc::enter_thread(mi);
    mi_heap_t *heap = mi.heap_new_in_arena(arena_id);
    if (heap == nullptr) return nullptr;
    heaps.emplace_back(arena_id, heap);
    return heap;
}

}  // namespace

const char *Arena::allocator() {
    const char *why_not = nullptr;
    return block_source(&why_not) ? "mimalloc arena" : why_not;
}

int Arena::create(uint64_t cap, unsigned threads, std::shared_ptr<Arena> &out) {
    const char *why_not = nullptr;
    const mimalloc::Api *mi = block_source(&why_not);
    std::size_t want = (cap + kArenaBlock - 1) / kArenaBlock * kArenaBlock + (threads > 1 ? threads - 1 : 0) * kArenaBlock;
    PooledArena chosen{-1, 0};
    {
        std::lock_guard<std::mutex> lock(pool_mutex);
        if (live >= PROCMON_MAX_CONTEXTS)
            return fail(PROCMON_ENOMEM, 0,
                        "open a context: %d are open, the most one process may hold (PROCMON_MAX_CONTEXTS); "
                        "close one first",
                        PROCMON_MAX_CONTEXTS);
        if (mi != nullptr) {
            // smallest pooled arena that is large enough
            std::size_t best = pool.size();
            for (std::size_t i = 0; i < pool.size(); ++i)
                if (pool[i].reserved >= want && (best == pool.size() || pool[i].reserved < pool[best].reserved))
                    best = i;
            if (best != pool.size()) {
                chosen = pool[best];
                pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(best));
            } else {
                mi_arena_id_t id = 0;
                int rc = mi->reserve_os_memory_ex(want, /*commit=*/false, /*allow_large=*/false,
                                                  /*exclusive=*/true, &id);
                if (rc != 0)
                    return fail(PROCMON_ENOMEM, rc, "reserve a %zu byte memory arena: mimalloc refused (error %d)",
                                want, rc);
                chosen = {id, want};
            }
        }
        ++live;
    }
    try {
        out = std::make_shared<Arena>(mi, chosen.id, chosen.reserved, cap);
    } catch (const std::bad_alloc &) {
        std::lock_guard<std::mutex> lock(pool_mutex);
        --live;
        if (mi != nullptr) pool.push_back(chosen);
        return fail(PROCMON_ENOMEM, ENOMEM, "allocate the arena bookkeeping");
    }
    return PROCMON_OK;
}

Arena::~Arena() {
    std::lock_guard<std::mutex> lock(pool_mutex);
    --live;
    if (mi_ == nullptr) return;
    try {
        pool.push_back({id_, reserved_});
    } catch (...) {
        // Losing the arena for reuse only costs address space; never throw here.
    }
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
    if (p == nullptr) {
        used_.fetch_sub(size, std::memory_order_relaxed);
        throw ArenaFull(n, used_.load(std::memory_order_relaxed), cap_);
    }
    // Count what the block really holds (mi_good_size and mi_usable_size
    // agree; malloc may round up).
    const uint64_t usable = block_size(p);
    if (usable != size) used_.fetch_add(usable - size, std::memory_order_relaxed);
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
    return mi_ != nullptr ? mi_->usable_size(p) : malloc_usable_size(p);
}

}  // namespace procmon
