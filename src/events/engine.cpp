#include "events/engine.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace procmon::events {
namespace {

using platform::Read;

constexpr const char *kReasonNetlink = "netlink proc connector";
constexpr const char *kReasonForced = "polling: forced by the event_source option";
constexpr const char *kReasonDenied = "polling: the netlink proc connector needs root or CAP_NET_ADMIN";
constexpr const char *kReasonUnavailable = "polling: the netlink proc connector is unavailable here";
constexpr const char *kReasonBroken = "polling: the netlink proc connector failed while running";

}  // namespace

Engine::Engine(std::shared_ptr<Arena> arena, EngineOptions opts)
    : arena_(std::move(arena)), opts_(std::move(opts)), scratch_(ArenaAllocator<char>(arena_.get())),
      exe_(ArenaAllocator<char>(arena_.get())), argv_(ArenaAllocator<char>(arena_.get())) {
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
    int rc = platform::ProcSource::open(opts_.proc_root.empty() ? nullptr : opts_.proc_root.c_str(), arena_.get(), proc_);
    if (rc != PROCMON_OK) return rc;
    CollectorOptions co;
    co.threads = 1;  // the collector thread reads alone
    collector_ = std::make_unique<Collector>(arena_, proc_.get(), co);
    known_ = std::make_unique<KnownMap>(ArenaAllocator<std::pair<const int32_t, Known>>(arena_.get()));

    const int64_t mono = platform::now_ns(platform::Clock::monotonic);
    mono_to_wall_ = platform::now_ns(platform::Clock::realtime) - mono;
    mono_to_boot_ = platform::now_ns(platform::Clock::boottime) - mono;

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
    diff(false, 0);  // the baseline: every process now, no events
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
    known_.reset();
    collector_.reset();
    proc_.reset();
    source_ = PROCMON_STATS_SOURCE_NONE;
}

