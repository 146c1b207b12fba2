// Linux: the clocks, wake-ups and waits the event engine needs, this
// process's resources, and another's open-files limit.
#include <dirent.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

namespace {
// statm's size and resident pages, in bytes; false when unreadable.
bool read_statm(uint64_t &virtual_bytes, uint64_t &rss_bytes) {
    FILE *f = std::fopen("/proc/self/statm", "re");
    if (f == nullptr) return false;
    unsigned long long size = 0, resident = 0;
    const bool ok = std::fscanf(f, "%llu %llu", &size, &resident) == 2;
    std::fclose(f);
    const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    virtual_bytes = ok ? size * page : 0;
    rss_bytes = ok ? resident * page : 0;
    return ok;
}
}  // namespace

// On every procmon_stats_get (top's refresh, procmond's status): statm only.
uint64_t self_rss_bytes() {
    uint64_t virtual_bytes = 0, rss_bytes = 0;
    read_statm(virtual_bytes, rss_bytes);
    return rss_bytes;
}

SelfResources self_resources() {
    SelfResources r;
    read_statm(r.virtual_bytes, r.rss_bytes);
    rusage ru{};
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        const auto ns = [](const timeval &tv) { return uint64_t(tv.tv_sec) * 1000000000 + uint64_t(tv.tv_usec) * 1000; };
        r.cpu_ns = ns(ru.ru_utime) + ns(ru.ru_stime);
    }
    rlimit nofile{};
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0)
        r.open_files_limit = nofile.rlim_cur == RLIM_INFINITY ? UINT64_MAX : uint64_t(nofile.rlim_cur);
    if (DIR *d = opendir("/proc/self/fd")) {
        uint64_t n = 0;
        while (const dirent *e = readdir(d))
            if (e->d_name[0] != '.') ++n;
        closedir(d);
        r.open_files = n > 0 ? n - 1 : 0;  // not the one reading the directory
    }
    return r;
}

uint64_t open_files_limit(int32_t pid) {
    char path[48];
    std::snprintf(path, sizeof path, "/proc/%d/limits", pid);
    FILE *f = std::fopen(path, "re");
    if (f == nullptr) return 0;
    char line[256];
    uint64_t limit = 0;  // "unlimited" does not scan: none
    while (std::fgets(line, sizeof line, f) != nullptr) {
        if (std::strncmp(line, "Max open files", 14) != 0) continue;
        unsigned long long soft = 0;
        if (std::sscanf(line + 14, "%llu", &soft) == 1) limit = soft;
        break;
    }
    std::fclose(f);
    return limit;
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

uint64_t ns_per_start_tick() {
    const long hz = sysconf(_SC_CLK_TCK);  // the unit of /proc/PID/stat's starttime
    return hz > 0 ? 1000000000u / static_cast<uint64_t>(hz) : 0;
}

}  // namespace procmon::platform
