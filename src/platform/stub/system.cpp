// The stub backend's clocks, wake-ups and waits, from the C++ standard
// library alone: what the event thread and the journal writer need works
// (they wait on Wakers only), nothing the OS would have to give does.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "platform/platform.hpp"

namespace procmon::platform {
namespace {

template <class C>
int64_t ns_of(C) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(C::now().time_since_epoch()).count();
}

// A Waker's handle is the address of its flag. Setting a lock-free atomic is
// async-signal-safe, as wake() promises; there is no portable way to block
// on several flags that a signal handler may set, so wait_any looks at them
// every kSliceMs (a stub's latency, not a backend's).
using Flag = std::atomic<bool>;
static_assert(Flag::is_always_lock_free);
constexpr auto kSlice = std::chrono::milliseconds(1);

// The live Wakers' flags: a handle that is not one of them (an OS object
// from some other backend) cannot be waited on here.
std::mutex registry_mutex;
std::map<intptr_t, std::unique_ptr<Flag>> &registry() {
    static std::map<intptr_t, std::unique_ptr<Flag>> flags;
    return flags;
}

Flag *flag_of(WaitHandle h) {
    return reinterpret_cast<Flag *>(h.native());
}

}  // namespace

int64_t now_ns(Clock c) {
    switch (c) {
    case Clock::monotonic: return ns_of(std::chrono::steady_clock{});
    case Clock::realtime: return ns_of(std::chrono::system_clock{});
    // No boot time without an OS: steady_clock's epoch stands in. Nothing
    // is compared with it here, since no process start time can be read.
    case Clock::boottime: return ns_of(std::chrono::steady_clock{});
    // No per-thread CPU clock in the standard library: unknown.
    case Clock::thread_cpu: return 0;
    }
    return 0;
}

uint64_t self_rss_bytes() {
    return 0;  // unknown, as the interface allows
}

SelfResources self_resources() {
    return {};  // unknown, as the interface allows
}

uint64_t open_files_limit(int32_t) {
    return 0;
}

uint64_t ns_per_start_tick() {
    return 0;  // the stub reads no process: unknown
}

const char *secure_environment(const char *name) {
    return std::getenv(name);  // the standard library cannot tell a setuid process
}

Waker::Waker() {
    auto flag = std::make_unique<Flag>(false);
    const auto key = reinterpret_cast<intptr_t>(flag.get());
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry().emplace(key, std::move(flag));
    handle_ = WaitHandle::from_native(key);
}

Waker::~Waker() {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry().erase(handle_.native());
}

void Waker::wake() {
    flag_of(handle_)->store(true, std::memory_order_release);
}

void Waker::drain() {
    flag_of(handle_)->store(false, std::memory_order_relaxed);
}

Wait wait_any(const WaitHandle *handles, std::size_t n, int timeout_ms) {
    {
        std::lock_guard<std::mutex> lock(registry_mutex);
        for (std::size_t i = 0; i < n; ++i) {
            if (handles[i].valid() && registry().count(handles[i].native()) == 0) {
                errno = EINVAL;  // not a Waker: nothing else can be waited on without an OS
                return Wait::failed;
            }
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        for (std::size_t i = 0; i < n; ++i)
            if (handles[i].valid() && flag_of(handles[i])->load(std::memory_order_acquire)) return Wait::ready;
        if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) return Wait::timed_out;
        std::this_thread::sleep_for(kSlice);
    }
}

}  // namespace procmon::platform
