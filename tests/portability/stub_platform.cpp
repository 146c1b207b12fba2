// The stub backend's platform interface itself (src/platform/stub/), below
// the C ABI: its Wakers wake, its waits end, its clocks run, and what it
// cannot wait on it refuses. Part of stub_backend_test.
#include <cerrno>
#include <cstdio>
#include <thread>

#include "platform/platform.hpp"

namespace platform = procmon::platform;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            ++failures;                                                          \
            std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);      \
        }                                                                        \
    } while (0)

extern "C" int stub_platform_checks(void) {
    int failures = 0;
    platform::Waker a, b;
    CHECK(a.ok() && b.ok());
    CHECK(a.handle().native() != b.handle().native());
    CHECK(platform::wait_any({a.handle(), b.handle()}, 0) == platform::Wait::timed_out);
    b.wake();
    CHECK(platform::wait_any({a.handle(), b.handle()}, 0) == platform::Wait::ready);
    CHECK(platform::wait_any({a.handle()}, 0) == platform::Wait::timed_out);  // a is not b
    CHECK(platform::wait_any({b.handle()}, 0) == platform::Wait::ready);      // until drained
    b.drain();
    CHECK(platform::wait_any({a.handle(), b.handle()}, 0) == platform::Wait::timed_out);
    // another thread's wake ends a wait without a timeout (a broken wake hangs: ctest's timeout)
    std::thread waker([&a] { a.wake(); });
    CHECK(platform::wait_any({platform::WaitHandle(), a.handle()}, -1) == platform::Wait::ready);
    waker.join();
    // what is not a Waker (an OS object of a real backend) cannot be waited on
    errno = 0;
    CHECK(platform::wait_any({platform::WaitHandle::from_native(3)}, -1) == platform::Wait::failed);
    CHECK(errno == EINVAL);
    // the clocks: monotonic and realtime advance, the unknowns are 0
    const int64_t m0 = platform::now_ns(platform::Clock::monotonic);
    const int64_t r0 = platform::now_ns(platform::Clock::realtime);
    CHECK(r0 > int64_t{1600000000} * 1000000000);  // after 2020: the Unix epoch
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    CHECK(platform::now_ns(platform::Clock::monotonic) > m0);
    CHECK(platform::now_ns(platform::Clock::thread_cpu) == 0);
    CHECK(platform::self_rss_bytes() == 0);
    return failures;
}
