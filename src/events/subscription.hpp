// One subscriber: its filter and its bounded queue. The collector thread
// pushes; the subscriber's thread pops. A full queue drops and counts, and
// the count reaches the subscriber as a LOST event once there is room, so
// nothing is lost silently and a slow subscriber never blocks anyone.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/arena.hpp"
#include "core/glob.hpp"
#include "core/names.hpp"
#include "events/event_strings.hpp"
#include "events/latency.hpp"
#include "platform/platform.hpp"
#include "procmon.h"

namespace procmon::events {

struct Filter {
    uint32_t types = PROCMON_EVENTS_DEFAULT;
    std::string name_glob;
    bool has_name = false;
    std::string cmdline_glob;
    bool has_cmdline = false;
    int64_t uid = -1;
    int32_t descendants_of = 0;
    bool threads = false;
    bool pass_undecidable = false;  // PROCMON_SUBSCRIBE_UNDECIDABLE

    enum class Verdict { pass, reject, undecidable };

    // Whether e passes. `strings` is null when the process was gone before
    // it was read (the event is flagged PARTIAL): a filter that needs them,
    // or a uid filter facing an unknown uid, cannot decide.
    // descends(ppid, ancestor) walks the process tree.
    template <class Descends>
    Verdict judge(const procmon_event &e, EventStrings *strings, Descends &&descends) const {
        if (e.type == PROCMON_EVENT_LOST) return Verdict::pass;
        if (!(e.type & types)) return Verdict::reject;
        if ((e.flags & PROCMON_EVENT_FLAG_THREAD) && !threads) return Verdict::reject;
        bool unknown = false;
        if (uid >= 0) {
            if (e.uid == UINT32_MAX) unknown = true;
            else if (e.uid != static_cast<uint64_t>(uid)) return Verdict::reject;
        }
        if (has_name || has_cmdline) {
            if (strings == nullptr) {
                unknown = true;
            } else {
                if (has_name && !glob_match(name_glob.c_str(), strings->full_name())) return Verdict::reject;
                if (has_cmdline && !cmdline_matches(*strings)) return Verdict::reject;
            }
        }
        if (descendants_of != 0 && !descends(e.ppid, descendants_of)) return Verdict::reject;
        return unknown ? Verdict::undecidable : Verdict::pass;
    }

private:
    bool cmdline_matches(EventStrings &s) const {
        thread_local std::string line;  // the collector thread's: no allocation per event once grown
        return glob_match(cmdline_glob.c_str(), join_argv(s.argv(), s.argv_len(), line));
    }
};

struct QueuedEvent {
    procmon_event event;  // strings not yet pointed: see Subscription::pop
    StringsRef strings;
    EventTiming timing;
};

class Subscription {
public:
    // Keeps the arena alive: a subscription may outlive its context.
    Subscription(std::shared_ptr<Arena> arena, Filter filter, uint32_t capacity);  // throws ArenaFull
    ~Subscription();
    Subscription(const Subscription &) = delete;
    Subscription &operator=(const Subscription &) = delete;

    const Filter &filter() const { return filter_; }
    platform::WaitHandle handle() const { return waker_.handle(); }
    bool ok() const { return waker_.ok(); }
    uint32_t capacity() const { return capacity_; }

    // Collector side: whether the event was queued, and the fill in percent.
    struct Pushed {
        bool queued;
        unsigned fill;
    };
    Pushed push(const procmon_event &e, const StringsRef &strings, const EventTiming &timing = {});

    // Collector side: the event through this subscription's filter, and into
    // its queue when it passes; counted either way. descends as in
    // Filter::judge.
    struct Offered {
        bool passed;
        Pushed pushed;
    };
    template <class Descends>
    Offered offer(const procmon_event &e, const StringsRef &strings, Descends &&descends,
                  const EventTiming &timing = {}) {
        const Filter::Verdict v = filter_.judge(e, strings.get(), std::forward<Descends>(descends));
        if (v == Filter::Verdict::undecidable) undecidable_.fetch_add(1, std::memory_order_relaxed);
        if (v == Filter::Verdict::reject || (v == Filter::Verdict::undecidable && !filter_.pass_undecidable)) {
            filtered_.fetch_add(1, std::memory_order_relaxed);
            received_.fetch_add(1, std::memory_order_relaxed);
            return {false, {false, 0}};
        }
        return {true, push(e, strings, timing)};
    }

