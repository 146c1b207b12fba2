// Linux ProcSource: reads a /proc tree through one directory fd with
// openat/getdents64 and the caller's reused buffers. Every system call goes
// through pm_sys() so tests can inject failures.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "platform/linux/parse.hpp"
#include "platform/linux/sys_ops.h"
#include "platform/platform.hpp"

namespace procmon::platform {
namespace {

constexpr std::size_t kStatLimit = 64 * 1024;       // a stat line is ~300 bytes
constexpr std::size_t kTextLimit = 1024 * 1024;     // status, io, cgroup
constexpr std::size_t kLinkLimit = 64 * 1024;       // exe, cwd

Read classify(int err) {
    switch (err) {
    case ENOENT:
    case ESRCH:
    case ENOTDIR: return Read::gone;
    case EACCES:
    case EPERM: return Read::denied;
    default: return Read::failed;
    }
}

// "<pid>/<name>" without snprintf: this runs several times per process.
struct PidPath {
    char text[48];
    PidPath(int32_t pid, const char *name) {
        char digits[12];
        int n = 0;
        uint32_t v = static_cast<uint32_t>(pid);
        do digits[n++] = static_cast<char>('0' + v % 10); while ((v /= 10) != 0);
        char *p = text;
        while (n > 0) *p++ = digits[--n];
        *p++ = '/';
        std::size_t len = std::strlen(name);
        std::memcpy(p, name, len + 1);
    }
};

// The kernel's getdents64 record (linux_dirent64); libc's dirent64 differs
// in name only, but this way no feature macro is needed.
struct KernelDirent {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[1];
};

// Calls visit(name) for each entry of the open directory fd. Read status.
template <class Visit>
Read for_each_dirent(int fd, Bytes &buf, Visit visit) {
    if (buf.size() < 32768) buf.resize(32768);
    for (;;) {
        ssize_t n = pm_sys()->getdents64(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return classify(errno);
        }
        if (n == 0) return Read::ok;
        for (ssize_t off = 0; off < n;) {
            const char *rec = buf.data() + off;
            unsigned short reclen;
            std::memcpy(&reclen, rec + offsetof(KernelDirent, reclen), sizeof reclen);
            if (reclen == 0) return Read::failed;
            visit(rec + offsetof(KernelDirent, name));
            off += reclen;
        }
    }
}

int open_retry(int dirfd, const char *path, int flags) {
    int fd;
    do fd = pm_sys()->openat(dirfd, path, flags | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) pm_sys()->close(fd);
    }
};

// Reads `path` under dirfd into buf[0, len). Reads at most limit + 1 bytes,
// so `len > limit` tells the caller there was more. `complete(data, len)`
// says the content is provably whole, so the final read() that returns 0
// can be skipped; a short read leaves it false and the loop goes on.
struct ToEof {
    bool operator()(const char *, std::size_t) const { return false; }
};
template <class Complete = ToEof>
Read read_file(int dirfd, const char *path, Bytes &buf, std::size_t &len, std::size_t limit,
               Complete complete = {}) {
    Fd f{open_retry(dirfd, path, O_RDONLY)};
    if (f.fd < 0) return classify(errno);
    len = 0;
    for (;;) {
        if (len == limit + 1) break;
        if (buf.size() - len < 256) {
            std::size_t grown = std::min(std::max<std::size_t>(4096, buf.size() * 2), limit + 1);
            if (grown > buf.size()) buf.resize(grown);
        }
        std::size_t want = std::min(buf.size() - len, limit + 1 - len);
        ssize_t r = pm_sys()->read(f.fd, buf.data() + len, want);
        if (r < 0) {
            if (errno == EINTR) continue;
            return classify(errno);
        }
        if (r == 0) break;
        len += static_cast<std::size_t>(r);
        if (complete(buf.data(), len)) break;
    }
    return Read::ok;
}

Read read_link(int dirfd, const char *path, Bytes &out) {
    if (out.size() < 256) out.resize(256);
    for (;;) {
        ssize_t r = pm_sys()->readlinkat(dirfd, path, out.data(), out.size());
        if (r < 0) {
            if (errno == EINTR) continue;
            return classify(errno);
        }
        if (static_cast<std::size_t>(r) < out.size()) {
            out.resize(static_cast<std::size_t>(r));
            return Read::ok;
        }
        if (out.size() >= kLinkLimit) return Read::failed;
        out.resize(out.size() * 2);
    }
}

int signal_failed(int32_t pid, int err) {
    if (err == ESRCH || err == ENOENT) return fail(PROCMON_ENOENT, err, "procmon_signal: no process %d", pid);
    return fail(status_from_errno(err), err, "procmon_signal: pid %d: %s", pid, std::strerror(err));
}

class LinuxProcSource final : public ProcSource {
public:
    LinuxProcSource(int rootfd, bool real_root, procfs::Units units, Arena *arena)
        : rootfd_(rootfd), real_root_(real_root), units_(units),
          arg_max_(static_cast<std::size_t>(std::max(sysconf(_SC_ARG_MAX), 4096L))), scratch_(ArenaAllocator<char>(arena)) {}
    ~LinuxProcSource() override { pm_sys()->close(rootfd_); }

