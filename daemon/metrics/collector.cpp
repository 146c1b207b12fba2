#include "collector.hpp"

#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <chrono>
#include <vector>

#include "log.hpp"
#include "state.hpp"

namespace procmon::daemon::metrics {

namespace {

constexpr const char *kStateNames[] = {"running", "sleeping", "disk_sleep", "stopped", "zombie", "idle", "other"};

std::size_t state_index(uint32_t kind) {
    switch (kind) {
    case PROCMON_STATE_RUNNING: return 0;
    case PROCMON_STATE_SLEEPING: return 1;
    case PROCMON_STATE_DISK_SLEEP: return 2;
    case PROCMON_STATE_STOPPED:
    case PROCMON_STATE_TRACING_STOP: return 3;
    case PROCMON_STATE_ZOMBIE: return 4;
    case PROCMON_STATE_IDLE: return 5;
    default: return 6;
    }
}

// "SIGKILL"; "SIG<n>" for a number with no name (real-time signals): at
// most 64 values, so the label set stays bounded.
std::string signal_name(int sig) {
    if (sig >= 1 && sig < SIGRTMIN) {
        if (const char *abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
    }
    return "SIG" + std::to_string(sig);
}

void observe(HistogramValue &h, uint64_t ns) {
    const Bounds &bounds = lifetime_bounds();
    if (h.buckets.empty()) h.buckets.resize(bounds.size() + 1);
    const double seconds = static_cast<double>(ns) / 1e9;
    ++h.buckets[bucket_index(bounds, seconds)];
    h.sum += seconds;
}

// A group that has had no process and no event for this many refreshes
// is dropped (a template's: fixed groups stay), so that names a template
// made once do not hold places under max_groups for ever. Prometheus sees
// its series go stale; should it come back, its counters start again at 0,
// which Prometheus reads as a reset.
constexpr uint64_t kIdleRefreshes = 20;

// How far a counter of one process moved since the last refresh counted
// it. On its first reading, `has` is false: a process started since the
// reading was switched on (`since_ns`) is counted whole, an older one from
// now on. A value that went down (a pid's reuse slipped by) counts from 0.
uint64_t delta(uint64_t now, uint64_t &before, bool &has, uint64_t start_ns, uint64_t since_ns) {
    if (!has) {
        has = true;
        before = start_ns >= since_ns ? 0 : now;
    }
    const uint64_t d = now >= before ? now - before : now;
    before = now;
    return d;
}

ProcessFacts facts_of(const procmon_event &e, const std::string &cgroup, const std::string &container_id) {
    ProcessFacts f;
    f.name = e.full_name ? e.full_name : (e.name ? e.name : "");
    f.exe = e.exe ? e.exe : "";
    f.argv = e.argv;
    f.argv_len = e.argv_len;
    f.cgroup = cgroup;
    f.container_id = container_id;
    f.uid = e.uid;
    return f;
}

}  // namespace

Collector::Collector(State &state) : state_(state), started_ns_(wall_ns()) {
    stats_.size = sizeof stats_;
}

Collector::~Collector() {
    stop_ = true;
    if (reader_ != nullptr) procmon_journal_reader_wake(reader_);
    if (thread_.joinable()) thread_.join();
    procmon_journal_reader_close(reader_);
    procmon_close(context_);
}

bool Collector::start(std::string &why) {
    procmon_journal_read_options o = PROCMON_JOURNAL_READ_OPTIONS_INIT;
    o.from_seq = state_.journal_next_seq();  // from now on: a restart counts anew, as Prometheus expects
    if (procmon_journal_reader_open(&reader_, state_.journal_dir.c_str(), &o) != PROCMON_OK) {
        why = std::string("reading the journal: ") + procmon_error_last()->message;
        return false;
    }
    // Its own context, capped as the daemon's is ([context] arena_cap_bytes),
    // with one reader thread: a refresh every few seconds has no hurry, and
    // no events (it never subscribes; the journal brings them).
    procmon_options co = PROCMON_OPTIONS_INIT;
    co.arena_cap_bytes = state_.config()->context.arena_cap_bytes;
    co.threads = 1;
    co.event_source = PROCMON_SOURCE_POLLING;
    co.endpoint = "";  // this machine, whatever PROCMON_ENDPOINT says
    if (procmon_open(&context_, &co) != PROCMON_OK) {
        why = std::string("opening the metrics' library context: ") + procmon_error_last()->message;
        return false;
    }
    io_since_ns_ = ctxsw_since_ns_ = started_ns_;
    update_rules();
    sample_context();
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "procmond-metric");
        run();
    });
    return true;
}

