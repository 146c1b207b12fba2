#include "channel.hpp"

#include <algorithm>

#include "log.hpp"
#include "procmon.h"
#include "protocol/messages.hpp"

namespace procmon::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kErrorSendMs = 200;  // an error frame to a peer about to be dropped

int ms_until(Clock::time_point t) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
}

}  // namespace

Channel::Channel(platform::Socket socket, platform::WaitHandle shutdown, std::size_t max_request_bytes)
    : socket_(std::move(socket)), shutdown_(shutdown), reader_(max_request_bytes) {}

Channel::Got Channel::read(protocol::Frame &out, int frame_timeout_ms, std::string &why,
                           Clock::time_point hello_deadline) {
    for (;;) {
        switch (reader_.next(out)) {
        case protocol::FrameReader::Status::frame:
            frame_began_ = {};
            return Got::frame;
        case protocol::FrameReader::Status::too_large:
            why = "a frame longer than max_request_bytes (" + std::to_string(reader_.max_frame_bytes()) + ")";
            return Got::bad;
        case protocol::FrameReader::Status::empty:
            why = "a frame of length 0 (no type byte)";
            return Got::bad;
        case protocol::FrameReader::Status::need_more: break;
        }
        const bool hello = hello_deadline != Clock::time_point{};
        if (reader_.partial() > 0 && frame_began_ == Clock::time_point{}) frame_began_ = Clock::now();
        Clock::time_point deadline{};
        if (hello) deadline = hello_deadline;
        else if (frame_began_ != Clock::time_point{}) deadline = frame_began_ + std::chrono::milliseconds(frame_timeout_ms);
        const int timeout = deadline == Clock::time_point{} ? -1 : ms_until(deadline);
        platform::Watch watches[2] = {{socket_.handle()}, {shutdown_}};
        const platform::Wait w = platform::wait_ready(watches, 2, timeout);
        if (watches[1].readable) return Got::shutdown;
        if (w == platform::Wait::timed_out || (w != platform::Wait::interrupted && !watches[0].readable && timeout == 0)) {
            why = hello ? "no hello within frame_timeout_ms (" + std::to_string(frame_timeout_ms) + " ms) of connecting"
                        : "a frame not whole within frame_timeout_ms (" + std::to_string(frame_timeout_ms) +
                              " ms) of its first byte (" + std::to_string(reader_.partial()) + " bytes came)";
            return Got::timed_out;
        }
        if (!watches[0].readable) continue;
        std::size_t n = 0;
        unsigned char *space = reader_.space(kReadChunk);
        const platform::Socket::Io io = socket_.recv_some(space, kReadChunk, n);
        if (io == platform::Socket::Io::ok) {
            reader_.commit(n);
            continue;
        }
        reader_.commit(0);
        if (io == platform::Socket::Io::would_block) continue;
        if (io == platform::Socket::Io::closed) {
            if (reader_.partial() == 0) return Got::closed;
            why = "the peer closed in the middle of a frame (" + std::to_string(reader_.partial()) + " bytes of it came)";
            return Got::bad;
        }
        why = std::string("reading: ") + procmon_error_last()->message;
        return Got::bad;
    }
}

Channel::Sent Channel::send_until(const std::vector<unsigned char> &bytes, int progress_timeout_ms,
                                  Clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        std::size_t n = 0;
        const platform::Socket::Io io = socket_.send_some(bytes.data() + sent, bytes.size() - sent, n);
        if (io == platform::Socket::Io::ok) {
            sent += n;
            continue;
        }
        if (io != platform::Socket::Io::would_block) return Sent::gone;
        const int left = ms_until(deadline);
        if (left == 0) return Sent::late;
        platform::Watch watches[2] = {{socket_.handle(), false, true}, {shutdown_}};
        const platform::Wait w = platform::wait_ready(watches, 2, std::min(progress_timeout_ms, left));
        if (watches[1].readable || w == platform::Wait::failed) return Sent::gone;
        if (w == platform::Wait::timed_out) return left <= progress_timeout_ms ? Sent::late : Sent::stalled;
    }
    return Sent::all;
}

bool Channel::send(const std::vector<unsigned char> &bytes, int progress_timeout_ms) {
    return send_until(bytes, progress_timeout_ms, Clock::time_point::max()) == Sent::all;
}

bool Channel::send_reply(const std::vector<unsigned char> &bytes, int frame_timeout_ms, std::string &why) {
    const int64_t allowed_ms = int64_t{frame_timeout_ms} + static_cast<int64_t>(bytes.size() * 1000 / (1u << 20));
    const int progress_ms = static_cast<int>(std::min<int64_t>(allowed_ms, INT32_MAX));
    switch (send_until(bytes, progress_ms, Clock::now() + std::chrono::milliseconds(allowed_ms))) {
    case Sent::all: return true;
    case Sent::gone: why = "went away (or procmond stops) during a reply"; return false;
    case Sent::stalled:
    case Sent::late:
        why = "a reply of " + std::to_string(bytes.size()) + " bytes not taken within " + std::to_string(allowed_ms) +
              " ms";
        return false;
    }
    return false;
}

void Channel::send_error(int status, const std::string &message) {
    std::vector<unsigned char> frame;
    protocol::encode(frame, protocol::Error{status, message});
    send(frame, kErrorSendMs);
}

void Channel::drop(const platform::PeerCredentials &peer, int status, const std::string &why) {
    log(Level::warning, "client pid %d uid %u: %s: closing", peer.pid, peer.uid, why.c_str());
    send_error(status, why);  // the client names the daemon itself
}

}  // namespace procmon::daemon
