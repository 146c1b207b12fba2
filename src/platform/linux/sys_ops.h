/*
 * The system calls the Linux collector makes, behind one table so tests can
 * inject failures (EACCES, ENOENT, ESRCH, EINTR, short reads) into every file
 * the collector touches, and into the journal's writes (ENOSPC, EIO).
 * Internal: not installed, not exported from the shared library; the fault
 * tests link the static library.
 */
#ifndef PROCMON_SYS_OPS_H
#define PROCMON_SYS_OPS_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pm_sys_ops {
    int (*openat)(int dirfd, const char *path, int flags);
    ssize_t (*read)(int fd, void *buf, size_t count);
    int (*close)(int fd);
    ssize_t (*readlinkat)(int dirfd, const char *path, char *buf, size_t size);
    ssize_t (*getdents64)(int fd, void *buf, size_t count);
    ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
    int (*bind)(int fd, const struct sockaddr *addr, socklen_t len);
    /* the journal's writes (ENOSPC, EIO) */
    ssize_t (*write)(int fd, const void *buf, size_t count);
    int (*fdatasync)(int fd);
    /* since 0.3: every other call the journal makes (src/platform/linux/files.cpp),
     * so a test can fail each one. A table given to pm_sys_set with these NULL
     * (written before they existed) gets the real calls for them. */
    int (*openat_mode)(int dirfd, const char *path, int flags, mode_t mode); /* with O_CREAT */
    int (*fstat)(int fd, struct stat *st);
    int (*fstatat)(int dirfd, const char *path, struct stat *st, int flags);
    int (*mkdirat)(int dirfd, const char *path, mode_t mode);
    int (*flock)(int fd, int operation);
    ssize_t (*pread)(int fd, void *buf, size_t count, off_t offset);
    int (*fsync)(int fd); /* the journal directory's */
    int (*ftruncate)(int fd, off_t length);
    off_t (*lseek)(int fd, off_t offset, int whence);
    int (*unlinkat)(int dirfd, const char *path, int flags);
    int (*posix_fadvise)(int fd, off_t offset, off_t len, int advice);
    int (*inotify_init1)(int flags);
    int (*inotify_add_watch)(int fd, const char *path, uint32_t mask);
};

/* The table in force; never NULL. */
const struct pm_sys_ops *pm_sys(void);
/* The real system calls. */
const struct pm_sys_ops *pm_sys_default(void);
/* Replace the table (NULL restores the real one); it is copied, NULL members
 * taking the real calls. Tests only: threads calling through the table
 * meanwhile see the old or the new one; two replacements in a row must not
 * overlap a call still running through the first (it is rewritten). */
void pm_sys_set(const struct pm_sys_ops *ops);

#ifdef __cplusplus
}
#endif

#endif
