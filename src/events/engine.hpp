// The event collector of one context: a thread that takes the OS's process
// events (a push source: netlink on Linux) or the time to poll, lets the tracker turn them into
// enriched events, and hands each to the subscriptions whose filters it
// passes, with backpressure on polling.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/arena.hpp"
#include "events/subscription.hpp"
#include "events/tracker.hpp"
#include "platform/platform.hpp"
#include "procmon.h"

namespace procmon::events {

struct EngineOptions {
    std::string proc_root;  // empty = /proc
    uint32_t source = PROCMON_SOURCE_AUTO;  // PROCMON_SOURCE_*
    uint32_t poll_interval_ms = 1000;
    unsigned high_watermark = 75, low_watermark = 25;  // percent of a queue
};

class Engine : public std::enable_shared_from_this<Engine> {
public:
    static constexpr int64_t kNoSource = -1;  // no subscription: no source in force

    Engine(std::shared_ptr<Arena> arena, EngineOptions opts);
    ~Engine();
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    // Adds a subscription; the first starts the collector thread and returns
    // once it listens. Status code, thread's error set on failure.
    int add(const std::shared_ptr<Subscription> &sub);
    // Removes it; the last one stops the thread. Any thread.
    void remove(Subscription *sub);
    // Stops the thread and closes every subscription (procmon_close).
    void shutdown();

    void stats(procmon_stats &out) const;
    // Replaces the polling interval and the watermarks (a daemon's config
    // reload): the collector takes them at its next poll. Any thread.
    void set_polling(uint32_t poll_interval_ms, unsigned high_watermark, unsigned low_watermark);

private:
    // How the thread's start went, with its error: the subscriber's thread
    // reports it as its own.
    struct Started {
        int rc = PROCMON_OK, sys_errno = 0;
        std::string message;
    };
    void run(std::promise<Started> *ready);
    int start_source();
    int open_push();  // the source opts_.source asks for, or polling and why
    void loop_push();
    void loop_polling();
    void deliver_lost(uint64_t count);
    // Numbers each event of the batch and hands it to the subscriptions,
    // timed as read at received_ns (and kernel_ns, when the kernel said) and
    // ready now.
    void deliver(Batch &batch, uint64_t kernel_ns, uint64_t received_ns);
    void deliver(Pending &p);
    void ease_backpressure();
    void nudge();  // a subscriber drained its queue: let backpressure ease at once
    void stop_thread();

    std::shared_ptr<Arena> arena_;
    EngineOptions opts_;

    // Lock order: life_mutex_, then subs_mutex_. The collector thread takes
    // only subs_mutex_, so joining it under life_mutex_ cannot deadlock.
    std::mutex life_mutex_;  // the thread's start and stop
    std::mutex subs_mutex_;  // subs_
    std::vector<std::shared_ptr<Subscription>> subs_;
    std::thread thread_;
    platform::Waker waker_;  // stop, or ease backpressure now
    std::atomic<bool> stop_{false};
    bool shut_down_ = false;

    // collector thread only
    std::unique_ptr<Tracker> tracker_;
    std::unique_ptr<platform::EventSource> push_;
    const platform::EventSource::Kind *push_kind_ = nullptr;  // push_'s row
    uint64_t seq_ = 0;
    std::atomic<bool> want_threads_{false};
    std::chrono::steady_clock::time_point crossed_at_{};
    bool crossed_ = false;

    // read by stats() from any thread
    std::atomic<int64_t> source_{kNoSource};  // the PROCMON_SOURCE_* in force
    std::atomic<const char *> reason_{""};
    std::atomic<uint32_t> interval_ms_{0};
    // opts_'s polling fields, which set_polling changes while the thread runs
    std::atomic<uint32_t> base_interval_ms_{0};
    std::atomic<unsigned> high_watermark_{0}, low_watermark_{0};
    std::atomic<bool> backpressure_{false};
    std::atomic<uint64_t> received_{0}, filtered_{0}, delivered_{0}, dropped_{0}, lost_{0}, resyncs_{0},
        activations_{0}, delay_ns_{0}, cpu_ns_{0};
};

}  // namespace procmon::events
