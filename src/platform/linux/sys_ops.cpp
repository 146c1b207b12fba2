#include "platform/linux/sys_ops.h"

#include <atomic>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace {

int real_openat(int dirfd, const char *path, int flags) { return ::openat(dirfd, path, flags); }
ssize_t real_read(int fd, void *buf, size_t count) { return ::read(fd, buf, count); }
int real_close(int fd) { return ::close(fd); }
ssize_t real_readlinkat(int dirfd, const char *path, char *buf, size_t size) {
    return ::readlinkat(dirfd, path, buf, size);
}
ssize_t real_getdents64(int fd, void *buf, size_t count) { return ::getdents64(fd, buf, count); }
ssize_t real_recvmsg(int fd, msghdr *msg, int flags) { return ::recvmsg(fd, msg, flags); }
int real_bind(int fd, const sockaddr *addr, socklen_t len) { return ::bind(fd, addr, len); }
ssize_t real_write(int fd, const void *buf, size_t count) { return ::write(fd, buf, count); }
int real_fdatasync(int fd) { return ::fdatasync(fd); }
int real_openat_mode(int dirfd, const char *path, int flags, mode_t mode) { return ::openat(dirfd, path, flags, mode); }
int real_fstat(int fd, struct stat *st) { return ::fstat(fd, st); }
int real_fstatat(int dirfd, const char *path, struct stat *st, int flags) { return ::fstatat(dirfd, path, st, flags); }
int real_mkdirat(int dirfd, const char *path, mode_t mode) { return ::mkdirat(dirfd, path, mode); }
int real_flock(int fd, int operation) { return ::flock(fd, operation); }
ssize_t real_pread(int fd, void *buf, size_t count, off_t offset) { return ::pread(fd, buf, count, offset); }
int real_fsync(int fd) { return ::fsync(fd); }
int real_ftruncate(int fd, off_t length) { return ::ftruncate(fd, length); }
off_t real_lseek(int fd, off_t offset, int whence) { return ::lseek(fd, offset, whence); }
int real_unlinkat(int dirfd, const char *path, int flags) { return ::unlinkat(dirfd, path, flags); }
int real_posix_fadvise(int fd, off_t offset, off_t len, int advice) { return ::posix_fadvise(fd, offset, len, advice); }
int real_inotify_init1(int flags) { return ::inotify_init1(flags); }
int real_inotify_add_watch(int fd, const char *path, uint32_t mask) { return ::inotify_add_watch(fd, path, mask); }

const pm_sys_ops real_ops = {real_openat,        real_read,         real_close,     real_readlinkat,
                             real_getdents64,    real_recvmsg,      real_bind,      real_write,
                             real_fdatasync,     real_openat_mode,  real_fstat,     real_fstatat,
                             real_mkdirat,       real_flock,        real_pread,     real_fsync,
                             real_ftruncate,     real_lseek,        real_unlinkat,  real_posix_fadvise,
                             real_inotify_init1, real_inotify_add_watch};
// Two slots: a table replacing a replacement is written into the one not in
// force, so threads calling through the old one never see it half written.
pm_sys_ops given[2];
std::atomic<const pm_sys_ops *> current_ops{&real_ops};  // read by every thread, set by tests

// A member the caller's table leaves NULL takes the real call.
template <class F>
void or_real(F &member, F real) {
    if (member == nullptr) member = real;
}

}  // namespace

extern "C" const pm_sys_ops *pm_sys(void) { return current_ops.load(std::memory_order_acquire); }
extern "C" const pm_sys_ops *pm_sys_default(void) { return &real_ops; }
extern "C" void pm_sys_set(const pm_sys_ops *ops) {
    if (ops == nullptr) {
        current_ops.store(&real_ops, std::memory_order_release);
        return;
    }
    pm_sys_ops &g = current_ops.load(std::memory_order_relaxed) == &given[0] ? given[1] : given[0];
    g = *ops;
    const pm_sys_ops &r = real_ops;
    or_real(g.openat, r.openat), or_real(g.read, r.read), or_real(g.close, r.close);
    or_real(g.readlinkat, r.readlinkat), or_real(g.getdents64, r.getdents64), or_real(g.recvmsg, r.recvmsg);
    or_real(g.bind, r.bind), or_real(g.write, r.write), or_real(g.fdatasync, r.fdatasync);
    or_real(g.openat_mode, r.openat_mode), or_real(g.fstat, r.fstat), or_real(g.fstatat, r.fstatat);
    or_real(g.mkdirat, r.mkdirat), or_real(g.flock, r.flock), or_real(g.pread, r.pread), or_real(g.fsync, r.fsync);
    or_real(g.ftruncate, r.ftruncate), or_real(g.lseek, r.lseek), or_real(g.unlinkat, r.unlinkat);
    or_real(g.posix_fadvise, r.posix_fadvise), or_real(g.inotify_init1, r.inotify_init1);
    or_real(g.inotify_add_watch, r.inotify_add_watch);
    current_ops.store(&g, std::memory_order_release);
}
