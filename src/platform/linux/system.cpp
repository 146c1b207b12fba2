// Linux: the clocks, wake-ups and waits the event engine needs, and this
// process's resident memory.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

uint64_t self_rss_bytes() {
    FILE *f = std::fopen("/proc/self/statm", "re");
    unsigned long long size = 0, resident = 0;
    if (f != nullptr) {
        if (std::fscanf(f, "%llu %llu", &size, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

Waker::Waker() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Waker::~Waker() {
    if (fd_ >= 0) close(fd_);
}

void Waker::wake() {
    uint64_t one = 1;
    if (write(fd_, &one, sizeof one) < 0) {
        // EAGAIN: the counter is saturated, so the fd is readable anyway.
    }
}

void Waker::drain() {
    uint64_t v;
    while (read(fd_, &v, sizeof v) > 0) {
    }
}

int wait_readable(const int *fds, std::size_t n, int timeout_ms) {
    pollfd p[4];
    if (n > 4) n = 4;
    for (std::size_t i = 0; i < n; ++i) p[i] = {fds[i], POLLIN, 0};
    int rc = poll(p, n, timeout_ms);
    if (rc < 0) return errno == EINTR ? 0 : -1;
    return rc;
}

}  // namespace procmon::platform