    int list_pids(PidList &out) override {
        Fd dir{open_retry(rootfd_, ".", O_RDONLY | O_DIRECTORY)};
        if (dir.fd < 0) return fail(PROCMON_EIO, errno, "open proc root: %s", std::strerror(errno));
        out.clear();
        Read r = for_each_dirent(dir.fd, scratch_, [&](const char *name) {
            uint64_t pid = 0;
            const char *p = name;
            for (; *p >= '0' && *p <= '9' && pid <= INT32_MAX; ++p) pid = pid * 10 + static_cast<uint64_t>(*p - '0');
            if (*p == '\0' && p != name && pid > 0 && pid <= INT32_MAX) out.push_back(static_cast<int32_t>(pid));
        });
        if (r != Read::ok) return fail(PROCMON_EIO, errno, "list proc root: %s", std::strerror(errno));
        if (!std::is_sorted(out.begin(), out.end())) std::sort(out.begin(), out.end());
        return PROCMON_OK;
    }

    uint64_t boot_clock_ns() override {
        if (real_root_) return static_cast<uint64_t>(now_ns(Clock::boottime));
        std::size_t len = 0;
        uint64_t ns;
        if (read_file(rootfd_, "uptime", scratch_, len, 4096) == Read::ok &&
            procfs::parse_uptime_ns(scratch_.data(), len, ns))
            last_uptime_ns_ = ns;
        return last_uptime_ns_;
    }

    Read stat(int32_t pid, Stat &out, Bytes &scratch) override {
        std::size_t len = 0;
        Read r = read_file(rootfd_, PidPath(pid, "stat").text, scratch, len, kStatLimit, procfs::stat_complete);
        if (r != Read::ok) return r;
        if (len > kStatLimit || !procfs::parse_stat(scratch.data(), len, units_, out)) return Read::failed;
        if (out.pid != pid) return Read::failed;
        // Read after the task was reaped (opened while it lived): the kernel
        // then shows state X and ppid 0. The process is gone, not orphaned.
        if (out.state == 'X' || out.state == 'x') return Read::gone;
        return Read::ok;
    }

    Read status(int32_t pid, bool want_ctxsw, Status &out, Bytes &scratch) override {
        std::size_t len = 0;
        Read r = read_file(rootfd_, PidPath(pid, "status").text, scratch, len, kTextLimit,
                           [want_ctxsw](const char *b, std::size_t n) { return procfs::status_complete(b, n, want_ctxsw); });
        if (r != Read::ok) return r;
        procfs::parse_status(scratch.data(), std::min(len, kTextLimit), out);
        return Read::ok;
    }

    Read exe(int32_t pid, Bytes &out) override { return read_link(rootfd_, PidPath(pid, "exe").text, out); }
    Read cwd(int32_t pid, Bytes &out) override { return read_link(rootfd_, PidPath(pid, "cwd").text, out); }

