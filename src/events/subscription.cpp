#include "events/subscription.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace procmon::events {
namespace {

procmon_event lost_event(uint64_t count, uint64_t seq) {
    procmon_event e{};
    e.size = sizeof e;
    e.type = PROCMON_EVENT_LOST;
    e.seq = seq;
    e.time_ns = static_cast<uint64_t>(platform::now_ns(platform::Clock::realtime));
    e.lost = count;
    e.name = e.exe = e.argv = e.full_name = "";
    return e;
}

}  // namespace

Subscription::Subscription(std::shared_ptr<Arena> arena, Filter filter, uint32_t capacity)
    : arena_(std::move(arena)), filter_(std::move(filter)), capacity_(capacity) {
    ring_ = static_cast<QueuedEvent *>(arena_->allocate(sizeof(QueuedEvent) * capacity_));
    for (uint32_t i = 0; i < capacity_; ++i) new (&ring_[i]) QueuedEvent{};
}

Subscription::~Subscription() {
    handed_out_.clear();
    for (uint32_t i = 0; i < capacity_; ++i) ring_[i].~QueuedEvent();
    arena_->deallocate(ring_);
}

Subscription::Pushed Subscription::push(const procmon_event &e, const StringsRef &strings, const EventTiming &timing) {
    received_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mutex_);
    const bool was_empty = count_ == 0;
    // After drops, report them first, in order, as soon as two slots are free.
    if (pending_lost_ > 0 && capacity_ - count_ >= 2) {
        QueuedEvent &slot = ring_[(head_ + count_) % capacity_];
        slot.event = lost_event(pending_lost_, e.seq);
        slot.strings.reset();
        slot.timing = {};
        lost_.fetch_add(pending_lost_, std::memory_order_relaxed);
        pending_lost_ = 0;
        ++count_;
    }
    if (count_ == capacity_ || pending_lost_ > 0) {
        ++pending_lost_;
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return {false, 100};
    }
    QueuedEvent &slot = ring_[(head_ + count_) % capacity_];
    slot.event = e;
    slot.strings = strings.share();
    slot.timing = timing;
    last_seq_ = e.seq;
    ++count_;
    if (was_empty) waker_.wake();
    delivered_.fetch_add(1, std::memory_order_relaxed);
    return {true, static_cast<unsigned>(uint64_t{count_} * 100 / capacity_)};
}

unsigned Subscription::fill_percent() {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<unsigned>(uint64_t{count_} * 100 / capacity_);
}

void Subscription::release_handed_out() { handed_out_.clear(); }

void Subscription::drain_if_idle() {
    if (count_ > 0 || pending_lost_ > 0 || closed()) return;
    waker_.drain();
    // A wake() between its store and its write may have been drained: make
    // the handle ready again for it (it is read after the drain).
    if (woken_.load(std::memory_order_acquire)) waker_.wake();
}

void Subscription::wake() {
    woken_.store(true, std::memory_order_release);
    waker_.wake();
}

Subscription::Waited Subscription::await(std::unique_lock<std::mutex> &lock, int timeout_ms, bool stop_on_signal,
                                         bool wakeable) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    bool signalled = false;
    for (;;) {
        // Closed or not, what came is handed out before ECLOSED.
        const bool queued = count_ > 0 || pending_lost_ > 0;
        if (!queued && closed()) return Waited::closed;
        if (wakeable && woken_.exchange(false, std::memory_order_acq_rel)) {
            drain_if_idle();
            return Waited::interrupted;
        }
        if (queued) return Waited::ready;
        if (signalled) return Waited::interrupted;  // nothing came meanwhile
        if (timeout_ms == 0) return Waited::timed_out;
        int wait_ms = -1;
        if (timeout_ms > 0) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();  // never short of it
            if (left <= 0) return Waited::timed_out;
            wait_ms = static_cast<int>(left);
        }
        lock.unlock();
        const platform::Wait w = platform::wait_any({waker_.handle()}, wait_ms);
        lock.lock();
        if (w == platform::Wait::failed) return Waited::failed;
        signalled = w == platform::Wait::interrupted && stop_on_signal;
    }
}

