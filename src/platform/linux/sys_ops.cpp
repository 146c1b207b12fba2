#include "platform/linux/sys_ops.h"

#include <dirent.h>
#include <fcntl.h>
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

const pm_sys_ops real_ops = {real_openat, real_read, real_close, real_readlinkat, real_getdents64, real_recvmsg, real_bind,
                             real_write,  real_fdatasync};
const pm_sys_ops *current_ops = &real_ops;

}  // namespace

extern "C" const pm_sys_ops *pm_sys(void) { return current_ops; }
extern "C" const pm_sys_ops *pm_sys_default(void) { return &real_ops; }
extern "C" void pm_sys_set(const pm_sys_ops *ops) { current_ops = ops ? ops : &real_ops; }
