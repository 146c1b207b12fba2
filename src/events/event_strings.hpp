// The strings of one event (name, exe, argv, and the full name), read once by the collector and
// shared by every subscription the event reaches: immutable, refcounted,
// in the context's arena.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>

#include "core/arena.hpp"
#include "core/names.hpp"

namespace procmon::events {

class EventStrings {
public:
    // Throws ArenaFull. argv is argv_len bytes of NUL-terminated arguments.
    static EventStrings *make(Arena *arena, const char *name, const char *exe, const char *argv,
                              std::size_t argv_len, uint32_t argc) {
        const std::size_t name_len = std::strlen(name), exe_len = std::strlen(exe);
        const std::string_view full = procmon::full_name({name, name_len}, argv, argv_len, {exe, exe_len});
        void *mem = arena->allocate(sizeof(EventStrings) + name_len + 1 + exe_len + 1 + argv_len + 1 + full.size() + 1);
        auto *s = new (mem) EventStrings(arena, argv_len, argc);
        char *p = s->data();
        std::memcpy(p, name, name_len + 1);
        s->exe_at_ = name_len + 1;
        std::memcpy(p + s->exe_at_, exe, exe_len + 1);
        s->argv_at_ = s->exe_at_ + exe_len + 1;
        if (argv_len > 0) std::memcpy(p + s->argv_at_, argv, argv_len);  // an empty argv may be NULL
        p[s->argv_at_ + argv_len] = '\0';
        s->full_name_at_ = s->argv_at_ + argv_len + 1;
        if (!full.empty()) std::memcpy(p + s->full_name_at_, full.data(), full.size());
        p[s->full_name_at_ + full.size()] = '\0';
        return s;
    }

    void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void unref() {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            Arena *arena = arena_;
            this->~EventStrings();
            arena->deallocate(this);
        }
    }

    const char *name() { return data(); }
    const char *exe() { return data() + exe_at_; }
    const char *argv() { return data() + argv_at_; }
    const char *full_name() { return data() + full_name_at_; }
    std::size_t argv_len() const { return argv_len_; }
    uint32_t argc() const { return argc_; }

private:
    EventStrings(Arena *arena, std::size_t argv_len, uint32_t argc) : arena_(arena), argv_len_(argv_len), argc_(argc) {}
    char *data() { return reinterpret_cast<char *>(this + 1); }

    std::atomic<uint32_t> refs_{1};
    Arena *arena_;
    std::size_t exe_at_ = 0, argv_at_ = 0, full_name_at_ = 0, argv_len_;
    uint32_t argc_;
};

// Holds one reference; moves, never copies.
class StringsRef {
public:
    StringsRef() = default;
    explicit StringsRef(EventStrings *s) : s_(s) {}  // adopts a reference
    StringsRef(const StringsRef &) = delete;
    StringsRef &operator=(const StringsRef &) = delete;
    StringsRef(StringsRef &&o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    StringsRef &operator=(StringsRef &&o) noexcept {
        if (this != &o) {
            reset();
            s_ = o.s_;
            o.s_ = nullptr;
        }
        return *this;
    }
    ~StringsRef() { reset(); }
    StringsRef share() const {
        if (s_) s_->ref();
        return StringsRef(s_);
    }
    void reset() {
        if (s_) s_->unref();
        s_ = nullptr;
    }
    EventStrings *get() const { return s_; }
    explicit operator bool() const { return s_ != nullptr; }

private:
    EventStrings *s_ = nullptr;
};

}  // namespace procmon::events
