/*
 * The system calls the Linux collector makes, behind one table so tests can
 * inject failures (EACCES, ENOENT, ESRCH, EINTR, short reads) into every file
 * the collector touches, and into the journal's writes (ENOSPC, EIO).
 * Internal: not installed, not exported from the shared library; the fault
 * tests link the static library.
 */
#ifndef PROCMON_SYS_OPS_H
#define PROCMON_SYS_OPS_H

#include <sys/socket.h>
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
};

/* The table in force; never NULL. */
const struct pm_sys_ops *pm_sys(void);
/* The real system calls. */
const struct pm_sys_ops *pm_sys_default(void);
/* Replace the table (NULL restores the real one). Not thread-safe: tests only. */
void pm_sys_set(const struct pm_sys_ops *ops);

#ifdef __cplusplus
}
#endif

#endif
