// Linux: the journal's files and directories, every call through the pm_sys
// table so a test can fail any one of them.
#include "platform/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <cerrno>

#include "platform/linux/sys_ops.h"

namespace procmon::platform {
namespace {

int fd_of(const File &f) { return static_cast<int>(f.native()); }

File adopt_fd(int fd) { return fd >= 0 ? File::adopt(fd) : File(); }

// Closes fd keeping errno (what made us close it).
void close_keeping_errno(int fd) {
    const int err = errno;
    pm_sys()->close(fd);
    errno = err;
}

}  // namespace

File &File::operator=(File &&o) noexcept {
    if (this != &o) {
        close();
        native_ = o.native_;
        o.native_ = -1;
    }
    return *this;
}

void File::close() {
    if (native_ >= 0) pm_sys()->close(static_cast<int>(native_));
    native_ = -1;
}

// ------------------------------------------------------------ directories

bool make_directory(const char *path) { return pm_sys()->mkdirat(AT_FDCWD, path, 0755) == 0 || errno == EEXIST; }

File open_directory(const char *path) {
    return adopt_fd(pm_sys()->openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

Kind kind_of(const File &dir, const char *name) {
    struct stat st {};
    if (pm_sys()->fstatat(fd_of(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? Kind::gone : Kind::failed;
    return S_ISREG(st.st_mode) ? Kind::regular : Kind::other;
}

bool list_directory(const File &dir, const std::function<bool(const char *name)> &wanted, std::vector<DirEntry> &out) {
    // A descriptor of its own: getdents64 reads from the fd's position.
    const int fd = pm_sys()->openat(fd_of(dir), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    alignas(8) char buf[16384];
    for (;;) {
        const ssize_t n = pm_sys()->getdents64(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close_keeping_errno(fd);
            return false;
        }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            const auto *d = reinterpret_cast<const dirent64 *>(buf + off);
            off += d->d_reclen;
            if (!wanted(d->d_name)) continue;
            unsigned char type = d->d_type;
            if (type == DT_UNKNOWN) {  // file systems that do not say: ask (a vanished entry is not listed)
                struct stat st {};
                if (pm_sys()->fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
                type = S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
            }
            out.push_back({d->d_name, type == DT_REG});
        }
    }
    pm_sys()->close(fd);
    return true;
}

bool sync_directory(const File &dir) { return pm_sys()->fsync(fd_of(dir)) == 0; }

bool unlink(const File &dir, const char *name) { return pm_sys()->unlinkat(fd_of(dir), name, 0) == 0; }

DirectoryWatch::DirectoryWatch(const char *path) {
    const int fd = pm_sys()->inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return;
    file_ = File::adopt(fd);
    if (pm_sys()->inotify_add_watch(fd, path, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) file_.close();
}

void DirectoryWatch::drain() {
    if (!file_.valid()) return;
    char events[4096];
    while (pm_sys()->read(fd_of(file_), events, sizeof events) > 0) {
    }
}

// ------------------------------------------------------------ files

Opened open_regular(const File &dir, const char *name, Access access, File &out) {
    // O_NONBLOCK: a FIFO (swapped in since a listing) must not block the
    // open; O_NOFOLLOW: a symlink fails with ELOOP; a socket with ENXIO.
    const int flags = (access == Access::read ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    const int fd = access == Access::read_write_create ? pm_sys()->openat_mode(fd_of(dir), name, flags | O_CREAT, 0644)
                          : pm_sys()->openat(fd_of(dir), name, flags);
    if (fd < 0) {
        if (errno == ENOENT) return Opened::gone;
        if (errno == ELOOP || errno == ENXIO || errno == EISDIR || errno == ENODEV) return Opened::not_regular;
        return Opened::failed;
    }
    struct stat st {};
    const bool stated = pm_sys()->fstat(fd, &st) == 0;
    if (stated && S_ISREG(st.st_mode)) {
        out = File::adopt(fd);
        return Opened::ok;
    }
    close_keeping_errno(fd);
    return stated ? Opened::not_regular : Opened::failed;
}

File create_new(const File &dir, const char *name) {
    return adopt_fd(pm_sys()->openat_mode(fd_of(dir), name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
}

Lock lock_exclusive(const File &f) {
    if (pm_sys()->flock(fd_of(f), LOCK_EX | LOCK_NB) == 0) return Lock::held;
    return errno == EWOULDBLOCK ? Lock::busy : Lock::failed;
}

namespace {
void info_from(const struct stat &st, FileInfo &out) {
    out.size = static_cast<uint64_t>(st.st_size);
    out.modified_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000u + static_cast<uint64_t>(st.st_mtim.tv_nsec);
    out.device = st.st_dev;
    out.id = st.st_ino;
}
}  // namespace

bool info(const File &f, FileInfo &out) {
    struct stat st {};
    if (pm_sys()->fstat(fd_of(f), &st) != 0) return false;
    info_from(st, out);
    return true;
}

bool info(const File &dir, const char *name, FileInfo &out) {
    struct stat st {};
    if (pm_sys()->fstatat(fd_of(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    info_from(st, out);
    return true;
}

int64_t read_at(const File &f, void *buf, std::size_t n, uint64_t offset) {
    for (;;) {
        const ssize_t r = pm_sys()->pread(fd_of(f), buf, n, static_cast<off_t>(offset));
        if (r >= 0 || errno != EINTR) return r;
    }
}

int64_t read_some(const File &f, void *buf, std::size_t n) {
    for (;;) {
        const ssize_t r = pm_sys()->read(fd_of(f), buf, n);
        if (r >= 0 || errno != EINTR) return r;
    }
}

bool write_all(const File &f, const void *p, std::size_t n) {
    const char *at = static_cast<const char *>(p);
    while (n > 0) {
        const ssize_t w = pm_sys()->write(fd_of(f), at, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        at += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

bool datasync(const File &f) { return pm_sys()->fdatasync(fd_of(f)) == 0; }

bool truncate(const File &f, uint64_t size) {
    // No O_APPEND on the journal's files: the position moves back by hand.
    return pm_sys()->ftruncate(fd_of(f), static_cast<off_t>(size)) == 0 && pm_sys()->lseek(fd_of(f), 0, SEEK_END) >= 0;
}

void will_read(const File &f, uint64_t offset) {
    pm_sys()->posix_fadvise(fd_of(f), 0, 0, POSIX_FADV_SEQUENTIAL);
    pm_sys()->posix_fadvise(fd_of(f), static_cast<off_t>(offset), 0, POSIX_FADV_WILLNEED);
}

bool boot_id(unsigned char out[16]) {
    File f = adopt_fd(pm_sys()->openat(AT_FDCWD, "/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC));
    if (!f.valid()) return false;
    char text[64] = {};
    const int64_t n = read_some(f, text, sizeof text - 1);
    int nibble = 0;  // "xxxxxxxx-xxxx-...": 32 hex digits and dashes
    for (int64_t i = 0; i < n && nibble < 32; ++i) {
        const char c = text[i];
        const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) continue;
        out[nibble / 2] = static_cast<unsigned char>(out[nibble / 2] | (nibble % 2 ? v : v << 4));
        ++nibble;
    }
    return nibble == 32;
}

}  // namespace procmon::platform
