// The arena behind every context: its cap is exact at the boundary, and
// closed contexts give their memory back, however many were opened, with
// whatever caps, used from however many threads.
#include <criterion/criterion.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/arena.hpp"
#include "procmon.h"

using procmon::Arena;
using procmon::ArenaFull;

namespace {

constexpr uint64_t kCap = 1 << 20;

std::shared_ptr<Arena> arena(uint64_t cap = kCap) {
    std::shared_ptr<Arena> a;
    cr_assert_eq(Arena::create(cap, a), PROCMON_OK);
    return a;
}

// Fills `a` with n-byte blocks until the cap refuses one; returns them.
std::vector<void *> fill(Arena &a, std::size_t n) {
    std::vector<void *> blocks;
    blocks.reserve(kCap / n + 1);
    try {
        for (;;) {
            blocks.push_back(a.allocate(n));
            cr_assert_leq(a.used(), a.cap(), "over the cap after %zu blocks of %zu", blocks.size(), n);
        }
    } catch (const ArenaFull &e) {
        cr_expect_eq(e.cap, kCap);
        cr_expect(!e.exhausted, "the cap refused it, not the allocator");
        cr_expect_gt(e.used + e.requested, e.cap);
    }
    return blocks;
}

}  // namespace

Test(arena, the_cap_holds_exactly_for_every_block_size) {
    for (std::size_t n : {std::size_t{1}, std::size_t{24}, std::size_t{4096}, std::size_t{65536}, std::size_t{kCap / 3},
                          std::size_t{kCap}}) {
        auto a = arena();
        std::vector<void *> blocks = fill(*a, n);
        cr_expect_leq(a->used(), kCap);
        for (void *p : blocks) a->deallocate(p);
        cr_expect_eq(a->used(), 0u, "blocks of %zu: %llu bytes still counted", n,
                     static_cast<unsigned long long>(a->used()));
    }
}

// With mimalloc, a block's counted size is mi_good_size: a block of exactly
// the cap fits, and then not one byte more. malloc (sanitizer builds) rounds
// up its own way: there the block fits only if what malloc gives fits.
Test(arena, a_block_of_exactly_the_cap_fits_and_one_byte_more_does_not) {
    const bool mi = std::strcmp(Arena::allocator(), "mimalloc arena") == 0;
    auto a = arena();
    cr_expect_throw(a->allocate(kCap + 1), ArenaFull);
    cr_expect_eq(a->used(), 0u);
    void *p = nullptr;
    try {
        p = a->allocate(kCap);
    } catch (const ArenaFull &) {
        cr_expect(!mi, "mimalloc refused a block of exactly the cap");
    }
    if (p != nullptr) {
        cr_expect_eq(a->used(), kCap);
        cr_expect_throw(a->allocate(1), ArenaFull);
        a->deallocate(p);
    }
    cr_expect_eq(a->used(), 0u);
}

// One context used from many threads in turn (a Python Monitor shared by a
// thread pool): each thread allocates in its own heap, within one cap.
Test(arena, any_number_of_threads_allocate_within_one_cap) {
    auto a = arena(64ull << 20);
    for (int i = 0; i < 40; ++i) {
        std::string err;
        std::thread([&] {
            try {
                void *p = a->allocate(100000);
                a->deallocate(p);
            } catch (const ArenaFull &e) {
                err = "ArenaFull: used " + std::to_string(e.used) + ", exhausted " + std::to_string(e.exhausted);
            }
        }).join();
        cr_assert(err.empty(), "thread %d: %s", i, err.c_str());
    }
    cr_expect_eq(a->used(), 0u);
}
