// Linux: the clocks, wake-ups and waits the event engine needs, and this
// process's resident memory.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "platform/platform.hpp"

namespace procmon::platform {
namespace {

int64_t clock_of(clockid_t id) {
    timespec ts;
    clock_gettime(id, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

int64_t now_ns(Clock c) {
    switch (c) {
    case Clock::monotonic: return clock_of(CLOCK_MONOTONIC);
    case Clock::realtime: return clock_of(CLOCK_REALTIME);
    case Clock::boottime: return clock_of(CLOCK_BOOTTIME);
    case Clock::thread_cpu: return clock_of(CLOCK_THREAD_CPUTIME_ID);
    }
    return 0;
}

const char *secure_environment(const char *name) {
    return secure_getenv(name);  // null in a process with AT_SECURE (setuid, setgid, capabilities)
}

uint64_t self_rss_bytes() {
    FILE *f = std::fopen("/proc/self/statm", "re");
    unsigned long long size = 0, resident = 0;
    if (f != nullptr) {
        if (std::fscanf(f, "%llu %llu", &size, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

namespace {
int fd_of(WaitHandle h) { return static_cast<int>(h.native()); }
}  // namespace

Waker::Waker() : handle_(WaitHandle::from_native(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))) {}

Waker::~Waker() {
    if (handle_.valid()) close(fd_of(handle_));
}

void Waker::wake() {
    uint64_t one = 1;
    if (write(fd_of(handle_), &one, sizeof one) < 0) {
        // EAGAIN: the counter is saturated, so the fd is readable anyway.
    }
}

void Waker::drain() {
    uint64_t v;
    while (read(fd_of(handle_), &v, sizeof v) > 0) {
    }
}

Wait wait_any(const WaitHandle *handles, std::size_t n, int timeout_ms) {
    constexpr std::size_t kMax = 8;
    pollfd p[kMax];
    std::size_t used = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!handles[i].valid()) continue;
        if (used == kMax) {
            errno = EINVAL;
            return Wait::failed;
        }
        p[used++] = {fd_of(handles[i]), POLLIN, 0};
    }
    int rc = poll(p, used, timeout_ms);
    if (rc < 0) return errno == EINTR ? Wait::interrupted : Wait::failed;
    return rc == 0 ? Wait::timed_out : Wait::ready;
}

}  // namespace procmon::platform
