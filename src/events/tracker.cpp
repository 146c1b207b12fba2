#include "events/tracker.hpp"

#include <algorithm>
#include <cstring>

namespace procmon::events {
namespace {

using platform::Read;

CollectorOptions one_thread() {
    CollectorOptions co;
    co.threads = 1;  // the collector thread reads alone
    return co;
}

}  // namespace

int Tracker::open(const std::shared_ptr<Arena> &arena, const std::string &proc_root, std::unique_ptr<Tracker> &out) {
    std::unique_ptr<platform::ProcSource> proc;
    int rc = platform::ProcSource::open(proc_root.empty() ? nullptr : proc_root.c_str(), arena.get(), proc);
    if (rc != PROCMON_OK) return rc;
    out = std::make_unique<Tracker>(arena, std::move(proc));
    return PROCMON_OK;
}

Tracker::Tracker(std::shared_ptr<Arena> arena, std::unique_ptr<platform::ProcSource> proc)
    : arena_(std::move(arena)), proc_(std::move(proc)), collector_(arena_, proc_.get(), one_thread()),
      known_(ArenaAllocator<std::pair<const int32_t, Known>>(arena_.get())),
      scratch_(ArenaAllocator<char>(arena_.get())), exe_(ArenaAllocator<char>(arena_.get())),
      argv_(ArenaAllocator<char>(arena_.get())), pids_(ArenaAllocator<int32_t>(arena_.get())),
      candidates_(ArenaAllocator<int32_t>(arena_.get())),
      candidate_runs_(ArenaAllocator<std::optional<platform::RunCount>>(arena_.get())) {
    const int64_t mono = platform::now_ns(platform::Clock::monotonic);
    mono_to_wall_ = platform::now_ns(platform::Clock::realtime) - mono;
    mono_to_boot_ = platform::now_ns(platform::Clock::boottime) - mono;
}

// ------------------------------------------------------------ reading

StringsRef Tracker::make_strings(const char *name, const char *exe, const char *argv, std::size_t argv_len,
                                 uint32_t argc) {
    try {
        return StringsRef(EventStrings::make(arena_.get(), name, exe, argv, argv_len, argc));
    } catch (const ArenaFull &) {
        return StringsRef();  // the event still goes out, flagged partial
    }
}

bool Tracker::read_identity(int32_t pid, Known &out, platform::Stat &st) {
    if (proc_->stat(pid, st, scratch_) != Read::ok) return false;
    out.start_ticks = st.start_ticks;
    out.start_boot_ns = st.start_boot_ns;
    out.start_time_ns = st.start_time_ns;
    out.ppid = st.ppid;
    return true;
}

bool Tracker::read_process(int32_t pid, Known &out, const platform::KernelEvent *carried) {
    platform::Stat st;
    if (!read_identity(pid, out, st)) return false;
    platform::Status status;
    if (proc_->status(pid, false, status, scratch_) == Read::ok && status.has_ids) {
        out.uid = status.euid;
        out.has_uid = true;
    }
    const uint32_t has = carried ? carried->carried : 0;
    const bool has_exe = has & platform::KernelEvent::carries_exe, has_argv = has & platform::KernelEvent::carries_argv;
    // An exiting process's or a zombie's exe and argv are gone, not empty:
    // what it ran is unknown (PARTIAL), so a command line filter cannot take
    // it for an empty one. What the source saw at the exec still holds.
    if (platform::image_released(st) && !has_argv) {
        out.strings.reset();
        return true;
    }
    exe_.clear();
    argv_.clear();
    bool truncated = false;
    if (has_exe) exe_.assign(carried->exe, carried->exe + carried->exe_len);
    else if (!st.kernel_thread && proc_->exe(pid, exe_) != Read::ok) exe_.clear();
    if (has_argv) argv_.assign(carried->argv, carried->argv + carried->argv_len);
    else if (!st.kernel_thread && proc_->argv(pid, 0, st.argv_bytes, argv_, truncated) != Read::ok) argv_.clear();
    // Empty argv from a process that died between the reads above: gone,
    // not empty (PARTIAL), as for one first read dead.
    if (argv_.empty() && !has_argv && !st.kernel_thread && platform::gone_since(*proc_, pid, st, scratch_)) {
        out.strings.reset();
        return true;
    }
    exe_.push_back('\0');
    uint32_t argc = static_cast<uint32_t>(std::count(argv_.begin(), argv_.end(), '\0'));
    out.strings = make_strings(st.name, exe_.data(), argv_.data(), argv_.size(), argc);
    return true;
}

// ------------------------------------------------------------ snapshots

void Tracker::baseline() {
    scan(false, 0, nullptr);
    forget_exited();
}

void Tracker::rescan(uint32_t flags, Batch &out) {
    scan(true, flags, &out);
}

void Tracker::forget_exited() {
    std::erase_if(known_, [gen = generation_](const auto &entry) { return entry.second.seen != gen; });
}

void Tracker::scan(bool emit_events, uint32_t flags, Batch *out) {
    if (proc_->list_pids(pids_) != PROCMON_OK) return;
    const uint64_t gen = ++generation_;
    // Probe first, read after: a process that has not run since the probe
    // before its last full read is as that read saw it (see RunCount).
    candidates_.clear();
    candidate_runs_.clear();
    for (int32_t pid : pids_) {
        platform::RunCount counts;
        std::optional<platform::RunCount> ran;
        if (proc_->run_count(pid, counts, scratch_) == Read::ok) ran = counts;
        auto it = known_.find(pid);
        if (ran && it != known_.end() && it->second.ran == ran) {
            it->second.seen = gen;
            continue;
        }
        candidates_.push_back(pid);
        candidate_runs_.push_back(ran);
    }
    Query q;
    q.fields = PROCMON_FIELD_BASIC | PROCMON_FIELD_IDS | PROCMON_FIELD_EXE | PROCMON_FIELD_ARGV;
    q.pids = &candidates_;
    SnapshotPtr snap;
    if (collector_.enumerate(q, snap) != PROCMON_OK) return;
    collector_.retain(pids_);  // the pid filter kept the cache of the exited too
    auto record_run = [this](Known &k, int32_t pid) {
        const auto at = std::lower_bound(candidates_.begin(), candidates_.end(), pid);
        if (at == candidates_.end() || *at != pid) return;  // records are of candidates only
        k.ran = candidate_runs_[static_cast<std::size_t>(at - candidates_.begin())];
    };
    const uint64_t now = static_cast<uint64_t>(platform::now_ns(platform::Clock::realtime));
    auto same_strings = [](const Known &k, const procmon_process &p) {
        EventStrings *s = k.strings.get();
        return s && std::strcmp(s->name(), p.name) == 0 && std::strcmp(s->exe(), p.exe) == 0 &&
               s->argv_len() == p.argv_len && std::memcmp(s->argv(), p.argv, p.argv_len) == 0;
    };
    // A process whose argv could not be read (it died first, a zombie
    // first seen dead): its image is unknown, not empty (PARTIAL).
    auto image_gone = [](const procmon_process &p) {
        return !(p.flags & PROCMON_PROC_KTHREAD) && !(p.valid & PROCMON_FIELD_ARGV);
    };
    for (const procmon_process &p : snap->records) {
        auto it = known_.find(p.pid);
        if (it != known_.end() && it->second.start_ticks == p.start_ticks) {
            it->second.seen = gen;
            record_run(it->second, p.pid);
            if (!image_gone(p) && !same_strings(it->second, p)) {  // it exec'd
                it->second.strings = make_strings(p.name, p.exe, p.argv, p.argv_len, p.argc);
                it->second.uid = p.euid;
                if (emit_events) emit(*out, PROCMON_EVENT_EXEC, flags, p.pid, it->second, p.ppid, now);
            }
            continue;
        }
        if (it != known_.end()) {  // the pid was reused: the old process is gone
            if (emit_events)
                emit(*out, PROCMON_EVENT_EXIT, flags | PROCMON_EVENT_FLAG_NO_STATUS, p.pid, it->second, it->second.ppid, now);
            known_.erase(it);
        }
        Known k;
        k.start_ticks = p.start_ticks;
        k.start_time_ns = p.start_time_ns;
        k.start_boot_ns = p.start_time_ns - std::min<uint64_t>(p.start_time_ns, static_cast<uint64_t>(mono_to_wall_ - mono_to_boot_));
        k.ppid = p.ppid;
        k.uid = p.euid;
        k.has_uid = (p.valid & PROCMON_FIELD_IDS) != 0;
        k.seen = gen;
        record_run(k, p.pid);
        if (!image_gone(p)) k.strings = make_strings(p.name, p.exe, p.argv, p.argv_len, p.argc);
        auto [ins, ok] = known_.emplace(p.pid, std::move(k));
        (void)ok;
        if (emit_events) emit(*out, PROCMON_EVENT_START, flags, p.pid, ins->second, p.ppid, now);
    }
    if (emit_events)
        for (auto &[pid, k] : known_)
            if (k.seen != gen) emit(*out, PROCMON_EVENT_EXIT, flags | PROCMON_EVENT_FLAG_NO_STATUS, pid, k, k.ppid, now);
}

// ------------------------------------------------------------ kernel events

void Tracker::handle(const platform::KernelEvent &k, bool want_threads, Batch &out) {
    const uint64_t wall = static_cast<uint64_t>(static_cast<int64_t>(k.time_ns) + mono_to_wall_);
    const uint64_t boot = static_cast<uint64_t>(static_cast<int64_t>(k.time_ns) + mono_to_boot_);
    const bool thread = k.pid != k.tgid;
    switch (k.kind) {
    case platform::KernelEvent::forked: {
        if (thread) {
            if (want_threads) {
                Known t;
                auto parent = known_.find(k.tgid);
                if (parent != known_.end()) {
                    t.strings = parent->second.strings.share();
                    t.uid = parent->second.uid;
                    t.has_uid = parent->second.has_uid;
                }
                emit(out, PROCMON_EVENT_START, PROCMON_EVENT_FLAG_THREAD, k.pid, t, k.tgid, wall);
            }
            return;
        }
        Known n;
        uint32_t flags = 0;
        // A forked child is its parent's image: name, exe, argv and uid come
        // from the parent we know; only its identity needs reading (one stat
        // instead of four files), and EXEC reads the new image.
        auto parent = known_.find(k.parent_tgid);
        const bool from_parent = parent != known_.end() && parent->second.strings && parent->second.has_uid;
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
            if (parent != known_.end()) {
                n.strings = parent->second.strings.share();
                n.uid = parent->second.uid;
                n.has_uid = parent->second.has_uid;
            }
        }
        n.seen = generation_;
        Known &slot = known_[k.pid] = std::move(n);
        emit(out, PROCMON_EVENT_START, flags, k.pid, slot, slot.ppid, wall);
        return;
    }
    case platform::KernelEvent::execed: {
        auto it = known_.find(k.tgid);
        Known fresh;
        uint32_t flags = 0;
        if (read_process(k.tgid, fresh, &k)) {
            if (it != known_.end()) {
                it->second.strings = std::move(fresh.strings);
                it->second.uid = fresh.uid;
                it->second.has_uid = fresh.has_uid;
            } else {
                fresh.seen = generation_;
                it = known_.emplace(k.tgid, std::move(fresh)).first;
            }
        } else {
            flags = PROCMON_EVENT_FLAG_PARTIAL;  // exec'd and gone: the new image is unknown
            if (it != known_.end()) it->second.strings.reset();
        }
        const Known none;
        const bool found = it != known_.end();
        emit(out, PROCMON_EVENT_EXEC, flags, k.tgid, found ? it->second : none, found ? it->second.ppid : 0, wall);
        return;
    }
    case platform::KernelEvent::uid_changed:
    case platform::KernelEvent::gid_changed:
    case platform::KernelEvent::renamed: {
        if (thread) return;
        auto it = known_.find(k.tgid);
        if (it == known_.end()) return;
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
        emit(out, type, 0, k.tgid, it->second, it->second.ppid, wall);
        return;
    }
    case platform::KernelEvent::exited: {
        if (thread) {
            if (want_threads) emit(out, PROCMON_EVENT_EXIT, PROCMON_EVENT_FLAG_THREAD, k.pid, Known{}, k.tgid, wall);
            return;
        }
        // Forgotten at once: its parent stays known, so descends() still
        // places it while the event is delivered.
        auto it = known_.find(k.tgid);
        Known gone;
        uint32_t flags = 0;
        if (it != known_.end()) {
            gone = std::move(it->second);
            known_.erase(it);
        } else if (!read_process(k.tgid, gone)) {  // started before we listened, unseen since
            flags = PROCMON_EVENT_FLAG_PARTIAL;
            gone.ppid = k.parent_tgid;
        }
        const ExitStatus status{k.exit_code, k.exit_signal,
                                gone.start_boot_ns && boot > gone.start_boot_ns ? boot - gone.start_boot_ns : 0};
        emit(out, PROCMON_EVENT_EXIT, flags, k.tgid, gone, gone.ppid, wall, &status);
        return;
    }
    }
}