void Engine::loop_netlink() {
    platform::KernelEvents events{ArenaAllocator<platform::KernelEvent>(arena_.get())};
    const int fds[2] = {netlink_->fd(), waker_.fd()};
    while (!stop_) {
        platform::wait_readable(fds, 2, 1000);
        waker_.drain();
        if (stop_) break;
        events.clear();
        uint64_t lost = 0;
        auto r = netlink_->receive(events, lost);
        for (const auto &k : events) handle(k);
        if (r == platform::EventSource::Recv::lost) {
            // The kernel dropped events: say how many, then repair by diffing.
            lost_ += lost;
            ++resyncs_;
            deliver_lost(lost);
            diff(true, PROCMON_EVENT_FLAG_SYNTHESIZED);
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
    const int wake = waker_.fd();
    auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms_.load());
    while (!stop_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now());
        if (left.count() > 0) platform::wait_readable(&wake, 1, static_cast<int>(left.count()));
        waker_.drain();
        if (stop_) break;
        ease_backpressure();
        if (std::chrono::steady_clock::now() < next) continue;  // woken early: only to ease
        diff(true, 0);
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

// ------------------------------------------------------------ reading

StringsRef Engine::make_strings(const char *name, const char *exe, const char *argv, std::size_t argv_len,
                                uint32_t argc) {
    try {
        return StringsRef(EventStrings::make(arena_.get(), name, exe, argv, argv_len, argc));
    } catch (const ArenaFull &) {
        return StringsRef();  // the event still goes out, flagged partial
    }
}

bool Engine::read_identity(int32_t pid, Known &out, platform::Stat &st) {
    if (proc_->stat(pid, st, scratch_) != Read::ok) return false;
    out.start_ticks = st.start_ticks;
    out.start_boot_ns = st.start_boot_ns;
    out.start_time_ns = st.start_time_ns;
    out.ppid = st.ppid;
    return true;
}

bool Engine::read_process(int32_t pid, Known &out) {
    platform::Stat st;
    if (!read_identity(pid, out, st)) return false;
    platform::Status status;
    if (proc_->status(pid, false, status, scratch_) == Read::ok && status.has_ids) {
        out.uid = status.euid;
        out.has_uid = true;
    }
    exe_.clear();
    argv_.clear();
    bool truncated = false;
    if (!st.kernel_thread) {
        if (proc_->exe(pid, exe_) != Read::ok) exe_.clear();
        if (proc_->argv(pid, 0, st.argv_bytes, argv_, truncated) != Read::ok) argv_.clear();
    }
    exe_.push_back('\0');
    uint32_t argc = static_cast<uint32_t>(std::count(argv_.begin(), argv_.end(), '\0'));
    out.strings = make_strings(st.name, exe_.data(), argv_.data(), argv_.size(), argc);
    return true;
}

void Engine::diff(bool emit_events, uint32_t flags) {
    Query q;
    q.fields = PROCMON_FIELD_BASIC | PROCMON_FIELD_IDS | PROCMON_FIELD_EXE | PROCMON_FIELD_ARGV;
    SnapshotPtr snap;
    if (collector_->enumerate(q, snap) != PROCMON_OK) return;
    const uint64_t gen = ++generation_;
    const uint64_t now = static_cast<uint64_t>(platform::now_ns(platform::Clock::realtime));
    auto same_strings = [](const Known &k, const procmon_process &p) {
        EventStrings *s = k.strings.get();
        return s && std::strcmp(s->name(), p.name) == 0 && std::strcmp(s->exe(), p.exe) == 0 &&
               s->argv_len() == p.argv_len && std::memcmp(s->argv(), p.argv, p.argv_len) == 0;
    };
    for (const procmon_process &p : snap->records) {
        auto it = known_->find(p.pid);
        if (it != known_->end() && it->second.start_ticks == p.start_ticks) {
            it->second.seen = gen;
            if (!same_strings(it->second, p)) {  // it exec'd
                it->second.strings = make_strings(p.name, p.exe, p.argv, p.argv_len, p.argc);
                it->second.uid = p.euid;
                if (emit_events) emit(PROCMON_EVENT_EXEC, flags, p.pid, &it->second, p.ppid, now);
            }
            continue;
        }
        if (it != known_->end()) {  // the pid was reused: the old process is gone
            if (emit_events) emit(PROCMON_EVENT_EXIT, flags | PROCMON_EVENT_FLAG_NO_STATUS, p.pid, &it->second, it->second.ppid, now);
            known_->erase(it);
        }
        Known k;
        k.start_ticks = p.start_ticks;
        k.start_time_ns = p.start_time_ns;
        k.start_boot_ns = p.start_time_ns - std::min<uint64_t>(p.start_time_ns, static_cast<uint64_t>(mono_to_wall_ - mono_to_boot_));
        k.ppid = p.ppid;
        k.uid = p.euid;
        k.has_uid = (p.valid & PROCMON_FIELD_IDS) != 0;
        k.seen = gen;
        k.strings = make_strings(p.name, p.exe, p.argv, p.argv_len, p.argc);
        auto [ins, ok] = known_->emplace(p.pid, std::move(k));
        (void)ok;
        if (emit_events) emit(PROCMON_EVENT_START, flags, p.pid, &ins->second, p.ppid, now);
    }
    // Emit every exit before forgetting any: a descendant's exit is matched
    // through its parent's entry, which may be exiting in the same pass.
    if (emit_events)
        for (auto &[pid, k] : *known_)
            if (k.seen != gen) emit(PROCMON_EVENT_EXIT, flags | PROCMON_EVENT_FLAG_NO_STATUS, pid, &k, k.ppid, now);
    std::erase_if(*known_, [gen](const auto &entry) { return entry.second.seen != gen; });
}

void Engine::handle(const platform::KernelEvent &k) {
    const uint64_t wall = static_cast<uint64_t>(static_cast<int64_t>(k.time_ns) + mono_to_wall_);
    const uint64_t boot = static_cast<uint64_t>(static_cast<int64_t>(k.time_ns) + mono_to_boot_);
    const bool thread = k.pid != k.tgid;
    switch (k.kind) {
    case platform::KernelEvent::forked: {
        if (thread) {
            if (want_threads_) {
                Known t;
                auto parent = known_->find(k.tgid);
                if (parent != known_->end()) {
                    t.strings = parent->second.strings.share();
                    t.uid = parent->second.uid;
                    t.has_uid = parent->second.has_uid;
                }
                emit(PROCMON_EVENT_START, PROCMON_EVENT_FLAG_THREAD, k.pid, &t, k.tgid, wall);
            }
            return;
        }
        Known n;
        uint32_t flags = 0;
        // A forked child is its parent's image: name, exe, argv and uid come
        // from the parent we know; only its identity needs reading (one stat
        // instead of four files), and EXEC reads the new image.
        auto parent = known_->find(k.parent_tgid);
        const bool from_parent = parent != known_->end() && parent->second.strings && parent->second.has_uid;
        platform::Stat st;
        const bool read = from_parent ? read_identity(k.pid, n, st) : read_process(k.pid, n);
        if (read && from_parent) {
            n.strings = parent->second.strings.share();
            n.uid = parent->second.uid;
            n.has_uid = true;
        }
        n.ppid = k.parent_tgid;  // the parent at fork: later reads may show a reparenting
        if (!read) {
            // Gone already: what fork tells, and the parent's image it copied.
            flags = PROCMON_EVENT_FLAG_PARTIAL;
            n.start_boot_ns = boot;
            n.start_time_ns = wall;
            if (parent != known_->end()) {
                n.strings = parent->second.strings.share();
                n.uid = parent->second.uid;
                n.has_uid = parent->second.has_uid;
            }
        }
        n.seen = generation_;
        Known &slot = (*known_)[k.pid] = std::move(n);
        emit(PROCMON_EVENT_START, flags, k.pid, &slot, slot.ppid, wall);
        return;
    }
    case platform::KernelEvent::execed: {
        auto it = known_->find(k.tgid);
        Known fresh;
        uint32_t flags = 0;
        if (read_process(k.tgid, fresh)) {
            if (it != known_->end()) {
                it->second.strings = std::move(fresh.strings);
                it->second.uid = fresh.uid;
                it->second.has_uid = fresh.has_uid;
            } else {
                fresh.seen = generation_;
                it = known_->emplace(k.tgid, std::move(fresh)).first;
            }
        } else {
            flags = PROCMON_EVENT_FLAG_PARTIAL;  // exec'd and gone: the new image is unknown
            if (it != known_->end()) it->second.strings.reset();
        }
        Known none;
        emit(PROCMON_EVENT_EXEC, flags, k.tgid, it != known_->end() ? &it->second : &none,
             it != known_->end() ? it->second.ppid : 0, wall);
        return;
    }
    case platform::KernelEvent::uid_changed:
    case platform::KernelEvent::gid_changed:
    case platform::KernelEvent::renamed: {
        if (thread) return;
        auto it = known_->find(k.tgid);
        if (it == known_->end()) return;
        uint32_t type = PROCMON_EVENT_UID;
        if (k.kind == platform::KernelEvent::uid_changed) {
            it->second.uid = k.id;
            it->second.has_uid = true;
        } else if (k.kind == platform::KernelEvent::renamed) {
            type = PROCMON_EVENT_COMM;
            EventStrings *s = it->second.strings.get();
            it->second.strings = s ? make_strings(k.comm, s->exe(), s->argv(), s->argv_len(), s->argc())
                                   : make_strings(k.comm, "", "", 0, 0);
        }
        emit(type, 0, k.tgid, &it->second, it->second.ppid, wall);
        return;
    }
    case platform::KernelEvent::exited: {
        if (thread) {
            if (want_threads_) {
                Known t;
                emit(PROCMON_EVENT_EXIT, PROCMON_EVENT_FLAG_THREAD, k.pid, &t, k.tgid, wall);
            }
            return;
        }
        auto it = known_->find(k.tgid);
        Known gone;
        uint32_t flags = 0;
        if (it != known_->end()) {
            gone = std::move(it->second);
            known_->erase(it);
        } else if (!read_process(k.tgid, gone)) {  // started before we listened, unseen since
            flags = PROCMON_EVENT_FLAG_PARTIAL;
            gone.ppid = k.parent_tgid;
        }
        const ExitStatus status{k.exit_code, k.exit_signal,
                                gone.start_boot_ns && boot > gone.start_boot_ns ? boot - gone.start_boot_ns : 0};
        emit(PROCMON_EVENT_EXIT, flags, k.tgid, &gone, gone.ppid, wall, &status);
        return;
    }
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

void Engine::emit(uint32_t type, uint32_t flags, int32_t pid, const Known *k, int32_t ppid, uint64_t time_wall_ns,
                  const ExitStatus *exit) {
    Pending p;
    procmon_event &e = p.e;
    e.type = type;  // uid: (uint32_t)-1 when unknown, so a uid filter never matches a guess
    e.flags = flags | (k->strings ? 0u : PROCMON_EVENT_FLAG_PARTIAL);
    e.pid = pid;
    e.ppid = ppid;
    e.uid = k->has_uid ? k->uid : UINT32_MAX;
    e.time_ns = time_wall_ns;
    e.start_ticks = k->start_ticks;
    e.start_time_ns = k->start_time_ns;
    e.exit_code = -1;
    if (exit != nullptr) {
        e.exit_code = exit->code;
        e.exit_signal = exit->signal;
        e.lifetime_ns = exit->lifetime_ns;
    } else if (type == PROCMON_EVENT_EXIT && k->start_time_ns && time_wall_ns > k->start_time_ns) {
        e.lifetime_ns = time_wall_ns - k->start_time_ns;  // polling: from the wall clock
    }
    p.strings = k->strings.share();
    deliver(p);
}

bool Engine::descends(int32_t ppid, int32_t ancestor) const {
    for (int depth = 0; depth < 512 && ppid > 0 && known_; ++depth) {  // bounded: pid loops cannot hang us
        if (ppid == ancestor) return true;
        auto it = known_->find(ppid);
        if (it == known_->end()) return false;
        ppid = it->second.ppid;
    }
    return false;
}

void Engine::deliver(Pending &p) {
    procmon_event &e = p.e;
    e.size = sizeof e;
    e.seq = ++seq_;
    e.name = e.exe = e.argv = "";
    ++received_;
    EventStrings *s = p.strings.get();
    const char *name = s ? s->name() : "";
    std::lock_guard<std::mutex> lock(subs_mutex_);
    for (auto &sub : subs_) {
        const bool pass = sub->filter().matches(e, name, s != nullptr,
                                                [this](int32_t ppid, int32_t ancestor) { return descends(ppid, ancestor); });
        if (!pass) {
            sub->count_filtered();
            ++filtered_;
            continue;
        }
        auto [queued, fill] = sub->push(e, p.strings);
        ++(queued ? delivered_ : dropped_);
        if (fill >= opts_.high_watermark && !crossed_) {
            crossed_ = true;
            crossed_at_ = std::chrono::steady_clock::now();
        }
    }
}

void Engine::stats(procmon_stats &out) const {
    out.event_source = source_;
    out.poll_interval_ms = source_ == PROCMON_STATS_SOURCE_POLLING ? interval_ms_.load() : 0;
    out.source_reason = reason_;
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
