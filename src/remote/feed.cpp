#include "remote/feed.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "events/event_strings.hpp"

namespace procmon::remote {
namespace {

// Names the feed thread's failures in the ECLOSED message of next.
constexpr const char *kStream = "remote subscription";

}  // namespace

int Feed::start(const std::string &endpoint, const protocol::Subscribe &request, std::shared_ptr<Arena> arena,
                std::shared_ptr<events::Subscription> sub, const char *fn, std::shared_ptr<Feed> &out) {
    std::unique_ptr<Connection> connection;
    if (int rc = Connection::open(endpoint, fn, connection); rc != PROCMON_OK) return rc;
    std::vector<unsigned char> frame;
    protocol::encode(frame, request);
    protocol::Subscribed subscribed;
    const int rc = connection->call(frame, protocol::Type::subscribed, fn, [&](const protocol::Frame &f) {
        if (protocol::DecodeError why = protocol::decode(f, subscribed)) return Connection::undecodable(f, why, fn);
        return int{PROCMON_OK};
    });
    if (rc != PROCMON_OK) return rc;
    const uint64_t resume = subscribed.first_seq != 0 ? subscribed.first_seq : request.from_seq;
    std::shared_ptr<Feed> feed(new Feed(std::move(connection), std::move(arena), std::move(sub), resume));
    if (!feed->stop_.ok()) return fail(PROCMON_EIO, errno, "%s: eventfd: %s", fn, std::strerror(errno));
    feed->thread_ = std::thread([f = feed.get()] { f->run(); });
    out = std::move(feed);
    return PROCMON_OK;
}

Feed::Feed(std::unique_ptr<Connection> connection, std::shared_ptr<Arena> arena, std::shared_ptr<events::Subscription> sub,
           uint64_t resume_seq)
    : connection_(std::move(connection)), arena_(std::move(arena)), sub_(std::move(sub)), resume_seq_(resume_seq) {}

Feed::~Feed() { stop(); }

void Feed::close(const char *why) {
    stopping_.store(true, std::memory_order_release);
    stop_.wake();
    sub_->close(why);
}

void Feed::stop() {
    close(nullptr);
    if (thread_.joinable()) thread_.join();
}

void Feed::run() {
    for (;;) {
        protocol::Frame f;
        if (connection_->receive(f, -1, stop_.handle(), kStream) != PROCMON_OK) {
            if (!stopping_.load(std::memory_order_acquire)) broken(last_error()->message);
            return;
        }
        switch (f.type) {
        case protocol::Type::events:
            if (!deliver(f)) return broken(last_error()->message);
            break;
        case protocol::Type::history_end: {
            protocol::HistoryEnd end;
            if (protocol::DecodeError why = protocol::decode(f, end)) {
                Connection::undecodable(f, why, kStream);
                return broken(last_error()->message);
            }
            // What came is still queued: next hands it out, then says this.
            const std::string why = "the history asked for (PROCMON_SUBSCRIBE_HISTORY) ended at seq " +
                                    std::to_string(end.last_seq) + "; subscribe with from_seq " +
                                    std::to_string(end.last_seq + 1) + " for what follows";
            sub_->close(why.c_str());
            return;
        }
        default:
            Connection::unexpected(f, protocol::Type::events, kStream);
            return broken(last_error()->message);
        }
        if (sub_->closed()) return;
    }
}

bool Feed::deliver(const protocol::Frame &f) {
    const protocol::DecodeError why = protocol::decode_events(f, [&](procmon_event &e) {
        events::StringsRef strings;
        try {
            strings = events::StringsRef(events::EventStrings::make(arena_.get(), e.name ? e.name : "", e.exe ? e.exe : "",
                                                                    e.argv, e.argv_len, e.argc));
        } catch (const ArenaFull &) {
            // No room for its strings under the context's cap: the event
            // still counts, as one whose process was gone before it was read.
            e.flags |= PROCMON_EVENT_FLAG_PARTIAL;
        }
        sub_->push(e, strings);
        received_any_ = true;
        if (e.seq >= resume_seq_) resume_seq_ = e.seq + 1;
    });
    if (why != nullptr) Connection::undecodable(f, why, kStream);
    return why == nullptr;
}

void Feed::broken(const std::string &cause) {
    const std::string why = cause +
                            (received_any_ ? "; the last event received had seq " + std::to_string(resume_seq_ - 1)
                                           : "; no event was received") +
                            ": subscribe with from_seq " + std::to_string(resume_seq_) + " to resume";
    sub_->close(why.c_str());
}

}  // namespace procmon::remote
