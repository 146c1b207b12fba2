// One client connection's frames: reading them with the daemon's limits
// (a maximum size, a frame whole within frame_timeout_ms of its first byte)
// and sending them without ever blocking past a deadline or the daemon's
// shutdown.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "platform/socket.hpp"
#include "protocol/frame.hpp"

namespace procmon::daemon {

class Channel {
public:
    Channel(platform::Socket socket, platform::WaitHandle shutdown, std::size_t max_request_bytes);

    enum class Got {
        frame,      // `out` holds it, valid until the next read
        closed,     // the peer closed between frames
        shutdown,   // the daemon stops
        timed_out,  // a frame (or the hello) not whole in time: `why` says which
        bad,        // an oversized or empty frame, a read error, a close mid-frame: `why` says
    };
    // The next frame. `hello_deadline`: the first frame must be whole by
    // then (steady clock), else from its first byte within frame_timeout_ms.
    Got read(protocol::Frame &out, int frame_timeout_ms, std::string &why,
             std::chrono::steady_clock::time_point hello_deadline = {});

    // Sends all of `bytes`. False when the peer went away, the daemon stops,
    // or the peer took nothing for progress_timeout_ms (it stopped reading).
    bool send(const std::vector<unsigned char> &bytes, int progress_timeout_ms);
    // A reply, all of it within frame_timeout_ms plus 1 s per MiB of it: a
    // peer that takes it a byte at a time cannot pin it (and its memory)
    // for ever. False with `why` when it did not go out.
    bool send_reply(const std::vector<unsigned char> &bytes, int frame_timeout_ms, std::string &why);
    // An error frame, as far as it goes out within a short time: the peer is
    // about to be closed anyway.
    void send_error(int status, const std::string &message);
    // Logs why the connection ends, naming the peer, and tells the peer in
    // an error frame ("procmond: <why>").
    void drop(const platform::PeerCredentials &peer, int status, const std::string &why);

    platform::Socket &socket() { return socket_; }
    platform::WaitHandle shutdown_handle() const { return shutdown_; }

private:
    enum class Sent { all, gone, stalled, late };
    // Sends until all is out, the peer is gone (or the daemon stops), it
    // took nothing for progress_timeout_ms, or the deadline passed.
    Sent send_until(const std::vector<unsigned char> &bytes, int progress_timeout_ms,
                    std::chrono::steady_clock::time_point deadline);

    platform::Socket socket_;
    platform::WaitHandle shutdown_;
    protocol::FrameReader reader_;
    std::chrono::steady_clock::time_point frame_began_{};  // first byte of the frame not yet whole
};

}  // namespace procmon::daemon
