#include "events/engine.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace procmon::events {
namespace {

constexpr const char *kReasonNetlink = "netlink proc connector";
constexpr const char *kReasonForced = "polling: forced by the event_source option";
constexpr const char *kReasonDenied = "polling: the netlink proc connector needs root or CAP_NET_ADMIN";
constexpr const char *kReasonUnavailable = "polling: the netlink proc connector is unavailable here";
uint64_t mono_now() {
    return static_cast<uint64_t>(platform::now_ns(platform::Clock::monotonic));
}

constexpr const char *kReasonBroken = "polling: the netlink proc connector failed while running";

}  // namespace

Engine::Engine(std::shared_ptr<Arena> arena, EngineOptions opts) : arena_(std::move(arena)), opts_(std::move(opts)) {
    interval_ms_ = opts_.poll_interval_ms;
}

Engine::~Engine() {
    shutdown();
}

// ------------------------------------------------------------ subscriptions

int Engine::add(const std::shared_ptr<Subscription> &sub) {
    std::lock_guard<std::mutex> life(life_mutex_);
    if (shut_down_) return fail(PROCMON_ECLOSED, 0, "procmon_subscribe: the context is closed");
    if (sub->filter().threads) want_threads_ = true;
    // The subscriber may still pop after this engine is gone (close, then unsubscribe).
    sub->set_on_drained([weak = weak_from_this()] {
        if (auto engine = weak.lock()) engine->nudge();
    });
    if (thread_.joinable()) {
        std::lock_guard<std::mutex> lock(subs_mutex_);
        subs_.push_back(sub);
        return PROCMON_OK;
    }
    {
        std::lock_guard<std::mutex> lock(subs_mutex_);
        subs_.push_back(sub);
    }
    stop_ = false;
    std::promise<int> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, &ready] { run(&ready); });
    int rc = started.get();  // listening, and the known set taken
    if (rc != PROCMON_OK) {
        thread_.join();
        std::lock_guard<std::mutex> lock(subs_mutex_);
        subs_.clear();
    }
    return rc;
}

void Engine::remove(Subscription *sub) {
    std::lock_guard<std::mutex> life(life_mutex_);
    sub->close();
    bool last;
    {
        std::lock_guard<std::mutex> lock(subs_mutex_);
        subs_.erase(std::remove_if(subs_.begin(), subs_.end(), [sub](auto &s) { return s.get() == sub; }),
                    subs_.end());
        last = subs_.empty();
    }
    if (last) stop_thread();  // a subscribe meanwhile waits on life_mutex_, then restarts it
}

void Engine::shutdown() {
    std::lock_guard<std::mutex> life(life_mutex_);
    std::vector<std::shared_ptr<Subscription>> subs;
    {
        std::lock_guard<std::mutex> lock(subs_mutex_);
        shut_down_ = true;
        subs.swap(subs_);
    }
    stop_thread();
    for (auto &s : subs) s->close();
}

