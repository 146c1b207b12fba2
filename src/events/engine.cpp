#include "events/engine.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace procmon::events {
namespace {

constexpr const char *kReasonForced = "polling: forced by the event_source option";
constexpr const char *kReasonOtherRoot = "polling: the process table is not the live /proc (proc_root)";

uint64_t mono_now() {
    return static_cast<uint64_t>(platform::now_ns(platform::Clock::monotonic));
}

// The source's name from the library's table ("" for none known).
const char *source_text(int64_t source) {
    const char *name = source < 0 || source > UINT32_MAX ? nullptr : procmon_source_name(static_cast<uint32_t>(source));
    return name != nullptr ? name : "";
}

// procmon_stats.event_source keeps 0.2's numbers: a 0.2 program tells only
// whether the kernel pushes events or procmon polls.
uint32_t stats_number(int64_t source) {
    if (source == Engine::kNoSource) return PROCMON_STATS_SOURCE_NONE;
    return source == PROCMON_SOURCE_POLLING ? PROCMON_STATS_SOURCE_POLLING : PROCMON_STATS_SOURCE_NETLINK;
}

}  // namespace

Engine::Engine(std::shared_ptr<Arena> arena, EngineOptions opts) : arena_(std::move(arena)), opts_(std::move(opts)) {
    interval_ms_ = base_interval_ms_ = opts_.poll_interval_ms;
    high_watermark_ = opts_.high_watermark;
    low_watermark_ = opts_.low_watermark;
}

void Engine::set_polling(uint32_t poll_interval_ms, unsigned high_watermark, unsigned low_watermark) {
    high_watermark_ = high_watermark;
    low_watermark_ = low_watermark;
    base_interval_ms_ = poll_interval_ms;
    if (!backpressure_) interval_ms_ = poll_interval_ms;  // else easing restores the new one
    waker_.wake();  // the wait in progress was timed for the old interval
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
    std::promise<Started> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, &ready] { run(&ready); });
    const Started s = started.get();  // listening, and the known set taken
    if (s.rc != PROCMON_OK) {
        thread_.join();
        std::lock_guard<std::mutex> lock(subs_mutex_);
        subs_.clear();
        return fail(s.rc, s.sys_errno, "%s", s.message.c_str());
    }
    return PROCMON_OK;
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
    // Listen first, then take the known set: nothing falls in between.
    if (rc = open_push(); rc != PROCMON_OK) return rc;
    source_ = push_ ? static_cast<int64_t>(push_kind_->source) : PROCMON_SOURCE_POLLING;
    tracker_->baseline();  // every process now, no events
    return PROCMON_OK;
}

int Engine::open_push() {
    const bool real_root = opts_.proc_root.empty() || opts_.proc_root == "/proc";
    if (!real_root && opts_.source != PROCMON_SOURCE_POLLING && opts_.source != PROCMON_SOURCE_AUTO)
        return fail(PROCMON_EUNSUPPORTED, 0,
                    "procmon_subscribe: event source %s reports the live system, not the process table at %s: "
                    "use PROCMON_SOURCE_AUTO or POLLING there",
                    source_text(opts_.source), opts_.proc_root.c_str());
    if (opts_.source == PROCMON_SOURCE_POLLING || !real_root) {  // the kernel's events are not of a fixture tree
        reason_ = real_root ? kReasonForced : kReasonOtherRoot;
        return PROCMON_OK;
    }
    std::size_t n = 0;
    const platform::EventSource::Kind *kinds = platform::EventSource::kinds(n);
    if (opts_.source != PROCMON_SOURCE_AUTO) {  // this one or nothing
        const platform::EventSource::Kind *k = platform::EventSource::find(opts_.source);
        if (k == nullptr)
            return fail(PROCMON_EUNSUPPORTED, 0, "procmon_subscribe: event source %s is not available here",
                        source_text(opts_.source));
        kinds = k;
        n = 1;
    }
    const char *first_refusal = nullptr;  // the best source's, when all refuse
    for (std::size_t i = 0; i < n && !push_; ++i) {
        const int rc = kinds[i].open(push_);
        if (rc == PROCMON_OK) {
            push_kind_ = &kinds[i];
            reason_ = kinds[i].reasons.running;
        } else if (opts_.source != PROCMON_SOURCE_AUTO) {
            const std::string why = last_error()->message;  // fail() rewrites the slot it lives in
            return fail(rc, last_error()->sys_errno, "procmon_subscribe: event_source %s: %s",
                        source_text(opts_.source), why.c_str());
        } else if (first_refusal == nullptr) {
            first_refusal = rc == PROCMON_EPERM ? kinds[i].reasons.denied : kinds[i].reasons.unavailable;
        }
    }
    if (!push_) reason_ = first_refusal ? first_refusal : "polling: no push source on this system";
    return PROCMON_OK;
}

