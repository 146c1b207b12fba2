// The bounded memory behind every snapshot and cache: an exclusive mimalloc
// arena plus exact byte accounting against the caller's cap.
//
// Why both: mimalloc 2.0 reserves arenas in 32 MiB blocks, so the arena alone
// bounds memory only to the next 32 MiB; the accounting makes the cap exact,
// and the arena guarantees nothing of ours lands in the process heap.
// mimalloc heaps allocate only on the thread that created them, so each
// thread gets its own heap in the arena on first use; one arena serves every
// context of the process (see arena.cpp).
// mimalloc is loaded at run time (mimalloc_api.hpp); without it, or in a
// sanitizer build, blocks come from the system allocator, counted the same.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "core/mimalloc_api.hpp"

namespace procmon {

// Thrown by Arena::allocate; the C API turns it into PROCMON_ENOMEM. Either
// the context's cap was reached, or (`exhausted`) the allocator had no more
// under it: the shared arena's `reserved` bytes of address space, or malloc.
struct ArenaFull : std::bad_alloc {
    uint64_t requested, used, cap, reserved;
    bool exhausted;
    ArenaFull(uint64_t r, uint64_t u, uint64_t c, uint64_t res = 0, bool ex = false)
        : requested(r), used(u), cap(c), reserved(res), exhausted(ex) {}
    const char *what() const noexcept override { return "procmon arena cap reached"; }
};

class Arena {
public:
    // An arena of `cap` bytes, usable from any number of threads, drawing
    // on the process's one shared mimalloc arena (arena.cpp says why).
    // Returns a status code and sets the thread's error on failure. At most
    // PROCMON_MAX_CONTEXTS exist at once.
    static int create(uint64_t cap, std::shared_ptr<Arena> &out);

    // What the blocks come from, for procmon_stats: "mimalloc arena", or
    // "system malloc: <why>". Static text.
    static const char *allocator();

    // `mi` null: blocks from the system allocator, `id` and `reserved` unused.
    Arena(const mimalloc::Api *mi, int id, std::size_t reserved, uint64_t cap)
        : mi_(mi), id_(id), reserved_(reserved), cap_(cap) {}
    ~Arena();
    Arena(const Arena &) = delete;
    Arena &operator=(const Arena &) = delete;

    void *allocate(std::size_t n);            // throws ArenaFull
    void deallocate(void *p) noexcept;        // any thread

    uint64_t cap() const { return cap_; }
    uint64_t used() const { return used_.load(std::memory_order_relaxed); }
    uint64_t peak() const { return peak_.load(std::memory_order_relaxed); }
    // Blocks handed out so far (the performance gate counts them per enumeration).
    uint64_t allocations() const { return allocations_.load(std::memory_order_relaxed); }

private:
    std::size_t block_size(void *p) const noexcept;

    const mimalloc::Api *mi_;
    int id_;
    std::size_t reserved_;
    uint64_t cap_;
    std::atomic<uint64_t> used_{0};
    std::atomic<uint64_t> peak_{0};
    std::atomic<uint64_t> allocations_{0};
};

// std-compatible allocator drawing from an Arena.
template <class T>
struct ArenaAllocator {
    using value_type = T;
    Arena *arena;

    explicit ArenaAllocator(Arena *a) noexcept : arena(a) {}
    template <class U>
    ArenaAllocator(const ArenaAllocator<U> &o) noexcept : arena(o.arena) {}

    T *allocate(std::size_t n) { return static_cast<T *>(arena->allocate(n * sizeof(T))); }
    void deallocate(T *p, std::size_t) noexcept { arena->deallocate(p); }

    template <class U>
    bool operator==(const ArenaAllocator<U> &o) const noexcept { return arena == o.arena; }
};

// The same, for buffers that are read into: resize() leaves the new bytes
// uninitialised instead of zeroing them. Reading argv grew a 4 KiB buffer per
// process and zeroed it each time, ~2,000 instructions (perf gate, cold).
template <class T>
struct ArenaBufferAllocator : ArenaAllocator<T> {
    using value_type = T;
    ArenaBufferAllocator(const ArenaAllocator<T> &a) noexcept : ArenaAllocator<T>(a) {}  // NOLINT: implicit on purpose
    template <class U>
    ArenaBufferAllocator(const ArenaBufferAllocator<U> &o) noexcept : ArenaAllocator<T>(o.arena) {}

    template <class U>
    void construct(U *p) noexcept {
        ::new (static_cast<void *>(p)) U;  // default-, not value-initialised
    }
    template <class U, class... Args>
    void construct(U *p, Args &&...args) {
        ::new (static_cast<void *>(p)) U(std::forward<Args>(args)...);
    }
};

}  // namespace procmon
