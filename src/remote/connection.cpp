#include "remote/connection.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "platform/platform.hpp"

namespace procmon::remote {
namespace {

constexpr char kUnixPrefix[] = "unix:";
constexpr std::size_t kReadChunk = 64 * 1024;

// The thread's error again, its message prefixed with fn (copied first: the
// message lives in the buffer fail() writes).
int prefixed(const char *fn) {
    const procmon_error *e = last_error();
    const std::string message = e->message;
    return fail(e->code, e->sys_errno, "%s: %s", fn, message.c_str());
}

bool is_status_code(int32_t s) { return s < 0 && s >= PROCMON_STATUS_LAST_; }

}  // namespace

std::string chosen_endpoint(const char *option) {
    if (option != nullptr) return option;
    // Not when setuid or setgid: such a program must not be pointed at a socket its caller chose.
    const char *env = platform::secure_environment("PROCMON_ENDPOINT");
    return env != nullptr ? env : "";
}

std::string socket_path(const std::string &endpoint) {
    if (endpoint.rfind(kUnixPrefix, 0) == 0) return endpoint.substr(sizeof kUnixPrefix - 1);
    return endpoint;
}

int Connection::open(const std::string &endpoint, const char *fn, std::unique_ptr<Connection> &out) {
    std::unique_ptr<Connection> c(new Connection());
    c->endpoint_ = endpoint;
    const std::string path = socket_path(endpoint);
    if (path.empty()) return fail(PROCMON_EINVAL, 0, "%s: endpoint '%s' names no socket path", fn, endpoint.c_str());
    if (int rc = platform::connect_local(path, kConnectTimeoutMs, c->socket_); rc != PROCMON_OK) {
        // Say what a user can do about the commonest failure.
        if (rc == PROCMON_ENOENT && std::strstr(last_error()->message, "procmond running") == nullptr) {
            const std::string message = last_error()->message;
            return fail(rc, last_error()->sys_errno, "%s: %s (is procmond running?)", fn, message.c_str());
        }
        return prefixed(fn);
    }
    if (int rc = c->handshake(fn); rc != PROCMON_OK) return rc;
    out = std::move(c);
    return PROCMON_OK;
}

int Connection::handshake(const char *fn) {
    protocol::Hello hello;
    hello.client = std::string("procmon ") + PROCMON_VERSION_STRING;
    std::vector<unsigned char> frame;
    protocol::encode(frame, hello);
    if (int rc = send(frame, fn); rc != PROCMON_OK) return rc;
    protocol::Frame f;
    if (int rc = receive(f, kConnectTimeoutMs, {}, fn); rc != PROCMON_OK) return rc;
    if (f.type != protocol::Type::welcome) return unexpected(f, protocol::Type::welcome, fn);
    if (protocol::DecodeError why = protocol::decode(f, welcome_)) return undecodable(f, why, fn);
    if (welcome_.version != protocol::kVersion)
        return fail(PROCMON_EPROTO, 0, "%s: %s at %s chose protocol version %u; this library speaks %u", fn,
                    welcome_.server.c_str(), endpoint_.c_str(), welcome_.version, protocol::kVersion);
    return PROCMON_OK;
}

int Connection::send(const std::vector<unsigned char> &frame, const char *fn) {
    switch (socket_.send_all(frame.data(), frame.size(), kReplyTimeoutMs)) {
    case PROCMON_OK: return PROCMON_OK;
    case PROCMON_ECLOSED: return fail(PROCMON_EPROTO, 0, "%s: procmond closed the connection", fn);
    default: return prefixed(fn);
    }
}

int Connection::receive(protocol::Frame &out, int timeout_ms, platform::WaitHandle stop, const char *fn) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        switch (reader_.next(out)) {
        case protocol::FrameReader::Status::frame: return PROCMON_OK;
        case protocol::FrameReader::Status::too_large:
            return fail(PROCMON_EPROTO, 0, "%s: procmond sent a frame longer than the %zu bytes a response may have", fn,
                        reader_.max_frame_bytes());
        case protocol::FrameReader::Status::empty:
            return fail(PROCMON_EPROTO, 0, "%s: procmond sent a frame of length 0 (no message type)", fn);
        case protocol::FrameReader::Status::need_more: break;
        }
        std::size_t n = 0;
        switch (socket_.recv_some(reader_.space(kReadChunk), kReadChunk, n)) {
        case platform::Socket::Io::ok: reader_.commit(n); continue;
        case platform::Socket::Io::closed:
            if (reader_.partial() > 0)
                return fail(PROCMON_EPROTO, 0, "%s: procmond closed the connection in the middle of a frame (%zu bytes of it came)",
                            fn, reader_.partial());
            return fail(PROCMON_EPROTO, 0, "%s: procmond closed the connection", fn);
        case platform::Socket::Io::failed: return prefixed(fn);
        case platform::Socket::Io::would_block: break;
        }
        int wait_ms = -1;
        if (timeout_ms >= 0) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
            if (left <= 0) return fail(PROCMON_ETIMEDOUT, 0, "%s: procmond did not answer within %d ms", fn, timeout_ms);
            wait_ms = static_cast<int>(left);
        }
        platform::Watch watches[2] = {{socket_.handle()}, {stop}};
        switch (platform::wait_ready(watches, stop.valid() ? 2 : 1, wait_ms)) {
        case platform::Wait::failed: return fail(PROCMON_EIO, errno, "%s: waiting for procmond: %s", fn, std::strerror(errno));
        case platform::Wait::ready:
            if (watches[1].readable) return fail(PROCMON_ECLOSED, 0, "%s: stopped while waiting for procmond", fn);
            break;
        case platform::Wait::timed_out:
        case platform::Wait::interrupted: break;  // the deadline is checked above
        }
    }
}