int Subscription::wait(int timeout_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    switch (await(lock, timeout_ms, true, true)) {
    case Waited::ready: return PROCMON_OK;
    case Waited::timed_out: return PROCMON_ETIMEDOUT;
    case Waited::interrupted: return PROCMON_EINTR;
    case Waited::closed: return PROCMON_ECLOSED;
    case Waited::failed: break;
    }
    return PROCMON_EIO;
}

int Subscription::pop(void *out, std::size_t stride, std::size_t max, std::size_t &n, int timeout_ms, bool wakeable) {
    n = 0;
    release_handed_out();
    std::unique_lock<std::mutex> lock(mutex_);
    // Out of time, or a failed wait: hand out what is there, maybe nothing.
    switch (await(lock, timeout_ms, false, wakeable)) {
    case Waited::closed: return PROCMON_ECLOSED;
    case Waited::interrupted: return PROCMON_EINTR;  // only a wake: signals do not end a pop
    default: break;
    }
    handed_out_.reserve(max);
    const uint64_t now = count_ > 0 ? static_cast<uint64_t>(platform::now_ns(platform::Clock::monotonic)) : 0;
    while (n < max && count_ > 0) {
        QueuedEvent &slot = ring_[head_];
        latency_.add(slot.timing, now);
        handed_out_.push_back(QueuedEvent{slot.event, std::move(slot.strings), {}});
        head_ = (head_ + 1) % capacity_;
        --count_;
        ++n;
    }
    // Drops the queue could not yet report: say so now that it has room.
    if (n < max && count_ == 0 && pending_lost_ > 0) {
        handed_out_.push_back(QueuedEvent{lost_event(pending_lost_, last_seq_), StringsRef(), {}});
        lost_.fetch_add(pending_lost_, std::memory_order_relaxed);
        pending_lost_ = 0;
        ++n;
    }
    drain_if_idle();
    lock.unlock();
    if (n > 0 && on_drained_) on_drained_();
    // Point the strings at the shared copies this subscription now holds,
    // and write each event at the caller's stride and size.
    const std::size_t written = std::min(stride, sizeof(procmon_event));
    for (std::size_t i = 0; i < n; ++i) {
        procmon_event e = handed_out_[i].event;
        EventStrings *s = handed_out_[i].strings.get();
        e.size = static_cast<uint32_t>(written);
        e.name = s ? s->name() : "";
        e.exe = s ? s->exe() : "";
        e.argv = s ? s->argv() : "";
        e.argv_len = s ? s->argv_len() : 0;
        e.argc = s ? s->argc() : 0;
        e.full_name = s ? s->full_name() : "";
        std::memcpy(static_cast<char *>(out) + i * stride, &e, written);
    }
    return PROCMON_OK;
}

void Subscription::unpop(std::size_t from) {
    if (from >= handed_out_.size()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    // Put them back at the head, last first, keeping their strings (their
    // timing was taken when first popped). The queue has room: these slots
    // were just freed by the pop.
    for (std::size_t i = handed_out_.size(); i-- > from;) {
        head_ = (head_ + capacity_ - 1) % capacity_;
        QueuedEvent &slot = ring_[head_];
        slot.event = handed_out_[i].event;
        slot.strings = std::move(handed_out_[i].strings);
        slot.timing = {};
        ++count_;
    }
    handed_out_.resize(from);
    waker_.wake();
}

void Subscription::close(const char *why) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (why != nullptr && !closed() && close_reason_.empty()) close_reason_ = why;
    closed_.store(true, std::memory_order_release);
    waker_.wake();
}

std::string Subscription::close_reason() {
    std::lock_guard<std::mutex> lock(mutex_);
    return close_reason_;
}

void Subscription::stats(procmon_subscription_stats &out) {
    procmon_subscription_stats s{};
    {
        std::lock_guard<std::mutex> lock(mutex_);
        s.queue_depth = count_;
        latency_.fill(s);
    }
    s.queue_capacity = capacity_;
    s.received = received_.load(std::memory_order_relaxed);
    s.filtered = filtered_.load(std::memory_order_relaxed);
    s.delivered = delivered_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.lost = lost_.load(std::memory_order_relaxed);
    s.undecidable = undecidable_.load(std::memory_order_relaxed);
    s.size = out.size < sizeof s ? out.size : static_cast<uint32_t>(sizeof s);
    std::memcpy(&out, &s, s.size);
}

}  // namespace procmon::events
