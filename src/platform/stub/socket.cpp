// The stub backend's sockets: there is no OS to make one, so every call
// says so (PROCMON_EUNSUPPORTED), and no Socket is ever valid.
#include <cerrno>
#include <utility>

#include "core/error.hpp"
#include "platform/socket.hpp"

namespace procmon::platform {
namespace {

int unsupported() { return fail(PROCMON_EUNSUPPORTED, ENOSYS, "procmon: no platform backend for this OS"); }

}  // namespace

Socket::~Socket() = default;
Socket::Socket(Socket &&o) noexcept : handle_(std::exchange(o.handle_, WaitHandle{})) {}
Socket &Socket::operator=(Socket &&o) noexcept {
    handle_ = std::exchange(o.handle_, WaitHandle{});
    return *this;
}
void Socket::close() { handle_ = WaitHandle{}; }  // nothing is ever opened here

Socket::Io Socket::send_some(const void *, std::size_t, std::size_t &n) {
    n = 0;
    unsupported();
    return Io::failed;
}
Socket::Io Socket::recv_some(void *, std::size_t, std::size_t &n) {
    n = 0;
    unsupported();
    return Io::failed;
}
int Socket::send_all(const void *, std::size_t, int) { return unsupported(); }
int Socket::peer(PeerCredentials &) const { return unsupported(); }

int listen_local(const std::string &, uint32_t, int64_t, int, Socket &) { return unsupported(); }
int set_socket_file_mode(const Socket &, const std::string &, uint32_t, int64_t) { return unsupported(); }
int accept_local(const Socket &, Socket &) { return unsupported(); }
int connect_local(const std::string &, int, Socket &) { return unsupported(); }

Wait wait_ready(Watch *, std::size_t, int) {
    unsupported();
    errno = ENOSYS;
    return Wait::failed;
}

}  // namespace procmon::platform
