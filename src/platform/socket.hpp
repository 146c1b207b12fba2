// Local stream sockets, for procmond and the clients of it: the one
// transport of docs/protocol.md, behind the platform seam (Linux: AF_UNIX
// SOCK_STREAM; Windows has AF_UNIX too). Every call returns a procmon
// status code and sets the thread's error naming the path and the cause.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "platform/platform.hpp"

namespace procmon::platform {

// Who is at the other end, as the kernel vouches (SO_PEERCRED): not what
// the peer says of itself.
struct PeerCredentials {
    int32_t pid = 0;
    uint32_t uid = 0, gid = 0;
};

class Socket {
public:
    Socket() = default;
    ~Socket();
    Socket(Socket &&o) noexcept;
    Socket &operator=(Socket &&o) noexcept;
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;

    bool valid() const { return handle_.valid(); }
    WaitHandle handle() const { return handle_; }  // for wait_ready
    void close();

    // Non-blocking: a socket is always in non-blocking mode.
    enum class Io {
        ok,           // n bytes moved (n > 0)
        would_block,  // nothing can move now: wait for it
        closed,       // the peer closed (recv: end of stream; send: EPIPE/ECONNRESET)
        failed,       // anything else; the thread's error says what
    };
    Io send_some(const void *p, std::size_t size, std::size_t &n);
    Io recv_some(void *p, std::size_t size, std::size_t &n);

    // Blocking with a deadline (-1 = none): all of [p, p + size) sent, or
    // ETIMEDOUT, ECLOSED (the peer went away), EIO.
    int send_all(const void *p, std::size_t size, int timeout_ms);

    int peer(PeerCredentials &out) const;

private:
    friend int listen_local(const std::string &, uint32_t, int64_t, int, Socket &);
    friend int set_socket_file_mode(const Socket &, const std::string &, uint32_t, int64_t);
    friend int accept_local(const Socket &, Socket &);
    friend int connect_local(const std::string &, int, Socket &);
    explicit Socket(WaitHandle h) : handle_(h) {}
    WaitHandle handle_;
    // A listener's socket file as bind made it: a mode change later touches
    // that file only, never what someone put at its path since (fstat of
    // an AF_UNIX fd says nothing of the file, so it is taken at bind).
    uint64_t file_dev_ = 0, file_ino_ = 0;
};

// Listens at path: a stale socket file left by a dead daemon is replaced;
// anything else there (a regular file, a directory, a live daemon's socket
// that answers a connect) is refused (EEXIST-like: PROCMON_EBUSY for a live
// one, PROCMON_EPERM for a file that is not a socket). The file gets `mode`
// (e.g. 0660) and, when gid >= 0, that group, before anyone can connect.
int listen_local(const std::string &path, uint32_t mode, int64_t gid, int backlog, Socket &out);
// Changes the mode and group of `listener`'s socket file at path (a
// reload). Anything else at path now (a symlink, another file or socket)
// is left alone: PROCMON_EPERM naming the path.
int set_socket_file_mode(const Socket &listener, const std::string &path, uint32_t mode, int64_t gid);
// Accepts one connection: PROCMON_OK, or EAGAIN when none waits.
int accept_local(const Socket &listener, Socket &out);
// Connects to path within timeout_ms (-1 = no limit). ENOENT (no socket
// there: "is procmond running?"), EPERM (the file's mode refuses this
// user), EIO (ECONNREFUSED: a socket file no one listens on), ETIMEDOUT.
int connect_local(const std::string &path, int timeout_ms, Socket &out);

// One handle of a wait_ready call: what to wait for, and what came.
struct Watch {
    WaitHandle handle;
    bool want_read = true;
    bool want_write = false;
    // out
    bool readable = false;  // or the peer hung up / an error waits: a read will say which
    bool writable = false;
};
// Waits until at least one watch is ready or timeout_ms passes (-1 forever,
// 0 just look); sets each watch's readable/writable. As wait_any otherwise.
Wait wait_ready(Watch *watches, std::size_t n, int timeout_ms);

}  // namespace procmon::platform