// ------------------------------------------------------------ events out

void Tracker::emit(Batch &out, uint32_t type, uint32_t flags, int32_t pid, const Known &k, int32_t ppid,
                   uint64_t time_wall_ns, const ExitStatus *exit) {
    Pending &p = out.emplace_back();
    procmon_event &e = p.e;
    e.type = type;  // uid: (uint32_t)-1 when unknown, so a uid filter never matches a guess
    e.flags = flags | (k.strings ? 0u : PROCMON_EVENT_FLAG_PARTIAL);
    e.pid = pid;
    e.ppid = ppid;
    e.uid = k.has_uid ? k.uid : UINT32_MAX;
    e.time_ns = time_wall_ns;
    e.start_ticks = k.start_ticks;
    e.start_time_ns = k.start_time_ns;
    e.exit_code = -1;
    if (exit != nullptr) {
        e.exit_code = exit->code;
        e.exit_signal = exit->signal;
        e.lifetime_ns = exit->lifetime_ns;
    } else if (type == PROCMON_EVENT_EXIT && k.start_time_ns && time_wall_ns > k.start_time_ns) {
        e.lifetime_ns = time_wall_ns - k.start_time_ns;  // polling: from the wall clock
    }
    p.strings = k.strings.share();
}

bool Tracker::descends(int32_t ppid, int32_t ancestor) const {
    for (int depth = 0; depth < 512 && ppid > 0; ++depth) {  // bounded: pid loops cannot hang us
        if (ppid == ancestor) return true;
        auto it = known_.find(ppid);
        if (it == known_.end()) return false;
        ppid = it->second.ppid;
    }
    return false;
}

}  // namespace procmon::events
