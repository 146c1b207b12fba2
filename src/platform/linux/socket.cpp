// platform/socket.hpp on Linux: AF_UNIX SOCK_STREAM, every socket
// non-blocking and close-on-exec, sends with MSG_NOSIGNAL (a peer that went
// away is Io::closed, never a SIGPIPE), peers known by SO_PEERCRED. The
// calls the pm_sys table has (bind, close, fstatat, unlinkat) go through it
// so the fault tests can fail them; the others are made directly.
#include "platform/socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "platform/linux/sys_ops.h"

namespace procmon::platform {
namespace {

int fd_of(WaitHandle h) { return static_cast<int>(h.native()); }

// The address of path, or EINVAL when it does not fit: sun_path holds 107
// bytes and its NUL, and a longer path would be cut without a word.
int address_of(const std::string &path, sockaddr_un &addr) {
    addr = sockaddr_un{};
    addr.sun_family = AF_UNIX;
    if (path.empty()) return fail(PROCMON_EINVAL, 0, "a Unix socket path is empty");
    if (path.size() >= sizeof addr.sun_path)
        return fail(PROCMON_EINVAL, ENAMETOOLONG, "socket path %s is %zu bytes, longer than the %zu a Unix socket address holds",
                    path.c_str(), path.size(), sizeof addr.sun_path - 1);
    if (path.find('\0') != std::string::npos) return fail(PROCMON_EINVAL, 0, "a Unix socket path holds a NUL byte");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return PROCMON_OK;
}

int new_socket(int flags, const std::string &path, int &fd) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
    if (fd < 0) return fail(status_from_errno(errno), errno, "socket for %s: %s", path.c_str(), std::strerror(errno));
    return PROCMON_OK;
}

// Closes fd on every path out of the function that opened it, unless it
// was handed to a Socket.
struct FdGuard {
    int fd = -1;
    ~FdGuard() {
        if (fd >= 0) pm_sys()->close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

// Whether a daemon answers at path: a connect that succeeds (or finds its
// backlog full) says yes; ECONNREFUSED says the file is a dead daemon's.
// PROCMON_OK: nobody answers; EBUSY: someone does; else why it is unknown.
int check_nobody_listens(const std::string &path, const sockaddr_un &addr) {
    FdGuard probe;
    if (int rc = new_socket(SOCK_NONBLOCK, path, probe.fd); rc != PROCMON_OK) return rc;
    if (connect(probe.fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) == 0 || errno == EAGAIN)
        return fail(PROCMON_EBUSY, 0, "another daemon listens at %s", path.c_str());
    if (errno == ECONNREFUSED) return PROCMON_OK;
    return fail(status_from_errno(errno), errno, "connect %s (to see whether a daemon listens there): %s", path.c_str(),
                std::strerror(errno));
}

// Sets the mode and group of the socket file bound as (dev, ino) at path.
// As root, a chmod or chown that followed a symlink put there would change
// whatever it names: so the path must still be that socket (lstat), and
// the calls do not follow a symlink swapped in after the check (fchmodat's
// AT_SYMLINK_NOFOLLOW then fails with EOPNOTSUPP; lchown's never follows).
int apply_mode(const std::string &path, uint32_t mode, int64_t gid, uint64_t dev, uint64_t ino) {
    struct stat st;
    if (pm_sys()->fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fail(status_from_errno(errno), errno, "stat %s: %s", path.c_str(), std::strerror(errno));
    if (!S_ISSOCK(st.st_mode) || st.st_dev != dev || st.st_ino != ino)
        return fail(PROCMON_EPERM, 0, "%s is %s, not the socket this daemon bound: its mode and owner are left alone",
                    path.c_str(), S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISSOCK(st.st_mode) ? "another socket" : "not a socket");
    if (fchmodat(AT_FDCWD, path.c_str(), static_cast<mode_t>(mode), AT_SYMLINK_NOFOLLOW) != 0) {
        const int err = errno;
        return fail(err == EOPNOTSUPP ? PROCMON_EPERM : status_from_errno(err), err, "chmod %s to %o: %s%s", path.c_str(),
                    mode, std::strerror(err), err == EOPNOTSUPP ? " (a symbolic link now)" : "");
    }
    if (gid >= 0 && fchownat(AT_FDCWD, path.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(gid), AT_SYMLINK_NOFOLLOW) != 0)
        return fail(status_from_errno(errno), errno, "chown %s to group %lld: %s", path.c_str(), static_cast<long long>(gid),
                    std::strerror(errno));
    return PROCMON_OK;
}

// Milliseconds left of a deadline taken from now_ns(monotonic); -1 = none.
int ms_left(int64_t deadline_ns) {
    if (deadline_ns < 0) return -1;
    const int64_t left = deadline_ns - now_ns(Clock::monotonic);
    return left <= 0 ? 0 : static_cast<int>((left + 999'999) / 1'000'000);
}

int64_t deadline_after(int timeout_ms) {
    return timeout_ms < 0 ? -1 : now_ns(Clock::monotonic) + int64_t{timeout_ms} * 1'000'000;
}

}  // namespace

// ------------------------------------------------------------------ Socket

Socket::~Socket() { close(); }

Socket::Socket(Socket &&o) noexcept
    : handle_(std::exchange(o.handle_, WaitHandle{})),
      file_dev_(std::exchange(o.file_dev_, 0)),
      file_ino_(std::exchange(o.file_ino_, 0)) {}

Socket &Socket::operator=(Socket &&o) noexcept {
    if (this != &o) {
        close();
        handle_ = std::exchange(o.handle_, WaitHandle{});
        file_dev_ = std::exchange(o.file_dev_, 0);
        file_ino_ = std::exchange(o.file_ino_, 0);
    }
    return *this;
}

void Socket::close() {
    if (handle_.valid()) pm_sys()->close(fd_of(handle_));
    handle_ = WaitHandle{};
}

Socket::Io Socket::send_some(const void *p, std::size_t size, std::size_t &n) {
    n = 0;
    if (size == 0) return Io::ok;
    for (;;) {
        const ssize_t sent = send(fd_of(handle_), p, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent >= 0) {
            n = static_cast<std::size_t>(sent);
            return Io::ok;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::would_block;
        if (errno == EPIPE || errno == ECONNRESET) return Io::closed;
        fail(status_from_errno(errno), errno, "send on a Unix socket: %s", std::strerror(errno));
        return Io::failed;
    }
}

Socket::Io Socket::recv_some(void *p, std::size_t size, std::size_t &n) {
    n = 0;
    if (size == 0) return Io::ok;
    for (;;) {
        const ssize_t got = recv(fd_of(handle_), p, size, MSG_DONTWAIT);
        if (got > 0) {
            n = static_cast<std::size_t>(got);
            return Io::ok;
        }
        if (got == 0) return Io::closed;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::would_block;
        if (errno == ECONNRESET) return Io::closed;
        fail(status_from_errno(errno), errno, "recv on a Unix socket: %s", std::strerror(errno));
        return Io::failed;
    }
}

int Socket::send_all(const void *p, std::size_t size, int timeout_ms) {
    const int64_t deadline = deadline_after(timeout_ms);
    const auto *at = static_cast<const unsigned char *>(p);
    while (size > 0) {
        std::size_t n = 0;
        switch (send_some(at, size, n)) {
        case Io::ok:
            at += n;
            size -= n;
            continue;
        case Io::closed: return fail(PROCMON_ECLOSED, EPIPE, "send on a Unix socket: the peer closed the connection");
        case Io::failed: return PROCMON_EIO;
        case Io::would_block: break;
        }
        const int left = ms_left(deadline);
        if (left == 0) return fail(PROCMON_ETIMEDOUT, ETIMEDOUT, "send on a Unix socket: the peer read nothing for %d ms", timeout_ms);
        pollfd w{fd_of(handle_), POLLOUT, 0};
        if (poll(&w, 1, left) < 0 && errno != EINTR)
            return fail(PROCMON_EIO, errno, "poll on a Unix socket: %s", std::strerror(errno));
    }
    return PROCMON_OK;
}

int Socket::peer(PeerCredentials &out) const {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd_of(handle_), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return fail(status_from_errno(errno), errno, "SO_PEERCRED: %s", std::strerror(errno));
    out.pid = cred.pid;
    out.uid = cred.uid;
    out.gid = cred.gid;
    return PROCMON_OK;
}

// ------------------------------------------------------------------ listen

int listen_local(const std::string &path, uint32_t mode, int64_t gid, int backlog, Socket &out) {
    sockaddr_un addr;
    if (int rc = address_of(path, addr); rc != PROCMON_OK) return rc;

    struct stat st;
    if (pm_sys()->fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return fail(PROCMON_EPERM, EEXIST, "%s exists and is not a socket: not replacing it", path.c_str());
        if (int rc = check_nobody_listens(path, addr); rc != PROCMON_OK) return rc;
        if (pm_sys()->unlinkat(AT_FDCWD, path.c_str(), 0) != 0 && errno != ENOENT)
            return fail(status_from_errno(errno), errno, "unlink the stale socket %s: %s", path.c_str(), std::strerror(errno));
    } else if (errno != ENOENT) {
        return fail(status_from_errno(errno), errno, "stat %s: %s", path.c_str(), std::strerror(errno));
    }

    // The file must have its mode and group before anyone can connect. A
    // socket file is created by bind with the process's umask (process-wide:
    // not ours to change under other threads), and a connect to a socket
    // that is bound but not yet listening is refused. So: bind, chmod and
    // chown the file, and only then listen. Binding to a temporary name and
    // renaming would also hide the window in which a client sees
    // ECONNREFUSED, but the temporary name must fit sun_path too, shortening
    // every allowed path; the window is the daemon's own start-up.
    FdGuard fd;
    if (int rc = new_socket(SOCK_NONBLOCK, path, fd.fd); rc != PROCMON_OK) return rc;
    if (pm_sys()->bind(fd.fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) != 0)
        return fail(status_from_errno(errno), errno, "bind %s: %s", path.c_str(), std::strerror(errno));
    struct stat bound;
    int rc = PROCMON_OK;
    if (pm_sys()->fstatat(AT_FDCWD, path.c_str(), &bound, AT_SYMLINK_NOFOLLOW) != 0)
        rc = fail(status_from_errno(errno), errno, "stat %s after bind: %s", path.c_str(), std::strerror(errno));
    if (rc == PROCMON_OK) rc = apply_mode(path, mode, gid, bound.st_dev, bound.st_ino);
    if (rc == PROCMON_OK && listen(fd.fd, backlog) != 0)
        rc = fail(status_from_errno(errno), errno, "listen on %s: %s", path.c_str(), std::strerror(errno));
    if (rc != PROCMON_OK) {
        const int saved_errno = errno;
        pm_sys()->unlinkat(AT_FDCWD, path.c_str(), 0);  // ours, just made: leave nothing behind
        errno = saved_errno;
        return rc;
    }
    out = Socket(WaitHandle::from_native(fd.release()));
    out.file_dev_ = bound.st_dev;
    out.file_ino_ = bound.st_ino;
    return PROCMON_OK;
}

int set_socket_file_mode(const Socket &listener, const std::string &path, uint32_t mode, int64_t gid) {
    return apply_mode(path, mode, gid, listener.file_dev_, listener.file_ino_);
}

int accept_local(const Socket &listener, Socket &out) {
    for (;;) {
        const int fd = accept4(fd_of(listener.handle_), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            out = Socket(WaitHandle::from_native(fd));
            return PROCMON_OK;
        }
        if (errno == EINTR) continue;
        // ECONNABORTED: the client left before it was accepted; none waits.
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
            return fail(PROCMON_EAGAIN, errno, "accept: no connection waits");
        return fail(status_from_errno(errno), errno, "accept: %s", std::strerror(errno));
    }
}

// ----------------------------------------------------------------- connect

int connect_local(const std::string &path, int timeout_ms, Socket &out) {
    sockaddr_un addr;
    if (int rc = address_of(path, addr); rc != PROCMON_OK) return rc;
    // A Unix socket's connect completes at once or, when the listener's
    // backlog is full, fails with EAGAIN (non-blocking) or waits for room
    // (blocking, bounded by SO_SNDTIMEO). So the connect blocks with the
    // timeout as its send timeout, and the socket turns non-blocking after.
    FdGuard fd;
    if (int rc = new_socket(0, path, fd.fd); rc != PROCMON_OK) return rc;
    const int64_t deadline = deadline_after(timeout_ms);
    for (;;) {
        const int left = ms_left(deadline);
        timeval tv{left / 1000, (left % 1000) * 1000};
        if (left > 0 && setsockopt(fd.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
            return fail(PROCMON_EIO, errno, "SO_SNDTIMEO on a socket for %s: %s", path.c_str(), std::strerror(errno));
        if (left == 0) fcntl(fd.fd, F_SETFL, O_NONBLOCK);  // no time to wait: refuse a full backlog at once
        if (connect(fd.fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) == 0) break;
        const int err = errno;
        if (err == EINTR) continue;
        switch (err) {
        case ENOENT:
            return fail(PROCMON_ENOENT, err, "connect %s: %s (is procmond running?)", path.c_str(), std::strerror(err));
        case EACCES:
        case EPERM:
            return fail(PROCMON_EPERM, err, "connect %s: %s (the socket file's mode or group does not let this user in)",
                        path.c_str(), std::strerror(err));
        case ECONNREFUSED:
            return fail(PROCMON_EIO, err, "connect %s: %s: nobody listens there: a daemon that died?", path.c_str(),
                        std::strerror(err));
        case EAGAIN:
            return fail(PROCMON_ETIMEDOUT, ETIMEDOUT, "connect %s: the daemon did not accept within %d ms (its backlog is full)",
                        path.c_str(), timeout_ms);
        default:
            return fail(status_from_errno(err), err, "connect %s: %s", path.c_str(), std::strerror(err));
        }
    }
    const timeval none{};
    setsockopt(fd.fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    if (fcntl(fd.fd, F_SETFL, O_NONBLOCK) != 0)
        return fail(PROCMON_EIO, errno, "make the socket for %s non-blocking: %s", path.c_str(), std::strerror(errno));
    out = Socket(WaitHandle::from_native(fd.release()));
    return PROCMON_OK;
}

// -------------------------------------------------------------------- wait

Wait wait_ready(Watch *watches, std::size_t n, int timeout_ms) {
    // A daemon waits on every connection at once: as many as it has.
    thread_local std::vector<pollfd> polled;
    polled.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const short events = static_cast<short>((watches[i].want_read ? POLLIN : 0) | (watches[i].want_write ? POLLOUT : 0));
        polled[i] = {watches[i].handle.valid() ? fd_of(watches[i].handle) : -1, events, 0};  // poll skips -1
        watches[i].readable = watches[i].writable = false;
    }
    const int rc = poll(polled.data(), n, timeout_ms);
    if (rc < 0) {
        if (errno == EINTR) return Wait::interrupted;
        fail(status_from_errno(errno), errno, "poll: %s", std::strerror(errno));
        return Wait::failed;
    }
    if (rc == 0) return Wait::timed_out;
    for (std::size_t i = 0; i < n; ++i) {
        const short got = polled[i].revents;
        // A hang-up or an error is "ready" for either direction: the read
        // or the send that follows says which it was.
        const bool broken = got & (POLLHUP | POLLERR | POLLNVAL);
        watches[i].readable = watches[i].want_read && ((got & POLLIN) || broken);
        watches[i].writable = watches[i].want_write && ((got & POLLOUT) || broken);
    }
    return Wait::ready;
}

}  // namespace procmon::platform
