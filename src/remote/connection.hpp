// One connection to procmond (docs/protocol.md): connect, hello, welcome,
// then requests answered one at a time. Every failure is a status code with
// the thread's error naming the call that made it and what happened, so a
// caller of the C ABI reads "procmon_enumerate: procmond closed the
// connection", never a bare EPROTO.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "platform/socket.hpp"
#include "protocol/frame.hpp"
#include "protocol/messages.hpp"

namespace procmon::remote {

// What procmon_open does with options.endpoint: NULL takes PROCMON_ENDPOINT
// when it is set and not empty; "" means this machine. Returns the endpoint
// to connect to, "" for a local context.
std::string chosen_endpoint(const char *option);

// The socket path of an endpoint: the path itself, or what follows "unix:".
std::string socket_path(const std::string &endpoint);

class Connection {
public:
    static constexpr int kConnectTimeoutMs = 5000;
    // A request's answer: a snapshot of every process takes the daemon well
    // under a second; this only ends a wait on a daemon that hangs.
    static constexpr int kReplyTimeoutMs = 30000;

    // Connects to endpoint and shakes hands. ENOENT ("is procmond
    // running?"), EPERM, EIO, ETIMEDOUT, EPROTO (not procmond, or another
    // protocol version); `fn` names the caller in the message.
    static int open(const std::string &endpoint, const char *fn, std::unique_ptr<Connection> &out);

    const protocol::Welcome &welcome() const { return welcome_; }
    const std::string &endpoint() const { return endpoint_; }

    // Sends request (a whole frame) and reads the answer, which must be of
    // type `expected`: then returns what `use` returns for it (the frame
    // lives only during that call). An error frame becomes its status with
    // the daemon's text; any other frame, a closed connection or no answer
    // in time, EPROTO/ETIMEDOUT. One call at a time (a mutex: procmon_signal
    // may come from any thread while another enumerates).
    // After a timeout or an EPROTO the connection is out of step (a late
    // answer, a frame half read would be taken for the next call's): it is
    // marked broken, and every later call fails at once with EPROTO.
    using Answer = std::function<int(const protocol::Frame &)>;
    int call(const std::vector<unsigned char> &request, protocol::Type expected, const char *fn, const Answer &use);

    // How long call() waits for an answer (kReplyTimeoutMs unless changed).
    void set_reply_timeout(int ms) { reply_timeout_ms_ = ms; }

    // The streaming side (a subscription's own connection, one thread).
    int send(const std::vector<unsigned char> &frame, const char *fn);
    // The next frame, waiting up to timeout_ms (-1 forever). `stop`, when
    // valid, ends the wait early: then ECLOSED. An error frame is returned
    // as a frame here: the caller decides.
    int receive(protocol::Frame &out, int timeout_ms, platform::WaitHandle stop, const char *fn);

    // Why `f`, which is not of type `expected`, is a failure: the daemon's
    // error, or EPROTO naming both types. Sets the thread's error.
    static int unexpected(const protocol::Frame &f, protocol::Type expected, const char *fn);
    // EPROTO for a frame of the right type whose payload does not decode.
    static int undecodable(const protocol::Frame &f, protocol::DecodeError why, const char *fn);

private:
    Connection() = default;
    int handshake(const char *fn);
    // Marks the connection broken by the thread's error (its message kept for later calls); returns its code.
    int broken_by_last_error();

    std::string endpoint_;
    platform::Socket socket_;
    protocol::FrameReader reader_{protocol::kMaxResponseBytes};
    protocol::Welcome welcome_;
    std::mutex call_mutex_;
    int reply_timeout_ms_ = kReplyTimeoutMs;
    std::string broken_by_;  // call_mutex_: the error that broke it, "" while it is sound
};

}  // namespace procmon::remote
