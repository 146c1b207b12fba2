#include "stream.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "access.hpp"
#include "capi/context.hpp"
#include "codec/event.hpp"
#include "core/arena.hpp"
#include "core/error.hpp"
#include "core/glob.hpp"
#include "events/subscription.hpp"
#include "journal/reader.hpp"
#include "journal/writer.hpp"
#include "log.hpp"

namespace procmon::daemon {
namespace {

constexpr std::size_t kBatchEvents = 256;              // events per frame at most
constexpr std::size_t kFrameBytes = 1u << 20;          // and about this many bytes: what one
                                                       // subscriber holds is a frame and one event
constexpr int kLagCheckMs = 100;                       // while a frame waits for a stuck client
constexpr int kNoWatchPollMs = 100;                    // when the journal cannot be watched

// An event's share of a frame: its strings and its fixed fields.
std::size_t event_bytes(const procmon_event &e) {
    return codec::kMaxEventFixedBytes + std::strlen(e.name ? e.name : "") + std::strlen(e.exe ? e.exe : "") +
           e.argv_len;
}

struct ReaderCloser {
    void operator()(procmon_journal_reader *r) const { procmon_journal_reader_close(r); }
};
using ReaderPtr = std::unique_ptr<procmon_journal_reader, ReaderCloser>;

class Stream {
public:
    Stream(State &state, Channel &channel, ClientInfo &client, const protocol::Subscribe &request)
        : state_(state), ch_(channel), client_(client), request_(request) {}

    void run();

private:
    const platform::PeerCredentials &peer() const { return client_.peer; }
    void end(int status, const std::string &why) { ch_.drop(peer(), status, why); }
    bool build_filter(std::string &why);
    bool open_reader(uint64_t from_seq);
    // Marks what a stuck client lags beyond its capacity to be skipped: read
    // and judged, not sent; one LOST then says how many of those events its
    // filters would have passed, its own count as a local subscription's.
    // Called only while a frame waits that the socket does not take: a
    // client that keeps up is never skipped, however small its queue.
    void skip_if_lagging();
    bool skipping() const { return next_seq_ < skip_to_; }
    // The last record the journal has in its files, where the reader finds
    // it; its next_seq also counts records still buffered in the writer.
    uint64_t journal_written_seq() const { return state_.journal->writer->written_seq(); }
    bool history_done() const;
    // One call of the reader into frames (or, while skipping, into the
    // count of what is skipped); false when the reader failed.
    bool read_batch(const Permissions &perm);
    // Whether e passes the client's filter (already masked for the peer).
    bool filter_passes(const procmon_event &e);
    bool descends(int32_t ppid, int32_t ancestor);
    // Sends what it can of the pending frames without waiting: false when
    // the client went away.
    bool flush();
    void publish_counters() {
        client_.next_seq = next_seq_;
        const uint64_t head = state_.journal_next_seq();
        client_.queue_depth = head > next_seq_ ? head - next_seq_ : 0;
    }