int Connection::call(const std::vector<unsigned char> &request, protocol::Type expected, const char *fn,
                     const Answer &use) {
    std::lock_guard<std::mutex> lock(call_mutex_);
    if (!broken_by_.empty())
        return fail(PROCMON_EPROTO, 0, "%s: the connection to procmond was broken by an earlier error (%s): open a new context",
                    fn, broken_by_.c_str());
    // A send or receive that failed leaves the stream in an unknown place
    // (part of a request sent, an answer still to come or half read).
    if (int rc = send(request, fn); rc != PROCMON_OK) return broken_by_last_error();
    protocol::Frame f;
    if (int rc = receive(f, reply_timeout_ms_, {}, fn); rc != PROCMON_OK) return broken_by_last_error();
    // An answer that is not the one expected, or does not decode: the two
    // ends disagree about the protocol, and nothing after it can be trusted.
    const int rc = f.type != expected ? unexpected(f, expected, fn) : use(f);
    if (rc == PROCMON_EPROTO) return broken_by_last_error();
    return rc;
}

int Connection::broken_by_last_error() {
    const procmon_error *e = last_error();
    broken_by_ = e->message;
    return e->code;
}

int Connection::unexpected(const protocol::Frame &f, protocol::Type expected, const char *fn) {
    if (f.type != protocol::Type::error)
        return fail(PROCMON_EPROTO, 0, "%s: procmond sent a '%s' where a '%s' was expected", fn, protocol::type_name(f.type),
                    protocol::type_name(expected));
    protocol::Error e;
    if (protocol::DecodeError why = protocol::decode(f, e)) return undecodable(f, why, fn);
    if (!is_status_code(e.status))
        return fail(PROCMON_EPROTO, 0, "%s: procmond sent an error with status %d, not a PROCMON_E* code: %s", fn, e.status,
                    e.message.c_str());
    return fail(e.status, 0, "%s: procmond: %s", fn, e.message.c_str());
}

int Connection::undecodable(const protocol::Frame &f, protocol::DecodeError why, const char *fn) {
    return fail(PROCMON_EPROTO, 0, "%s: procmond's '%s' (%zu bytes) does not decode: %s", fn, protocol::type_name(f.type),
                f.size, why);
}

}  // namespace procmon::remote