    // Subscriber side: waits up to timeout_ms (-1 forever) for events, then
    // moves up to max into out, one every `stride` bytes: each event is
    // written up to min(stride, sizeof(procmon_event)) bytes, its `size`
    // saying how many (a caller built against an older, smaller struct).
    // Returns PROCMON_OK, or ECLOSED when closed; EINTR (n = 0) when
    // `wakeable` and a wake() is pending (it is taken; events stay queued).
    int pop(void *out, std::size_t stride, std::size_t max, std::size_t &n, int timeout_ms, bool wakeable = false);
    // Subscriber side: waits up to timeout_ms (-1 forever, 0 just looks)
    // until events or a LOST wait, without taking them. PROCMON_OK,
    // ETIMEDOUT, EINTR (a signal arrived for this thread, or a wake() was
    // pending or came), ECLOSED (also while waiting), EIO (the OS refused
    // the wait; errno set).
    int wait(int timeout_ms);
    // Any thread, async-signal-safe (an atomic store and an eventfd write):
    // the next wait() or wakeable pop() returns EINTR at once, or the one in
    // progress does. Kept until taken, so a wake just before a wait is not lost.
    void wake();
    // Strings of what the last pop returned stay valid until the next pop.
    void release_handed_out();
    // Puts back the events [from, end) of the last pop (dispatch stopped early).
    void unpop(std::size_t from);

    // procmon_dispatch is calling back: the events it handed out must stay
    // put until it returns, so next and dispatch refuse (EBUSY) meanwhile.
    bool begin_dispatch() { return !dispatching_.exchange(true, std::memory_order_acq_rel); }
    void end_dispatch() { dispatching_.store(false, std::memory_order_release); }
    bool dispatching() const { return dispatching_.load(std::memory_order_acquire); }

    // Called after a pop took events (subscriber's thread): lets the
    // collector ease backpressure at once. Set before the subscription is
    // shared, never changed after.
    void set_on_drained(std::function<void()> hook) { on_drained_ = std::move(hook); }

    // No more events will come: wakes a waiting pop. Events still queued
    // are handed out first (a remote feed closes when the history ends or
    // the daemon goes away, and what it received must reach the caller);
    // pop and wait return ECLOSED once the queue is empty. `why`, when
    // given, explains it in the ECLOSED message; the first one given stays.
    void close(const char *why = nullptr);
    bool closed() const { return closed_.load(std::memory_order_acquire); }
    // Why it closed ("" when nobody said).
    std::string close_reason();
    unsigned fill_percent();

    void stats(procmon_subscription_stats &out);

private:
    enum class Waited { ready, timed_out, interrupted, closed, failed };
    // Waits as wait() says, with mutex_ held by `lock` on entry and on
    // return. A signal ends the wait only when `stop_on_signal`.
    // A pending wake() ends it (taken) when `wakeable`.
    Waited await(std::unique_lock<std::mutex> &lock, int timeout_ms, bool stop_on_signal, bool wakeable);
    // With mutex_ held: the handle not ready while nothing waits, nor a wake.
    void drain_if_idle();

    std::shared_ptr<Arena> arena_;  // first: released after everything below
    Filter filter_;
    uint32_t capacity_;
    platform::Waker waker_;  // readable while events wait, a wake is pending, or closed

    std::mutex mutex_;
    QueuedEvent *ring_ = nullptr;  // capacity_ slots, in the arena
    uint32_t head_ = 0, count_ = 0;
    uint64_t pending_lost_ = 0;    // dropped, not yet reported by a LOST event
    uint64_t last_seq_ = 0;
    EventLatency latency_;         // of the events popped
    std::atomic<bool> closed_{false};
    std::string close_reason_;  // under mutex_
    std::atomic<bool> woken_{false};  // a wake() not yet taken by a wait
    std::atomic<bool> dispatching_{false};

    std::vector<QueuedEvent> handed_out_;  // subscriber thread only
    std::function<void()> on_drained_;

    std::atomic<uint64_t> received_{0}, filtered_{0}, delivered_{0}, dropped_{0}, lost_{0}, undecidable_{0};
};

}  // namespace procmon::events