void Collector::update_rules() {
    // The generation first: a reload between the two reads is then seen
    // again at the next look, never missed.
    const uint64_t generation = state_.config_generation();
    if (classifier_ && generation == rules_generation_) return;
    const auto cfg = state_.config();
    rules_generation_ = generation;
    classifier_ = std::make_unique<Classifier>(cfg->metrics.groups);
    needs_cgroup_ = classifier_->needs_cgroup();
    // A reading switched on now counts from now for the processes running.
    const uint64_t enabled = cfg->metrics.read & ~read_;
    if (enabled & PROCMON_FIELD_IO) io_since_ns_ = wall_ns();
    if (enabled & PROCMON_FIELD_CTXSW) ctxsw_since_ns_ = wall_ns();
    for (auto &[pid, t] : procs_) {
        if (enabled & PROCMON_FIELD_IO) t.has_io = false;
        if (enabled & PROCMON_FIELD_CTXSW) t.has_ctxsw = false;
    }
    read_ = cfg->metrics.read;

    std::lock_guard<std::mutex> lock(mutex_);
    max_groups_ = cfg->metrics.max_groups;
    for (auto &[name, g] : groups_) g.fixed = name == kOtherGroup;
    groups_[std::string(kOtherGroup)].fixed = true;
    // Fixed names exist from the start, at zero, so that a group's first
    // exit is an increase Prometheus can see.
    for (const MetricsGroup &g : cfg->metrics.groups)
        if (g.name.find("{{") == std::string::npos) groups_[g.name].fixed = true;
    template_groups_ = 0;
    for (const auto &[name, g] : groups_) template_groups_ += !g.fixed;
}

GroupFigures &Collector::admit(const std::string &name, bool &overflowed) {
    overflowed = false;
    auto it = groups_.find(name);
    if (it != groups_.end()) return it->second;
    if (template_groups_ >= max_groups_) {
        overflowed = true;
        return groups_[std::string(kOtherGroup)];
    }
    ++template_groups_;  // a fixed name is made by update_rules: this one comes from a template
    return groups_[name];
}

GroupFigures &Collector::count_event(const std::string &name) {
    bool overflowed = false;
    GroupFigures &g = admit(name, overflowed);
    overflow_events_ += overflowed;
    g.last_active = refreshes_;
    return g;
}

Collector::Tracked &Collector::track(int32_t pid, uint64_t start_ticks) {
    Tracked &t = procs_[pid];
    if (t.start_ticks != start_ticks) {  // new, or the pid was reused
        t = Tracked{};
        t.start_ticks = start_ticks;
        t.seen = refreshes_;
    }
    return t;
}