void Engine::run(std::promise<Started> *ready) {
    int rc;
    try {
        rc = start_source();
    } catch (const ArenaFull &e) {
        rc = fail(PROCMON_ENOMEM, ENOMEM, "procmon_subscribe: memory cap of %llu bytes reached",
                  static_cast<unsigned long long>(e.cap));
    }
    Started started;
    if (rc != PROCMON_OK) {
        push_.reset();
        tracker_.reset();
        started = {rc, last_error()->sys_errno, last_error()->message};
    }
    ready->set_value(std::move(started));  // `ready` dies with the caller's frame after this
    if (rc != PROCMON_OK) return;
    try {
        if (push_) loop_push();
        if (!stop_) loop_polling();  // forced, refused, or the push source broke
    } catch (const std::exception &) {
        // Cannot go on (memory): say so to every subscriber rather than fall silent.
        deliver_lost(0);
    }
    push_.reset();
    tracker_.reset();
    source_ = kNoSource;
}

void Engine::loop_push() {
    platform::KernelEvents events{ArenaAllocator<platform::KernelEvent>(arena_.get())};
    Batch batch{ArenaAllocator<Pending>(arena_.get())};
    while (!stop_) {
        platform::wait_any({push_->handle(), waker_.handle()}, 1000);
        waker_.drain();
        if (stop_) break;
        events.clear();
        uint64_t lost = 0;
        auto r = push_->receive(events, lost);
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
            push_.reset();
            reason_ = push_kind_->reasons.broken;
            source_ = PROCMON_SOURCE_POLLING;
            return;
        }
        cpu_ns_ = static_cast<uint64_t>(platform::now_ns(platform::Clock::thread_cpu));
    }
}

void Engine::loop_polling() {
    interval_ms_ = base_interval_ms_.load();
    Batch batch{ArenaAllocator<Pending>(arena_.get())};
    auto last_pass = std::chrono::steady_clock::now();
    uint32_t planned_ms = interval_ms_;
    auto next = last_pass + std::chrono::milliseconds(planned_ms);
    while (!stop_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now());
        if (left.count() > 0) platform::wait_any({waker_.handle()}, static_cast<int>(left.count()));
        waker_.drain();
        if (stop_) break;
        ease_backpressure();
        if (interval_ms_ != planned_ms) {  // set_polling or easing changed it: time from the last pass
            planned_ms = interval_ms_;
            next = last_pass + std::chrono::milliseconds(planned_ms);
        }
        if (std::chrono::steady_clock::now() < next) continue;  // woken early: only to ease
        const uint64_t pass_began = mono_now();
        tracker_->rescan(0, batch);
        deliver(batch, 0, pass_began);
        tracker_->forget_exited();
        // Backpressure: a queue past the high watermark slows polling at once.
        if (crossed_) {
            crossed_ = false;
            uint32_t slower = std::min<uint32_t>(interval_ms_ * 2, base_interval_ms_ * 16);
            if (slower != interval_ms_) {
                interval_ms_ = slower;
                ++activations_;
                delay_ns_ = static_cast<uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - crossed_at_).count());
            }
            backpressure_ = true;
        }
        last_pass = std::chrono::steady_clock::now();
        planned_ms = interval_ms_;
        next = last_pass + std::chrono::milliseconds(planned_ms);
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
    if (fullest < low_watermark_) {
        interval_ms_ = base_interval_ms_.load();
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
        if (pushed.fill >= high_watermark_ && !crossed_) {
            crossed_ = true;
            crossed_at_ = std::chrono::steady_clock::now();
        }
    }
}

void Engine::stats(procmon_stats &out) const {
    const int64_t source = source_;
    out.event_source = stats_number(source);
    out.poll_interval_ms = source == PROCMON_SOURCE_POLLING ? interval_ms_.load() : 0;
    out.source_reason = reason_;
    out.source_name = source == kNoSource ? "" : source_text(source);
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
