// Append-only storage for the strings of one snapshot: chunks from the arena,
// so a record's pointers stay valid until the snapshot is freed.
#pragma once

#include <cstddef>
#include <cstring>

#include "core/arena.hpp"

namespace procmon {

class StringPool {
public:
    explicit StringPool(Arena *arena) : arena_(arena) {}
    ~StringPool() {
        while (head_ != nullptr) {
            Chunk *next = head_->next;
            arena_->deallocate(head_);
            head_ = next;
        }
    }
    StringPool(const StringPool &) = delete;
    StringPool &operator=(const StringPool &) = delete;

    // Takes over all of other's strings (their addresses stay valid).
    void absorb(StringPool &other) {
        if (other.head_ == nullptr) return;
        Chunk *tail = other.head_;
        while (tail->next != nullptr) tail = tail->next;
        tail->next = head_;
        head_ = other.head_;
        other.head_ = nullptr;
    }

    // Copies n bytes and a terminating NUL; returns the copy. Throws ArenaFull.
    const char *add(const char *s, std::size_t n) {
        if (n == 0) return "";
        if (head_ == nullptr || head_->capacity - head_->used < n + 1) grow(n + 1);
        char *dst = head_->data() + head_->used;
        std::memcpy(dst, s, n);
        dst[n] = '\0';
        head_->used += n + 1;
        return dst;
    }

private:
    struct Chunk {
        Chunk *next;
        std::size_t capacity, used;
        char *data() { return reinterpret_cast<char *>(this + 1); }
    };
    static constexpr std::size_t kChunk = 64 * 1024;

    void grow(std::size_t at_least) {
        std::size_t capacity = at_least > kChunk - sizeof(Chunk) ? at_least : kChunk - sizeof(Chunk);
        auto *c = static_cast<Chunk *>(arena_->allocate(sizeof(Chunk) + capacity));
        c->next = head_;
        c->capacity = capacity;
        c->used = 0;
        head_ = c;
    }

    Arena *arena_;
    Chunk *head_ = nullptr;
};

}  // namespace procmon