void Collector::sample_context() {
    procmon_stats st{};
    st.size = sizeof st;
    {
        std::lock_guard<std::mutex> lock(state_.context_mutex);
        procmon_stats_get(&st, state_.context);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    // Events received, shared out to the source in force when they came
    // (the engine falls back from netlink to polling when netlink fails).
    const std::string source = st.source_name != nullptr && st.source_name[0] ? st.source_name : source_;
    if (!source.empty()) {
        received_by_source_[source] += st.events_received >= received_seen_ ? st.events_received - received_seen_ : 0;
        received_seen_ = st.events_received;
        source_ = source;
    }
    stats_ = st;
    stats_.source_name = stats_.source_reason = stats_.allocator = "";  // not kept: static text, but not read
}

void Collector::run() {
    std::vector<procmon_event> batch(256);
    uint64_t next_refresh = mono_ns();
    uint64_t last_error_logged = 0;
    constexpr uint64_t kSampleNs = 1000000000;  // the context's stats are at most a second old
    while (!stop_) {
        update_rules();
        if (mono_ns() >= next_refresh) {
            refresh();
            next_refresh = mono_ns() + uint64_t{state_.config()->metrics.refresh_interval_ms} * 1000000;
        }
        sample_context();
        const uint64_t now = mono_ns();
        const uint64_t wait_ns = std::min(next_refresh > now ? next_refresh - now : 0, kSampleNs);
        const int rc = procmon_journal_reader_wait(reader_, static_cast<int>(wait_ns / 1000000 + 1));
        if (stop_) break;
        if (rc == PROCMON_ETIMEDOUT || rc == PROCMON_EINTR) continue;
        if (rc == PROCMON_OK) {
            for (;;) {
                std::size_t n = 0;
                if (procmon_journal_reader_next(reader_, batch.data(), sizeof(procmon_event), batch.size(), &n, 0) !=
                    PROCMON_OK)
                    break;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    for (std::size_t i = 0; i < n; ++i) on_event(batch[i]);
                }
                if (n < batch.size()) break;
            }
            continue;
        }
        // The journal could not be read (ENOMEM, EIO): say so now and then,
        // and try again after a pause rather than spin.
        if (last_error_logged == 0 || mono_ns() - last_error_logged > 60ull * 1000000000) {
            last_error_logged = mono_ns();
            log(Level::error, "metrics: reading the journal: %s: %s", procmon_strerror(rc),
                procmon_error_last()->message);
        }
        for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void Collector::on_event(const procmon_event &e) {
    if (e.flags & PROCMON_EVENT_FLAG_THREAD) return;
    switch (e.type) {
    case PROCMON_EVENT_LOST: events_lost_ += e.lost != 0 ? e.lost : 1; return;
    case PROCMON_EVENT_START: {
        // A child starts in its parent's cgroup, and as a copy of it: when
        // it was gone before it could be read, it is in its parent's group.
        const auto seen = procs_.find(e.pid);
        const bool known = seen != procs_.end() && seen->second.start_ticks == e.start_ticks;
        Tracked &t = track(e.pid, e.start_ticks);  // may rehash: look the parent up after
        const auto parent = procs_.find(e.ppid);
        std::string name;
        if (known) {
            // A refresh saw it first (the journal runs behind /proc): its
            // group and counts stand; the start counts in the group of the
            // image it started as.
            name = classifier_->classify(facts_of(e, t.cgroup, t.container_id));
        } else {
            if (parent != procs_.end()) {
                t.cgroup = parent->second.cgroup;
                t.container_id = parent->second.container_id;
            }
            if ((e.flags & PROCMON_EVENT_FLAG_PARTIAL) && parent != procs_.end()) t.group = parent->second.group;
            else t.group = classifier_->classify(facts_of(e, t.cgroup, t.container_id));
            name = t.group;
        }
        ++count_event(name).starts;
        return;
    }
    case PROCMON_EVENT_EXEC: {
        Tracked &t = track(e.pid, e.start_ticks);
        // An exec keeps the cgroup. A program gone before its name and
        // arguments could be read stays in the group it was in (its
        // parent's, from its start): nothing to match it on.
        if (!(e.flags & PROCMON_EVENT_FLAG_PARTIAL) || t.group.empty())
            t.group = classifier_->classify(facts_of(e, t.cgroup, t.container_id));
        ++count_event(t.group).execs;
        return;
    }
    case PROCMON_EVENT_EXIT: {
        std::string name;
        auto it = procs_.find(e.pid);
        if (it != procs_.end() && it->second.start_ticks == e.start_ticks && !it->second.group.empty()) {
            name = std::move(it->second.group);
            procs_.erase(it);
        } else {
            name = classifier_->classify(facts_of(e, {}, {}));
        }
        GroupFigures &g = count_event(name);
        ++g.exits;
        if (!(e.flags & PROCMON_EVENT_FLAG_NO_STATUS)) {
            if (e.exit_signal > 0) ++g.exit_signals[e.exit_signal];
            else if (e.exit_code >= 0) ++g.exit_codes[e.exit_code & 0xFF];
        }
        if (e.lifetime_ns > 0) observe(g.lifetime, e.lifetime_ns);
        return;
    }
    default: return;  // uid and comm changes do not move a process between groups
    }
}

void Collector::refresh() {
    const uint64_t began = mono_ns();
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = PROCMON_FIELD_BASIC | PROCMON_FIELD_CPU | PROCMON_FIELD_MEMORY | PROCMON_FIELD_SCHED |
               PROCMON_FIELD_IDS | PROCMON_FIELD_EXE | PROCMON_FIELD_ARGV | read_ |
               (needs_cgroup_ ? PROCMON_FIELD_CGROUP : 0);
    procmon_snapshot *snap = nullptr;
    const int rc = procmon_enumerate(&snap, context_, &q);
    if (rc != PROCMON_OK) {
        log(Level::warning, "metrics: enumerating the processes: %s: %s", procmon_strerror(rc),
            procmon_error_last()->message);
        return;
    }
    const uint64_t pass = refreshes_ + 1;
    const bool want_fds = read_ & PROCMON_FIELD_FDS;
    // Each group's share, added up without the lock render takes.
    std::map<std::string, GroupFigures> shares;
    for (std::size_t i = 0, n = procmon_snapshot_count(snap); i < n; ++i) {
        const procmon_process &p = *procmon_snapshot_at(snap, i);
        Tracked &t = track(p.pid, p.start_ticks);
        if (p.valid & PROCMON_FIELD_CGROUP) {
            t.cgroup = p.cgroup;
            t.container_id = p.container_id;
        }
        // A zombie has no command line or exe left to match: it stays in
        // the group it was in (its exit may not have been counted yet).
        const bool dead = p.state_kind == PROCMON_STATE_ZOMBIE || p.state_kind == PROCMON_STATE_DEAD;
        if (!dead || t.group.empty()) {
            ProcessFacts f;
            f.name = p.full_name;
            f.exe = p.exe;
            f.argv = p.argv;
            f.argv_len = p.argv_len;
            f.cgroup = t.cgroup;
            f.container_id = t.container_id;
            f.uid = (p.valid & PROCMON_FIELD_IDS) ? p.euid : UINT32_MAX;
            t.group = classifier_->classify(f);
        }
        t.seen = pass;
        GroupFigures &g = shares[t.group];
        ++g.processes;
        g.threads += p.threads;
        ++g.states[state_index(p.state_kind)];
        if (p.start_time_ns != 0 && (g.oldest_start_ns == 0 || p.start_time_ns < g.oldest_start_ns))
            g.oldest_start_ns = p.start_time_ns;
        if (p.valid & PROCMON_FIELD_MEMORY) {
            g.rss += p.rss_bytes;
            g.vms += p.vms_bytes;
        }
        if (p.valid & PROCMON_FIELD_SMAPS) g.pss += p.pss_bytes;
        if (p.valid & PROCMON_FIELD_CPU) {
            bool has_system = t.has_cpu;
            g.user_ns += delta(p.utime_ns, t.user_ns, t.has_cpu, p.start_time_ns, started_ns_);
            g.system_ns += delta(p.stime_ns, t.system_ns, has_system, p.start_time_ns, started_ns_);
        }
        if (p.valid & PROCMON_FIELD_IO) {
            bool has_write = t.has_io;
            g.read_bytes += delta(p.io_read_bytes, t.read_bytes, t.has_io, p.start_time_ns, io_since_ns_);
            g.write_bytes += delta(p.io_write_bytes, t.write_bytes, has_write, p.start_time_ns, io_since_ns_);
        }
        if (p.valid & PROCMON_FIELD_CTXSW) {
            bool has_nonvoluntary = t.has_ctxsw;
            g.voluntary += delta(p.voluntary_ctxt_switches, t.voluntary, t.has_ctxsw, p.start_time_ns, ctxsw_since_ns_);
            g.nonvoluntary += delta(p.nonvoluntary_ctxt_switches, t.nonvoluntary, has_nonvoluntary, p.start_time_ns,
                                    ctxsw_since_ns_);
        }
        if (want_fds && (p.valid & PROCMON_FIELD_FDS)) {
            g.fds += p.fd_count;
            // Read once per process: a limit seldom changes in a process's life.
            if (!t.fd_limit_read) {
                t.fd_limit = platform::open_files_limit(p.pid);
                t.fd_limit_read = true;
            }
            if (t.fd_limit != 0 && t.fd_limit != UINT64_MAX) {
                const double ratio = static_cast<double>(p.fd_count) / static_cast<double>(t.fd_limit);
                if (ratio > g.worst_fd_ratio) g.worst_fd_ratio = ratio;
            }
        }
    }
    procmon_snapshot_free(snap);
    // Forget processes two refreshes have not seen: their exit was lost
    // (the exit of one seen once may still be on its way in the journal).
    for (auto it = procs_.begin(); it != procs_.end();) {
        if (it->second.seen + 2 <= pass) it = procs_.erase(it);
        else ++it;
    }

    std::lock_guard<std::mutex> lock(mutex_);
    for (auto &[name, g] : groups_) {  // gauges are this refresh's alone
        g.processes = g.threads = g.rss = g.vms = g.pss = g.fds = 0;
        g.states = {};
        g.worst_fd_ratio = 0;
        g.oldest_start_ns = 0;
    }
    overflow_processes_ = 0;
    for (const auto &[name, share] : shares) {
        bool overflowed = false;
        GroupFigures &g = admit(name, overflowed);
        if (overflowed) overflow_processes_ += share.processes;
        g.last_active = pass;
        g.processes += share.processes;
        g.threads += share.threads;
        for (std::size_t i = 0; i < g.states.size(); ++i) g.states[i] += share.states[i];
        if (share.oldest_start_ns != 0 && (g.oldest_start_ns == 0 || share.oldest_start_ns < g.oldest_start_ns))
            g.oldest_start_ns = share.oldest_start_ns;
        g.rss += share.rss;
        g.vms += share.vms;
        g.pss += share.pss;
        g.fds += share.fds;
        g.worst_fd_ratio = std::max(g.worst_fd_ratio, share.worst_fd_ratio);
        g.user_ns += share.user_ns;
        g.system_ns += share.system_ns;
        g.read_bytes += share.read_bytes;
        g.write_bytes += share.write_bytes;
        g.voluntary += share.voluntary;
        g.nonvoluntary += share.nonvoluntary;
    }
    for (auto it = groups_.begin(); it != groups_.end();) {
        if (!it->second.fixed && it->second.last_active + kIdleRefreshes <= pass) {
            it = groups_.erase(it);
            --template_groups_;
        } else {
            ++it;
        }
    }
    refresh_ns_ = mono_ns() - began;
    refreshes_ = pass;
}

void Collector::render(Writer &w) {
    using T = Writer::Type;
    std::lock_guard<std::mutex> lock(mutex_);
    auto each = [&](const char *name, T type, const char *help, auto &&emit) {
        w.family(name, type, help);
        for (const auto &[group, g] : groups_) emit(name, std::string_view(group), g);
    };
    each("procmon_group_processes", T::gauge, "Processes in the group at the last refresh.",
         [&](const char *n, std::string_view group, const GroupFigures &g) { w.sample(n, {{"group", group}}, g.processes); });
    each("procmon_group_threads", T::gauge, "Threads of the group's processes at the last refresh.",
         [&](const char *n, std::string_view group, const GroupFigures &g) { w.sample(n, {{"group", group}}, g.threads); });
    each("procmon_group_states", T::gauge, "The group's processes by state at the last refresh.",
         [&](const char *n, std::string_view group, const GroupFigures &g) {
             for (std::size_t i = 0; i < g.states.size(); ++i)
                 w.sample(n, {{"group", group}, {"state", kStateNames[i]}}, g.states[i]);
         });
    each("procmon_group_cpu_seconds_total", T::counter,
         "CPU time of the group's processes, counted at each refresh (CPU since the last refresh of a process "
         "that exited in between is not counted).",
         [&](const char *n, std::string_view group, const GroupFigures &g) {
             w.sample(n, {{"group", group}, {"mode", "user"}}, static_cast<double>(g.user_ns) / 1e9);
             w.sample(n, {{"group", group}, {"mode", "system"}}, static_cast<double>(g.system_ns) / 1e9);
         });
    const auto cfg = state_.config();
    const bool pss = cfg->metrics.read & PROCMON_FIELD_SMAPS;
    each("procmon_group_memory_bytes", T::gauge,
         "Memory of the group's processes at the last refresh: resident, virtual, and proportional (PSS, "
         "with metrics.read \"pss\").",
         [&](const char *n, std::string_view group, const GroupFigures &g) {
             w.sample(n, {{"group", group}, {"kind", "resident"}}, g.rss);
             w.sample(n, {{"group", group}, {"kind", "virtual"}}, g.vms);
             if (pss) w.sample(n, {{"group", group}, {"kind", "proportional"}}, g.pss);
         });
    if (cfg->metrics.read & PROCMON_FIELD_FDS) {
        each("procmon_group_open_fds", T::gauge, "Open file descriptors of the group's processes.",
             [&](const char *n, std::string_view group, const GroupFigures &g) { w.sample(n, {{"group", group}}, g.fds); });
        each("procmon_group_worst_fd_ratio", T::gauge,
             "The highest ratio of open file descriptors to the soft limit among the group's processes.",
             [&](const char *n, std::string_view group, const GroupFigures &g) {
                 w.sample(n, {{"group", group}}, g.worst_fd_ratio);
             });
    }
    if (cfg->metrics.read & PROCMON_FIELD_IO) {
        each("procmon_group_io_bytes_total", T::counter,
             "Bytes the group's processes read from and wrote to storage (read_bytes, write_bytes of /proc/PID/io).",
             [&](const char *n, std::string_view group, const GroupFigures &g) {
                 w.sample(n, {{"group", group}, {"direction", "read"}}, g.read_bytes);
                 w.sample(n, {{"group", group}, {"direction", "write"}}, g.write_bytes);
             });
    }
    if (cfg->metrics.read & PROCMON_FIELD_CTXSW) {
        each("procmon_group_context_switches_total", T::counter, "Context switches of the group's processes.",
             [&](const char *n, std::string_view group, const GroupFigures &g) {
                 w.sample(n, {{"group", group}, {"kind", "voluntary"}}, g.voluntary);
                 w.sample(n, {{"group", group}, {"kind", "nonvoluntary"}}, g.nonvoluntary);
             });
    }
    each("procmon_group_oldest_start_time_seconds", T::gauge,
         "Start time of the group's oldest process, seconds since the Unix epoch (0 when it has none).",
         [&](const char *n, std::string_view group, const GroupFigures &g) {
             w.sample(n, {{"group", group}}, static_cast<double>(g.oldest_start_ns) / 1e9);
         });
    each("procmon_group_starts_total", T::counter, "Processes started (fork) in the group, from events.",
         [&](const char *n, std::string_view group, const GroupFigures &g) { w.sample(n, {{"group", group}}, g.starts); });
    each("procmon_group_execs_total", T::counter, "Programs executed in the group, from events.",
         [&](const char *n, std::string_view group, const GroupFigures &g) { w.sample(n, {{"group", group}}, g.execs); });
    each("procmon_group_exits_total", T::counter, "Processes of the group that exited, whatever their status.",
         [&](const char *n, std::string_view group, const GroupFigures &g) { w.sample(n, {{"group", group}}, g.exits); });
    each("procmon_group_exit_codes_total", T::counter, "Exits by exit code (0 to 255), of processes that called exit.",
         [&](const char *n, std::string_view group, const GroupFigures &g) {
             for (const auto &[code, count] : g.exit_codes)
                 w.sample(n, {{"group", group}, {"code", std::to_string(code)}}, count);
         });
    each("procmon_group_exit_signals_total", T::counter, "Exits by the signal that ended the process.",
         [&](const char *n, std::string_view group, const GroupFigures &g) {
             for (const auto &[sig, count] : g.exit_signals)
                 w.sample(n, {{"group", group}, {"signal", signal_name(sig)}}, count);
         });
    w.family("procmon_group_lifetime_seconds", T::histogram, "How long the group's processes lived, at their exit.");
    HistogramValue empty;
    for (const auto &[group, g] : groups_)
        w.histogram("procmon_group_lifetime_seconds", {{"group", group}}, lifetime_bounds(),
                    g.lifetime.buckets.empty() ? empty : g.lifetime);
    w.family("procmond_events_received_total", T::counter,
             "Events the kernel source produced, by the source in force when they came.");
    for (const auto &[source, count] : received_by_source_)
        w.sample("procmond_events_received_total", {{"source", source}}, count);
    w.family("procmond_kernel_events_lost_total", T::counter,
             "Events the kernel dropped before procmond could read them (netlink ENOBUFS).");
    w.sample("procmond_kernel_events_lost_total", {}, stats_.events_lost);
    w.family("procmond_arena_used_bytes", T::gauge, "Bytes the context's bounded arena holds now.");
    w.sample("procmond_arena_used_bytes", {}, stats_.arena_used_bytes);
    w.family("procmond_arena_cap_bytes", T::gauge, "The arena's cap (context.arena_cap_bytes).");
    w.sample("procmond_arena_cap_bytes", {}, stats_.arena_cap_bytes);
    w.family("procmon_events_lost_total", T::counter,
             "Events lost before metrics could count them (kernel drops, journal gaps).");
    w.sample("procmon_events_lost_total", {}, events_lost_);
    w.family("procmond_metrics_groups", T::gauge, "Process groups known (\"other\" included).");
    w.sample("procmond_metrics_groups", {}, uint64_t{groups_.size()});
    w.family("procmond_metrics_group_overflow_events_total", T::counter,
             "Events counted in \"other\" because their group was new and metrics.max_groups was reached.");
    w.sample("procmond_metrics_group_overflow_events_total", {}, overflow_events_);
    w.family("procmond_metrics_group_overflow_processes", T::gauge,
             "Processes counted in \"other\" at the last refresh because metrics.max_groups was reached.");
    w.sample("procmond_metrics_group_overflow_processes", {}, overflow_processes_);
    w.family("procmond_metrics_refresh_duration_seconds", T::gauge, "How long the last refresh of the groups took.");
    w.sample("procmond_metrics_refresh_duration_seconds", {}, static_cast<double>(refresh_ns_) / 1e9);
    w.family("procmond_metrics_refreshes_total", T::counter, "Refreshes of the groups' figures.");
    w.sample("procmond_metrics_refreshes_total", {}, refreshes_);
}

}  // namespace procmon::daemon::metrics
