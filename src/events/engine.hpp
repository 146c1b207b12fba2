// The event collector of one context: a thread that turns the OS's process
// events (netlink) or snapshot differences (polling) into enriched events and
// hands each to the subscriptions whose filters it passes.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "collect/collector.hpp"
#include "core/arena.hpp"
#include "events/event_strings.hpp"
#include "events/subscription.hpp"
#include "platform/platform.hpp"
#include "procmon.h"

namespace procmon::events {

struct EngineOptions {
    std::string proc_root;  // empty = /proc
    bool force_polling = false;
    uint32_t poll_interval_ms = 1000;
    unsigned high_watermark = 75, low_watermark = 25;  // percent of a queue
};

class Engine : public std::enable_shared_from_this<Engine> {
public:
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

private:
    struct Known {
        uint64_t start_ticks = 0, start_boot_ns = 0, start_time_ns = 0;
        int32_t ppid = 0;
        uint32_t uid = 0;
        bool has_uid = false;
        uint64_t seen = 0;  // diff generation
        StringsRef strings;
    };
    using KnownMap = std::unordered_map<int32_t, Known, std::hash<int32_t>, std::equal_to<int32_t>,
                                        ArenaAllocator<std::pair<const int32_t, Known>>>;

    struct Pending {  // one event on its way out
        procmon_event e{};
        StringsRef strings;
    };

    void run(std::promise<int> *ready);
    int start_source();
    void loop_netlink();
    void loop_polling();
    void handle(const platform::KernelEvent &k);
    // Compares a fresh snapshot with what is known and emits the difference.
    void diff(bool emit_events, uint32_t flags);
    bool read_process(int32_t pid, Known &out);
    bool read_identity(int32_t pid, Known &out, platform::Stat &st);  // stat only: start time
    StringsRef make_strings(const char *name, const char *exe, const char *argv, std::size_t argv_len, uint32_t argc);
    // How a process ended, when the source knows (netlink exits).
    struct ExitStatus {
        int32_t code, signal;
        uint64_t lifetime_ns;
    };
    void emit(uint32_t type, uint32_t flags, int32_t pid, const Known *k, int32_t ppid, uint64_t time_wall_ns,
              const ExitStatus *exit = nullptr);
    void deliver_lost(uint64_t count);
    void deliver(Pending &p);
    bool descends(int32_t ppid, int32_t ancestor) const;
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
    std::unique_ptr<platform::ProcSource> proc_;
    std::unique_ptr<Collector> collector_;
    std::unique_ptr<platform::EventSource> netlink_;
    std::unique_ptr<KnownMap> known_;
    platform::Bytes scratch_, exe_, argv_;
    uint64_t generation_ = 0;
    uint64_t seq_ = 0;
    int64_t mono_to_wall_ = 0, mono_to_boot_ = 0;
    std::atomic<bool> want_threads_{false};
    std::chrono::steady_clock::time_point crossed_at_{};
    bool crossed_ = false;

    // read by stats() from any thread
    std::atomic<uint32_t> source_{PROCMON_STATS_SOURCE_NONE};
    std::atomic<const char *> reason_{""};
    std::atomic<uint32_t> interval_ms_{0};
    std::atomic<bool> backpressure_{false};
    std::atomic<uint64_t> received_{0}, filtered_{0}, delivered_{0}, dropped_{0}, lost_{0}, resyncs_{0},
        activations_{0}, delay_ns_{0}, cpu_ns_{0};
};

}  // namespace procmon::events