void Engine::stop_thread() {
    stop_ = true;
    waker_.wake();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Engine::nudge() {
    if (!backpressure_.load(std::memory_order_relaxed)) return;
    waker_.wake();
}

// ------------------------------------------------------------ the thread

int Engine::start_source() {
    int rc = Tracker::open(arena_, opts_.proc_root, tracker_);
    if (rc != PROCMON_OK) return rc;
    const bool real_root = opts_.proc_root.empty() || opts_.proc_root == "/proc";
    if (opts_.force_polling || !real_root) {
        reason_ = kReasonForced;
    } else {
        // Listen first, then take the known set: nothing falls in between.
        rc = platform::EventSource::open(netlink_);
        if (rc == PROCMON_OK) reason_ = kReasonNetlink;
        else reason_ = rc == PROCMON_EPERM ? kReasonDenied : kReasonUnavailable;
    }
    source_ = netlink_ ? PROCMON_STATS_SOURCE_NETLINK : PROCMON_STATS_SOURCE_POLLING;
    tracker_->baseline();  // every process now, no events
    return PROCMON_OK;
}

void Engine::run(std::promise<int> *ready) {
    int rc;
    try {
        rc = start_source();
    } catch (const ArenaFull &e) {
        rc = fail(PROCMON_ENOMEM, ENOMEM, "procmon_subscribe: memory cap of %llu bytes reached",
                  static_cast<unsigned long long>(e.cap));
    }
    ready->set_value(rc);  // `ready` dies with the caller's frame after this
    if (rc != PROCMON_OK) return;
    try {
        if (netlink_) loop_netlink();
        if (!stop_) loop_polling();  // forced, refused, or netlink broke
    } catch (const std::exception &) {
        // Cannot go on (memory): say so to every subscriber rather than fall silent.
        deliver_lost(0);
    }
    netlink_.reset();
    tracker_.reset();
    source_ = PROCMON_STATS_SOURCE_NONE;
}

void Engine::loop_netlink() {
    platform::KernelEvents events{ArenaAllocator<platform::KernelEvent>(arena_.get())};
    Batch batch{ArenaAllocator<Pending>(arena_.get())};
    while (!stop_) {
        platform::wait_any({netlink_->handle(), waker_.handle()}, 1000);
        waker_.drain();
        if (stop_) break;
        events.clear();
        uint64_t lost = 0;
        auto r = netlink_->receive(events, lost);
        const uint64_t received = mono_now();
        // One kernel event at a time: an exit forgets its process before
        // the next event is tracked, so deliver what each one means first.
        for (const auto &k : events) {
            tracker_->handle(k, want_threads_, batch);
            deliver(batch, k.time_ns, received);
        }
        if (r == platform::EventSource::Recv::lost) {
            // The kernel dropped events: say how many, then repair by rescanning.
            lost_ += lost;
            ++resyncs_;
            deliver_lost(lost);
            const uint64_t rescan_began = mono_now();
            tracker_->rescan(PROCMON_EVENT_FLAG_SYNTHESIZED, batch);
            deliver(batch, 0, rescan_began);
            tracker_->forget_exited();
        } else if (r == platform::EventSource::Recv::failed) {
            netlink_.reset();
            reason_ = kReasonBroken;
            source_ = PROCMON_STATS_SOURCE_POLLING;
            return;
        }
        cpu_ns_ = static_cast<uint64_t>(platform::now_ns(platform::Clock::thread_cpu));
    }
}

void Engine::loop_polling() {
    interval_ms_ = opts_.poll_interval_ms;
    Batch batch{ArenaAllocator<Pending>(arena_.get())};
    auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms_.load());
    while (!stop_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now());
        if (left.count() > 0) platform::wait_any({waker_.handle()}, static_cast<int>(left.count()));
        waker_.drain();
        if (stop_) break;
        ease_backpressure();
        if (std::chrono::steady_clock::now() < next) continue;  // woken early: only to ease
        const uint64_t pass_began = mono_now();
        tracker_->rescan(0, batch);
        deliver(batch, 0, pass_began);
        tracker_->forget_exited();
        // Backpressure: a queue past the high watermark slows polling at once.
        if (crossed_) {
            crossed_ = false;
            uint32_t slower = std::min<uint32_t>(interval_ms_ * 2, opts_.poll_interval_ms * 16);
            if (slower != interval_ms_) {
                interval_ms_ = slower;
                ++activations_;
                delay_ns_ = static_cast<uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - crossed_at_).count());
            }
            backpressure_ = true;
        }
        next = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms_.load());
        cpu_ns_ = static_cast<uint64_t>(platform::now_ns(platform::Clock::thread_cpu));
    }
}

void Engine::ease_backpressure() {
    if (!backpressure_) return;
    unsigned fullest = 0;
    {
        std::lock_guard<std::mutex> lock(subs_mutex_);
        for (auto &s : subs_) fullest = std::max(fullest, s->fill_percent());
    }
    if (fullest < opts_.low_watermark) {
        interval_ms_ = opts_.poll_interval_ms;
        backpressure_ = false;
    }
}

// ------------------------------------------------------------ fan-out

void Engine::deliver_lost(uint64_t count) {
    Pending p;
    p.e.type = PROCMON_EVENT_LOST;
    p.e.lost = count;
    p.e.time_ns = static_cast<uint64_t>(platform::now_ns(platform::Clock::realtime));
    deliver(p);
}

void Engine::deliver(Batch &batch, uint64_t kernel_ns, uint64_t received_ns) {
    if (batch.empty()) return;
    const uint64_t ready = mono_now();
    for (Pending &p : batch) {
        p.timing = {kernel_ns, received_ns, ready};
        deliver(p);
    }
    batch.clear();
}

void Engine::deliver(Pending &p) {
    procmon_event &e = p.e;
    e.size = sizeof e;
    e.seq = ++seq_;
    e.name = e.exe = e.argv = e.full_name = "";
    ++received_;
    std::lock_guard<std::mutex> lock(subs_mutex_);
    auto descends = [this](int32_t ppid, int32_t ancestor) { return tracker_ && tracker_->descends(ppid, ancestor); };
    for (auto &sub : subs_) {
        const auto [passed, pushed] = sub->offer(e, p.strings, descends, p.timing);
        if (!passed) {
            ++filtered_;
            continue;
        }
        ++(pushed.queued ? delivered_ : dropped_);
        if (pushed.fill >= opts_.high_watermark && !crossed_) {
            crossed_ = true;
            crossed_at_ = std::chrono::steady_clock::now();
        }
    }
}

void Engine::stats(procmon_stats &out) const {
    out.event_source = source_;
    out.poll_interval_ms = source_ == PROCMON_STATS_SOURCE_POLLING ? interval_ms_.load() : 0;
    out.source_reason = reason_;
    const uint32_t source = source_;
    out.source_name = source == PROCMON_STATS_SOURCE_NETLINK ? "netlink" : source == PROCMON_STATS_SOURCE_POLLING ? "polling" : "";
    out.events_received = received_;
    out.events_filtered = filtered_;
    out.events_delivered = delivered_;
    out.events_dropped = dropped_;
    out.events_lost = lost_;
    out.resyncs = resyncs_;
    out.backpressure_activations = activations_;
    out.backpressure_delay_ns = delay_ns_;
    out.collector_cpu_ns = cpu_ns_;
    out.process_rss_bytes = platform::self_rss_bytes();
}

}  // namespace procmon::events
