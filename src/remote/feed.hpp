// A remote subscription's receiving side: its own connection to procmond
// and one thread that moves each event of the daemon's `events` frames into
// a client-side events::Subscription, the same bounded queue a local
// subscription has, so next, wait, the fd, dispatch and the stats work
// unchanged. Each event keeps the daemon's journal sequence number.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/arena.hpp"
#include "events/subscription.hpp"
#include "platform/platform.hpp"
#include "protocol/messages.hpp"
#include "remote/connection.hpp"

namespace procmon::remote {

class Feed {
public:
    // Connects to endpoint, subscribes with `request`, waits for the
    // daemon's `subscribed`, then starts the thread that fills `sub`.
    // Status code, thread's error naming fn (the daemon's refusal, EPERM
    // for one, comes with its text).
    static int start(const std::string &endpoint, const protocol::Subscribe &request, std::shared_ptr<Arena> arena,
                     std::shared_ptr<events::Subscription> sub, const char *fn, std::shared_ptr<Feed> &out);
    ~Feed();
    Feed(const Feed &) = delete;
    Feed &operator=(const Feed &) = delete;

    // Ends the thread's wait at once and closes the subscription with
    // `why`; the thread exits on its own (procmon_close). Any thread.
    void close(const char *why);
    // close(), then waits for the thread (procmon_unsubscribe).
    void stop();

private:
    Feed(std::unique_ptr<Connection> connection, std::shared_ptr<Arena> arena, std::shared_ptr<events::Subscription> sub,
         uint64_t resume_seq);
    void run();
    // One events frame into the queue: false when it does not decode (the
    // thread's error then says why).
    bool deliver(const protocol::Frame &f);
    // The stream ended (the daemon went away, broke the protocol, or said
    // why): closes the subscription with `cause` and where to resume.
    void broken(const std::string &cause);

    std::unique_ptr<Connection> connection_;  // the thread's only, after start
    std::shared_ptr<Arena> arena_;            // the events' strings go there
    std::shared_ptr<events::Subscription> sub_;
    uint64_t resume_seq_;  // the thread's: the from_seq that takes up after what it delivered
    bool received_any_ = false;
    platform::Waker stop_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace procmon::remote