    Read argv(int32_t pid, std::size_t cap, uint64_t expected, Bytes &out, bool &truncated) override {
        std::size_t limit = (cap == 0 || cap > arg_max_) ? arg_max_ : cap;
        std::size_t len = 0;
        // Whole when it is as long as the argument area and ends its last
        // argument; a rewritten block (setproctitle) reads on to EOF.
        Read r = read_file(rootfd_, PidPath(pid, "cmdline").text, out, len, limit,
                           [expected](const char *b, std::size_t n) { return n == expected && n > 0 && b[n - 1] == '\0'; });
        if (r != Read::ok) return r;
        truncated = len > limit;
        if (truncated) {
            len = limit;
            out[len - 1] = '\0';  // the cut argument stays, terminated
        } else if (len > 0 && out[len - 1] != '\0') {
            // A process that rewrote its arguments (setproctitle) may leave the
            // block unterminated: terminate it so every argument is.
            if (out.size() == len) out.push_back('\0');
            else out[len] = '\0';
            ++len;
        }
        out.resize(len);
        return Read::ok;
    }

    Read fd_count(int32_t pid, uint32_t &out, Bytes &scratch) override {
        Fd dir{open_retry(rootfd_, PidPath(pid, "fd").text, O_RDONLY | O_DIRECTORY)};
        if (dir.fd < 0) return classify(errno);
        uint32_t count = 0;
        Read r = for_each_dirent(dir.fd, scratch, [&](const char *name) { count += name[0] != '.'; });
        if (r != Read::ok) return r;
        out = count;
        return Read::ok;
    }

    Read run_count(int32_t pid, RunCount &out, Bytes &scratch) override {
        std::size_t len = 0;
        Read r = read_file(rootfd_, PidPath(pid, "schedstat").text, scratch, len, kStatLimit,
                           [](const char *b, std::size_t n) { return n > 0 && b[n - 1] == '\n'; });
        if (r != Read::ok) return r;
        return len <= kStatLimit && procfs::parse_schedstat(scratch.data(), len, out) ? Read::ok : Read::failed;
    }

    Read io(int32_t pid, Io &out, Bytes &scratch) override {
        std::size_t len = 0;
        Read r = read_file(rootfd_, PidPath(pid, "io").text, scratch, len, kTextLimit);
        if (r != Read::ok) return r;
        return procfs::parse_io(scratch.data(), std::min(len, kTextLimit), out) ? Read::ok : Read::failed;
    }

    Read cgroup(int32_t pid, Bytes &path, Bytes &container_id, Bytes &scratch) override {
        std::size_t len = 0;
        Read r = read_file(rootfd_, PidPath(pid, "cgroup").text, scratch, len, kTextLimit);
        if (r != Read::ok) return r;
        procfs::parse_cgroup(scratch.data(), std::min(len, kTextLimit), path, container_id);
        return Read::ok;
    }

    Read smaps(int32_t pid, Smaps &out, Bytes &scratch) override {
        std::size_t len = 0;
        Read r = read_file(rootfd_, PidPath(pid, "smaps_rollup").text, scratch, len, kTextLimit);
        if (r != Read::ok) return r;
        return procfs::parse_smaps_rollup(scratch.data(), std::min(len, kTextLimit), out) ? Read::ok : Read::failed;
    }

    int system(SystemInfo &out) override {
        std::size_t len = 0;
        Read r = read_file(rootfd_, "meminfo", scratch_, len, kTextLimit);
        if (r != Read::ok || !procfs::parse_meminfo(scratch_.data(), std::min(len, kTextLimit), out))
            return fail(PROCMON_EIO, r == Read::ok ? 0 : errno, "read meminfo: %s",
                        r == Read::ok ? "no MemTotal or MemFree line" : std::strerror(errno));
        r = read_file(rootfd_, "loadavg", scratch_, len, 4096);
        if (r != Read::ok || !procfs::parse_loadavg(scratch_.data(), std::min<std::size_t>(len, 4096), out.load))
            return fail(PROCMON_EIO, r == Read::ok ? 0 : errno, "read loadavg: %s",
                        r == Read::ok ? "malformed" : std::strerror(errno));
        const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        out.cpus = cpus > 0 ? static_cast<uint32_t>(cpus) : 1;
        out.boot_time_ns = units_.boot_time_ns;
        return PROCMON_OK;
    }

    uint64_t mem_total_bytes() override {
        static const char *const keys[] = {"MemTotal:"};
        std::size_t len = 0;
        uint64_t total = 0;
        if (read_file(rootfd_, "meminfo", scratch_, len, kTextLimit,
                      [](const char *b, std::size_t n) { return std::memchr(b, '\n', n) != nullptr; }) != Read::ok ||
            procfs::parse_kb_lines(scratch_.data(), std::min(len, kTextLimit), keys, 1, &total) == 0)
            return 0;
        return total;
    }