    State &state_;
    Channel &ch_;
    ClientInfo &client_;
    const protocol::Subscribe request_;
    events::Filter filter_;
    uint32_t capacity_ = 0;
    bool history_ = false;
    uint64_t live_from_ = 0;  // the journal's next seq at subscribe: below it, the client catches up
    uint64_t written_before_read_ = 0;  // journal_written_seq() sampled before the last read
    uint64_t next_seq_ = 0;   // the next sequence number this client is owed
    uint64_t last_sent_ = 0;  // the last one framed (history_end says it)
    uint64_t skip_to_ = 0;    // skipping: the records before it are counted, not sent
    uint64_t skipped_ = 0;    // events skipped for lag, not yet told in a LOST
    ReaderPtr reader_;
    bool reader_has_more_ = false;  // the last next filled max: call it again before waiting
    std::vector<procmon_event> events_;
    std::vector<unsigned char> pending_;  // frames not yet sent
    std::size_t pending_sent_ = 0;
    uint64_t pending_events_ = 0;
    std::unordered_map<int32_t, int32_t> parents_;  // pid -> ppid, from START events (descendants_of)
};

bool Stream::build_filter(std::string &why) {
    const protocol::Subscribe &r = request_;
    if (r.events & ~uint32_t{PROCMON_EVENTS_ALL}) {
        why = "subscribe: events has bits no event type has";
        return false;
    }
    if (r.flags & ~uint32_t{PROCMON_SUBSCRIBE_UNDECIDABLE | PROCMON_SUBSCRIBE_HISTORY | PROCMON_SUBSCRIBE_THREADS}) {
        why = "subscribe: unknown flags";
        return false;
    }
    if (r.uid < -1 || r.uid > UINT32_MAX || r.descendants_of < 0) {
        why = "subscribe: uid or descendants_of out of range";
        return false;
    }
    if (r.queue_capacity != 0 && (r.queue_capacity < PROCMON_QUEUE_MIN || r.queue_capacity > PROCMON_QUEUE_MAX)) {
        why = "subscribe: queue_capacity out of range";
        return false;
    }
    for (const auto *glob : {&r.name_glob, &r.cmdline_glob}) {
        std::string fault;
        if (*glob && !glob_is_valid((*glob)->c_str(), fault)) {
            why = "subscribe: pattern \"" + **glob + "\": " + fault;
            return false;
        }
    }
    filter_.types = r.events == 0 ? PROCMON_EVENTS_DEFAULT : r.events;
    filter_.has_name = r.name_glob.has_value();
    if (filter_.has_name) filter_.name_glob = *r.name_glob;
    filter_.has_cmdline = r.cmdline_glob.has_value();
    if (filter_.has_cmdline) filter_.cmdline_glob = *r.cmdline_glob;
    filter_.uid = r.uid;
    filter_.descendants_of = r.descendants_of;
    filter_.pass_undecidable = r.flags & PROCMON_SUBSCRIBE_UNDECIDABLE;
    return true;
}

bool Stream::open_reader(uint64_t from_seq) {
    reader_.reset();
    procmon_journal_read_options o = PROCMON_JOURNAL_READ_OPTIONS_INIT;
    o.from_seq = from_seq;
    procmon_journal_reader *r = nullptr;
    if (procmon_journal_reader_open(&r, state_.journal_dir.c_str(), &o) != PROCMON_OK) return false;
    reader_.reset(r);
    reader_has_more_ = true;  // look before the first wait
    return true;
}

void Stream::skip_if_lagging() {
    if (history_ || next_seq_ < live_from_) return;  // catching up from the journal costs no memory: never skipped
    const uint64_t written_end = journal_written_seq() + 1;
    if (written_end <= next_seq_ || written_end - next_seq_ <= capacity_) return;
    skip_to_ = std::max(skip_to_, written_end);
}

// The history asked for is all read: next_seq_ reached live_from_, or the
// reader found nothing more though the journal has written everything
// before live_from_ (a record missing there, damaged, must not hold it open).
bool Stream::history_done() const {
    return next_seq_ >= live_from_ || (!reader_has_more_ && written_before_read_ + 1 >= live_from_);
}

bool Stream::descends(int32_t ppid, int32_t ancestor) {
    for (int depth = 0; depth < 1024 && ppid > 0; ++depth) {  // a bound, should a map ever hold a cycle
        if (ppid == ancestor) return true;
        auto it = parents_.find(ppid);
        if (it == parents_.end()) {  // not seen starting here: ask the context
            procmon_query q = PROCMON_QUERY_INIT;
            q.fields = PROCMON_FIELD_BASIC;
            q.pids = &ppid;
            q.pid_count = 1;
            procmon_snapshot *snap = nullptr;
            int32_t parent = 0;
            {
                std::lock_guard<std::mutex> lock(state_.context_mutex);
                if (procmon_enumerate(&snap, state_.context, &q) == PROCMON_OK)
                    if (const procmon_process *p = procmon_snapshot_find(snap, ppid)) parent = p->ppid;
            }
            procmon_snapshot_free(snap);
            it = parents_.emplace(ppid, parent).first;
        }
        ppid = it->second;
    }
    return false;
}

bool Stream::filter_passes(const procmon_event &e) {
    events::StringsRef strings;
    if ((filter_.has_name || filter_.has_cmdline) && !(e.flags & PROCMON_EVENT_FLAG_PARTIAL)) {
        try {
            strings = events::StringsRef(
                events::EventStrings::make(state_.context->arena.get(), e.name, e.exe, e.argv, e.argv_len, e.argc));
        } catch (const ArenaFull &) {
            // No room for its strings now: judged as an event whose strings
            // are unknown (undecidable), as a local subscription would.
        }
    }
    const auto verdict =
        filter_.judge(e, strings.get(), [this](int32_t ppid, int32_t ancestor) { return descends(ppid, ancestor); });
    return verdict == events::Filter::Verdict::pass ||
           (verdict == events::Filter::Verdict::undecidable && filter_.pass_undecidable);
}

bool Stream::read_batch(const Permissions &perm) {
    events_.resize(kBatchEvents);
    std::size_t n = 0;
    written_before_read_ = journal_written_seq();
    // At most a frame's bytes of records (and one more): a stuck client's
    // stream holds that much, however large the argv it is sent.
    try {
        if (reader_->reader->next(events_.data(), sizeof(procmon_event), kBatchEvents, n, 0, kFrameBytes) != PROCMON_OK)
            return false;
    } catch (const std::bad_alloc &) {
        fail(PROCMON_ENOMEM, ENOMEM, "procmon_journal_reader_next: out of memory");
        return false;
    }
    reader_has_more_ = n > 0;  // a short read may be the byte bound's: only an empty one says the end
    const bool skip = skipping();
    std::vector<procmon_event> passing;
    passing.reserve(n + 1);
    if (skipped_ > 0 && !skip) {  // the client lagged: say how much it missed first
        procmon_event lost{};
        lost.size = sizeof lost;
        lost.type = PROCMON_EVENT_LOST;
        lost.flags = PROCMON_EVENT_FLAG_SYNTHESIZED;
        lost.seq = next_seq_ - 1;  // as the journal's LOST: the last sequence number missing
        lost.time_ns = wall_ns();
        lost.lost = skipped_;
        lost.name = lost.exe = lost.argv = lost.full_name = "";
        passing.push_back(lost);
        skipped_ = 0;
    }
    for (std::size_t i = 0; i < n; ++i) {
        procmon_event &e = events_[i];
        if (history_ && e.seq >= live_from_) {  // the history asked for ends here
            next_seq_ = live_from_;
            reader_has_more_ = false;
            break;
        }
        if (skip && e.seq >= skip_to_) {
            // The skip ends here. Read again from the first record not yet
            // judged, next_seq_, not from e: e may be the reader's LOST for
            // a gap that began below skip_to_, and read from next_seq_ the
            // reader says that gap whole, with its full count.
            skip_to_ = next_seq_;
            if (!open_reader(next_seq_)) return false;
            break;
        }
        next_seq_ = e.seq + 1;
        mask_event(e, peer().uid, perm);  // before the filter: a pattern must not see what the peer may not
        const bool passes = filter_passes(e);
        if (e.type == PROCMON_EVENT_START) parents_[e.pid] = e.ppid;
        if (e.type == PROCMON_EVENT_EXIT) parents_.erase(e.pid);
        if (passes && skip) {
            // A LOST the journal itself reports stands for its own count.
            const uint64_t missed = e.type == PROCMON_EVENT_LOST ? std::max<uint64_t>(e.lost, 1) : 1;
            skipped_ += missed;
            client_.events_dropped += missed;
            state_.events_dropped += missed;
        } else if (passes) {
            passing.push_back(e);
        }
    }
    // Frames of at most kBatchEvents events and about kFrameBytes each.
    std::size_t begin = 0, bytes = 0;
    for (std::size_t i = 0; i <= passing.size(); ++i) {
        const bool last = i == passing.size();
        const std::size_t b = last ? 0 : event_bytes(passing[i]);
        if (last || (i > begin && bytes + b > kFrameBytes)) {
            if (i > begin) protocol::encode_events(pending_, passing.data() + begin, i - begin);
            begin = i;
            bytes = 0;
        }
        bytes += b;
    }
    for (const procmon_event &e : passing) last_sent_ = e.seq;
    pending_events_ += passing.size();
    return true;
}

bool Stream::flush() {
    while (pending_sent_ < pending_.size()) {
        std::size_t n = 0;
        const auto io = ch_.socket().send_some(pending_.data() + pending_sent_, pending_.size() - pending_sent_, n);
        if (io == platform::Socket::Io::would_block) return true;
        if (io != platform::Socket::Io::ok) return false;
        pending_sent_ += n;
    }
    client_.events_delivered += pending_events_;
    state_.events_delivered += pending_events_;
    pending_.clear();
    pending_sent_ = 0;
    pending_events_ = 0;
    return true;
}

void Stream::run() {
    std::string why;
    if (!build_filter(why)) return end(PROCMON_EINVAL, why);
    if (request_.flags & PROCMON_SUBSCRIBE_THREADS)
        return end(PROCMON_EUNSUPPORTED, "subscribe: threads are not served by procmond (a remote context)");
    const auto cfg = state_.config();
    const uint32_t asked = request_.queue_capacity == 0 ? PROCMON_QUEUE_DEFAULT : request_.queue_capacity;
    capacity_ = std::min(asked, cfg->limits.max_queue);
    history_ = request_.flags & PROCMON_SUBSCRIBE_HISTORY;
    live_from_ = state_.journal_next_seq();
    if (request_.from_seq > live_from_)
        return end(PROCMON_EINVAL, "subscribe: from_seq " + std::to_string(request_.from_seq) +
                                       " is beyond the journal's next sequence number " + std::to_string(live_from_));
    // From from_seq; else live, or (history) from the oldest record kept.
    next_seq_ = request_.from_seq != 0 ? request_.from_seq : history_ ? 1 : live_from_;
    const uint64_t read_from = request_.from_seq != 0 ? request_.from_seq : history_ ? 0 : live_from_;
    if (!open_reader(read_from)) return end(procmon_error_last()->code, procmon_error_last()->message);

    client_.kind = PROCMON_CLIENT_SUBSCRIBER;
    client_.queue_capacity = capacity_;
    ++state_.subscriptions;
    struct Unsubscribed {
        State &s;
        ~Unsubscribed() { --s.subscriptions; }
    } unsubscribed{state_};
    protocol::encode(pending_, protocol::Subscribed{next_seq_});
    log(Level::info, "client pid %d uid %u subscribed from seq %llu (queue %u%s)", peer().pid, peer().uid,
        static_cast<unsigned long long>(next_seq_), capacity_, history_ ? ", history" : "");

    for (;;) {
        if (!flush()) return;  // the client went away
        publish_counters();
        // Work left that needs no wait: the wait below then only looks
        // (timeout 0), so a client's close and the daemon's stop are seen
        // between any two batches, and no pass repeats without progress.
        bool busy = false;
        if (skipping()) {  // through what it lagged, counting, while its last frame waits
            if (!read_batch(state_.config()->for_peer(peer().uid, peer().gid)))
                return end(procmon_error_last()->code,
                           std::string("reading the journal: ") + procmon_error_last()->message);
            busy = reader_has_more_ || !skipping();
        } else if (pending_.empty()) {
            if (history_ && history_done()) {
                protocol::encode(pending_, protocol::HistoryEnd{last_sent_});
                ch_.send(pending_, static_cast<int>(state_.config()->limits.frame_timeout_ms));
                return;
            }
            // Authorization is the config's of this batch: a reload takes effect here.
            const auto now = state_.config();
            const Permissions perm = now->for_peer(peer().uid, peer().gid);
            if (!perm.connect || !perm.subscribe || (!perm.journal && (history_ || request_.from_seq != 0)))
                return end(PROCMON_EPERM, "uid " + std::to_string(peer().uid) + " may no longer subscribe (config " +
                                              now->path + ")");
            if (reader_has_more_ || skipped_ > 0) {
                if (!read_batch(perm))
                    return end(procmon_error_last()->code,
                               std::string("reading the journal: ") + procmon_error_last()->message);
                busy = reader_has_more_;  // a full batch: more may wait; else the journal's change wakes us
            }
        }
        const bool sending = !pending_.empty();
        const int reader_fd = procmon_journal_reader_fd(reader_.get());
        platform::Watch watches[3] = {
            {ch_.socket().handle(), true, sending},
            {ch_.shutdown_handle()},
            {platform::WaitHandle::from_native(sending ? -1 : reader_fd)},
        };
        const int timeout = busy ? 0 : sending ? kLagCheckMs : reader_fd < 0 ? kNoWatchPollMs : -1;
        platform::wait_ready(watches, 3, timeout);
        if (watches[1].readable) return;  // the daemon stops
        if (watches[0].readable) {
            unsigned char byte;
            std::size_t n = 0;
            const auto io = ch_.socket().recv_some(&byte, 1, n);
            if (io == platform::Socket::Io::ok)
                return end(PROCMON_EPROTO, "a subscriber sends nothing after subscribe");
            if (io != platform::Socket::Io::would_block) return;  // it closed
        }
        if (sending) {
            // A frame waited a whole check and the socket took none of it:
            // the client is stuck; count what it misses beyond its capacity.
            if (!busy && !watches[0].writable) skip_if_lagging();
        } else if (watches[2].readable || reader_fd < 0) {
            reader_has_more_ = true;  // the journal changed, or (not watched) the poll's time came: look
        }
    }
}

}  // namespace

void serve_subscription(State &state, Channel &channel, ClientInfo &client, const protocol::Subscribe &request) {
    Stream(state, channel, client, request).run();
}

}  // namespace procmon::daemon