    int signal(int32_t pid, uint64_t start_ticks, int sig) override {
        if (!real_root_)
            return fail(PROCMON_EUNSUPPORTED, 0, "procmon_signal: the context reads a proc root other than /proc");
        // A pidfd pins the process that holds the pid now; if its start time
        // is the one asked for, the signal cannot reach a successor.
        // No pidfds (ENOSYS: before 5.3; EPERM: a seccomp profile that
        // refuses new calls): check the identity just before kill instead.
        // EINVAL: the pid names a thread, not a process.
        Fd pidfd{static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))};
        if (pidfd.fd < 0 && errno == EINVAL) return signal_failed(pid, ESRCH);
        if (pidfd.fd < 0 && errno != ENOSYS && errno != EPERM) return signal_failed(pid, errno);
        char line[4096];
        std::size_t len = 0;
        {
            Fd f{open_retry(rootfd_, PidPath(pid, "stat").text, O_RDONLY)};
            if (f.fd < 0) return signal_failed(pid, errno);
            ssize_t n;
            do n = pm_sys()->read(f.fd, line, sizeof line);
            while (n < 0 && errno == EINTR);
            if (n < 0) return signal_failed(pid, errno);
            if (n == 0) return signal_failed(pid, ESRCH);  // reaped while we opened it
            len = static_cast<std::size_t>(n);
        }
        Stat st;
        if (!procfs::parse_stat(line, len, units_, st) || st.pid != pid)
            return fail(PROCMON_EIO, 0, "procmon_signal: /proc/%d/stat does not parse", pid);
        if (st.start_ticks != start_ticks)
            return fail(PROCMON_ENOENT, ESRCH,
                        "procmon_signal: pid %d now belongs to another process (started at tick %llu, not %llu)", pid,
                        static_cast<unsigned long long>(st.start_ticks), static_cast<unsigned long long>(start_ticks));
        const long rc = pidfd.fd >= 0 ? ::syscall(SYS_pidfd_send_signal, pidfd.fd, sig, nullptr, 0) : ::kill(pid, sig);
        return rc == 0 ? PROCMON_OK : signal_failed(pid, errno);
    }

    // Set at open, read-only after: safe from the reader threads.
    const int rootfd_;
    const bool real_root_;
    const procfs::Units units_;
    const std::size_t arg_max_;
    // list_pids and boot_clock_ns only: the enumerating thread, never a reader.
    Bytes scratch_;
    uint64_t last_uptime_ns_ = 0;
};

}  // namespace

int ProcSource::open(const char *root, Arena *arena, std::unique_ptr<ProcSource> &out) {
    if (root == nullptr) root = "/proc";
    const bool real_root = std::strcmp(root, "/proc") == 0;
    int fd = open_retry(AT_FDCWD, root, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        int err = errno;
        return fail(status_from_errno(err), err, "open proc root %s: %s", root, std::strerror(err));
    }

    procfs::Units units{};
    long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    units.ns_per_tick = hz > 0 ? 1000000000u / static_cast<uint64_t>(hz) : 10000000u;
    units.page_size = page > 0 ? static_cast<uint64_t>(page) : 4096;

    if (real_root) {
        // ns precision, where btime has whole seconds
        const int64_t diff = now_ns(Clock::realtime) - now_ns(Clock::boottime);
        units.boot_time_ns = diff > 0 ? static_cast<uint64_t>(diff) : 0;
    } else {
        Bytes buf{ArenaAllocator<char>(arena)};
        std::size_t len = 0;
        uint64_t btime = 0;
        Read r = read_file(fd, "stat", buf, len, kTextLimit);
        if (r != Read::ok || !procfs::parse_btime(buf.data(), std::min(len, kTextLimit), btime)) {
            int err = r == Read::ok ? 0 : errno;
            pm_sys()->close(fd);
            return fail(PROCMON_EIO, err, "read %s/stat: no btime line, so start times cannot be known", root);
        }
        units.boot_time_ns = btime * 1000000000u;
    }
    out = std::make_unique<LinuxProcSource>(fd, real_root, units, arena);
    return PROCMON_OK;
}

}  // namespace procmon::platform
