#include "collect/collector.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <exception>
#include <iterator>
#include <string_view>
#include <thread>

#include "core/glob.hpp"
#include "core/names.hpp"

namespace procmon {

using platform::Bytes;
using platform::Read;

void SnapshotDeleter::operator()(procmon_snapshot *s) const noexcept {
    std::shared_ptr<Arena> keep = s->arena;  // the arena must outlive the free below
    s->~procmon_snapshot();
    keep->deallocate(s);
}

SnapshotPtr new_snapshot(const std::shared_ptr<Arena> &arena) {
    void *mem = arena->allocate(sizeof(procmon_snapshot));
    return SnapshotPtr(new (mem) procmon_snapshot(arena));
}

// One slice of the pid list with the old cache entries that cover it, read
// into its own records and new cache entries. Slices share nothing, so they
// could be read on different threads.
struct Collector::Range {
    explicit Range(Arena *a)
        : records(ArenaAllocator<procmon_process>(a)), entries(ArenaAllocator<CacheEntry>(a)),
          scratch(ArenaAllocator<char>(a)), exe(ArenaAllocator<char>(a)), argv(ArenaAllocator<char>(a)),
          extra(ArenaAllocator<char>(a)), extra2(ArenaAllocator<char>(a)), line(ArenaAllocator<char>(a)), strings(a),
          arena(a) {}

    const int32_t *pid_begin = nullptr, *pid_end = nullptr;
    CacheEntry *old_begin = nullptr, *old_end = nullptr;
    bool keep_unlisted = false;  // a pid-filtered query: entries not listed are not dead

    std::vector<procmon_process, ArenaAllocator<procmon_process>> records;
    Cache entries;
    Bytes scratch, exe, argv, extra, extra2;
    Bytes line;  // the command line a cmdline filter matches
    StringPool strings;
    Arena *arena;
    CollectorCounters counters;
    std::exception_ptr error;  // what a reader thread threw, rethrown by the caller
};

namespace {

bool same_exec(const CacheEntry &e, const platform::Stat &st) {
    return std::strcmp(e.name, st.name) == 0 && std::memcmp(e.exec_key, st.exec_key, sizeof e.exec_key) == 0;
}

bool is_dead(const platform::Stat &st) {
    return st.state_kind == PROCMON_STATE_ZOMBIE || st.state_kind == PROCMON_STATE_DEAD;
}

double cpu_percent(uint64_t cpu_ns, uint64_t since_cpu_ns, uint64_t now_ns, uint64_t since_ns) {
    if (now_ns <= since_ns || cpu_ns < since_cpu_ns) return 0.0;
    return 100.0 * static_cast<double>(cpu_ns - since_cpu_ns) / static_cast<double>(now_ns - since_ns);
}

}  // namespace

Collector::Collector(std::shared_ptr<Arena> arena, platform::ProcSource *source, CollectorOptions opts)
    : arena_(std::move(arena)), source_(source), opts_(opts), cache_(ArenaAllocator<CacheEntry>(arena_.get())),
      pids_(ArenaAllocator<int32_t>(arena_.get())) {}

Collector::~Collector() = default;

void Collector::read_range(const Query &q, Range &r, uint64_t now_ns) {
    const uint64_t fields = q.fields;
    const bool want_ids = (fields & PROCMON_FIELD_IDS) || q.uid >= 0;
    const bool want_status_always = fields & PROCMON_FIELD_CTXSW;  // dynamic: read every time
    const bool reread_static = q.refresh || !opts_.cache_static;
    StringPool &pool = r.strings;

    CacheEntry *old = r.old_begin;
    for (const int32_t *it = r.pid_begin; it != r.pid_end; ++it) {
        const int32_t pid = *it;
        for (; old != r.old_end && old->pid < pid; ++old)
            if (r.keep_unlisted) r.entries.push_back(std::move(*old));
        CacheEntry *prior = (old != r.old_end && old->pid == pid) ? old++ : nullptr;

        platform::Stat st;
        if (source_->stat(pid, st, r.scratch) != Read::ok) continue;  // gone or unreadable: no record
        if (prior != nullptr && prior->start_ticks != st.start_ticks) prior = nullptr;  // pid reused
        platform::Status status;
        bool status_read = false;  // the read below serves the ids too
        if (r.keep_unlisted && prior == nullptr) {
            // A listed pid may name a thread: /proc/<tid> exists, unlisted,
            // and reads like a process. A thread is not one (psutil agrees).
            status_read = source_->status(pid, want_status_always, status, r.scratch) == Read::ok;
            if (status_read && status.pid == pid && status.tgid != 0 && status.tgid != pid) continue;
        }

        // A name the kernel cut at 15 bytes needs argv (or exe) for the name
        // users see; any other is decided here, before anything else is read.
        const std::string_view comm(st.name);
        const bool name_cut = !st.kernel_thread && comm.size() >= kCommCut;
        if (q.name_glob != nullptr && !name_cut && !glob_match(q.name_glob, st.name)) {
            if (prior != nullptr) r.entries.push_back(std::move(*prior));
            continue;
        }

        r.entries.emplace_back(r.arena);
        CacheEntry &e = r.entries.back();
        if (prior != nullptr) {
            e = std::move(*prior);
            // An exec changes comm or the code/argument addresses; a dead
            // process cannot exec, and its addresses read as 0.
            if (!is_dead(st) && !same_exec(e, st)) e.forget_static_facts();
        } else {
            e.pid = pid;
            e.start_ticks = st.start_ticks;
        }
        if (reread_static) e.forget_static_facts();
        if (!is_dead(st)) {
            std::memcpy(e.name, st.name, sizeof e.name);
            std::memcpy(e.exec_key, st.exec_key, sizeof e.exec_key);
        }

        procmon_process rec{};
        rec.size = sizeof rec;
        rec.valid = PROCMON_FIELD_BASIC;
        bool hit = true;

        if ((want_ids && !e.has_ids) || want_status_always) {
            hit = false;
            if ((status_read || source_->status(pid, want_status_always, status, r.scratch) == Read::ok) &&
                status.has_ids) {
                e.has_ids = true;
                e.uid = status.uid, e.euid = status.euid, e.suid = status.suid;
                e.gid = status.gid, e.egid = status.egid, e.sgid = status.sgid;
            }
        }
        if (q.uid >= 0 && (!e.has_ids || e.euid != static_cast<uint64_t>(q.uid))) continue;

        const bool want_argv = (fields & PROCMON_FIELD_ARGV) || name_cut || q.cmdline_glob != nullptr;
        if (want_argv && !e.has_argv) {
            hit = false;
            bool truncated = false;
            if (st.kernel_thread) {
                e.has_argv = true;  // and no arguments
            } else if (source_->argv(pid, opts_.argv_cap, st.argv_bytes, r.argv, truncated) == Read::ok &&
                       !(r.argv.empty() && (platform::image_released(st) || platform::gone_since(*source_, pid, st, r.scratch)))) {
                // a zombie's argv is gone, not empty: also one that died after its stat was read
                e.argv.assign(r.argv.begin(), r.argv.end());
                e.argc = static_cast<uint32_t>(std::count(e.argv.begin(), e.argv.end(), '\0'));
                e.argv_truncated = truncated;
                e.has_argv = true;
            }
        }
        std::string_view full = comm;
        if (name_cut) {
            full = full_name(comm, e.has_argv ? e.argv.data() : nullptr, e.argv.size(), {});
            if (full.size() == comm.size() && !e.has_exe && source_->exe(pid, r.exe) == Read::ok) {
                hit = false;
                e.exe.assign(r.exe.begin(), r.exe.end());
                e.has_exe = true;
            }
            if (full.size() == comm.size() && e.has_exe) full = full_name(comm, nullptr, 0, {e.exe.data(), e.exe.size()});
        }
        if (q.name_glob != nullptr && name_cut) {
            r.line.assign(full.begin(), full.end());
            r.line.push_back('\0');
            if (!glob_match(q.name_glob, r.line.data())) continue;
        }
        if (q.cmdline_glob != nullptr && !(e.has_argv && glob_match(q.cmdline_glob, join_argv(e.argv.data(), e.argv.size(), r.line))))
            continue;

        if ((fields & PROCMON_FIELD_EXE) && !e.has_exe) {
            hit = false;
            if (st.kernel_thread) {
                e.has_exe = true;  // a kernel thread has no executable
            } else if (source_->exe(pid, r.exe) == Read::ok) {
                e.exe.assign(r.exe.begin(), r.exe.end());
                e.has_exe = true;
            }
        }
        ++(hit ? r.counters.cache_hits : r.counters.cache_misses);

        rec.pid = pid;
        rec.ppid = st.ppid;
        rec.pgid = st.pgid;
        rec.sid = st.sid;
        rec.tty = st.tty;
        rec.state = st.state;
        rec.state_kind = st.state_kind;
        rec.flags = (st.kernel_thread ? PROCMON_PROC_KTHREAD : 0u) |
                    (st.state_kind == PROCMON_STATE_ZOMBIE ? PROCMON_PROC_ZOMBIE : 0u);
        rec.name = pool.add(st.name, comm.size());
        rec.full_name = full.size() == comm.size() ? rec.name : pool.add(full.data(), full.size());
        rec.start_ticks = st.start_ticks;
        rec.start_time_ns = st.start_time_ns;
        rec.exe = rec.argv = rec.cwd = rec.cgroup = rec.container_id = "";

        const uint64_t cpu_ns = st.utime_ns + st.stime_ns;
        if (fields & PROCMON_FIELD_CPU) {
            rec.valid |= PROCMON_FIELD_CPU;
            rec.utime_ns = st.utime_ns;
            rec.stime_ns = st.stime_ns;
            rec.cpu_percent = prior != nullptr ? cpu_percent(cpu_ns, e.cpu_ns, now_ns, e.sample_ns)
                                               : cpu_percent(cpu_ns, 0, now_ns, st.start_boot_ns);
        }
        e.cpu_ns = cpu_ns;
        e.sample_ns = now_ns;

        if ((fields & PROCMON_FIELD_MEMORY) && st.has_memory) {
            rec.valid |= PROCMON_FIELD_MEMORY;
            rec.rss_bytes = st.rss_bytes;
            rec.vms_bytes = st.vms_bytes;
            if (mem_total_ > 0)
                rec.mem_percent = 100.0 * static_cast<double>(st.rss_bytes) / static_cast<double>(mem_total_);
        }
        if (fields & PROCMON_FIELD_SCHED) {
            rec.valid |= PROCMON_FIELD_SCHED;
            rec.threads = st.threads;
            rec.nice = st.nice;
            rec.priority = st.priority;
        }
        if ((fields & PROCMON_FIELD_IDS) && e.has_ids) {
            rec.valid |= PROCMON_FIELD_IDS;
            rec.uid = e.uid, rec.euid = e.euid, rec.suid = e.suid;
            rec.gid = e.gid, rec.egid = e.egid, rec.sgid = e.sgid;
        }
        if ((fields & PROCMON_FIELD_EXE) && e.has_exe) {
            rec.valid |= PROCMON_FIELD_EXE;
            rec.exe = pool.add(e.exe.data(), e.exe.size());
        }
        if ((fields & PROCMON_FIELD_ARGV) && e.has_argv) {
            rec.valid |= PROCMON_FIELD_ARGV;
            // the pool's own terminator is redundant after the last argument's
            rec.argv = pool.add(e.argv.data(), e.argv.size());
            rec.argv_len = e.argv.size();
            rec.argc = e.argc;
            if (e.argv_truncated) rec.flags |= PROCMON_PROC_ARGV_TRUNCATED;
        }

        // Opt-in groups change all the time: never cached.
        if ((fields & PROCMON_FIELD_CTXSW) && status.has_ctxsw) {
            rec.valid |= PROCMON_FIELD_CTXSW;
            rec.voluntary_ctxt_switches = status.voluntary;
            rec.nonvoluntary_ctxt_switches = status.nonvoluntary;
        }
        if ((fields & PROCMON_FIELD_CWD) && source_->cwd(pid, r.extra) == Read::ok) {
            rec.valid |= PROCMON_FIELD_CWD;
            rec.cwd = pool.add(r.extra.data(), r.extra.size());
        }
        if ((fields & PROCMON_FIELD_FDS) && source_->fd_count(pid, rec.fd_count, r.scratch) == Read::ok)
            rec.valid |= PROCMON_FIELD_FDS;
        platform::Io io;
        if ((fields & PROCMON_FIELD_IO) && source_->io(pid, io, r.scratch) == Read::ok) {
            rec.valid |= PROCMON_FIELD_IO;
            rec.io_rchar = io.rchar, rec.io_wchar = io.wchar, rec.io_syscr = io.syscr, rec.io_syscw = io.syscw;
            rec.io_read_bytes = io.read_bytes, rec.io_write_bytes = io.write_bytes;
        }
        if ((fields & PROCMON_FIELD_CGROUP) && source_->cgroup(pid, r.extra, r.extra2, r.scratch) == Read::ok) {
            rec.valid |= PROCMON_FIELD_CGROUP;
            rec.cgroup = pool.add(r.extra.data(), r.extra.size());
            rec.container_id = pool.add(r.extra2.data(), r.extra2.size());
        }
        platform::Smaps sm;
        if ((fields & PROCMON_FIELD_SMAPS) && source_->smaps(pid, sm, r.scratch) == Read::ok) {
            rec.valid |= PROCMON_FIELD_SMAPS;
            rec.pss_bytes = sm.pss, rec.uss_bytes = sm.uss, rec.swap_bytes = sm.swap;
        }
        r.records.push_back(rec);
    }
    for (; old != r.old_end; ++old)
        if (r.keep_unlisted) r.entries.push_back(std::move(*old));
}

unsigned Collector::reader_count(std::size_t pids) const {
    // One thread reads ~1,000 processes in 10-40 ms; below a few hundred the
    // thread start-up is not worth it (bench/enumerate_bench.cpp).
    constexpr std::size_t kPidsPerThread = 256;
    unsigned wanted = opts_.threads != 0 ? opts_.threads : std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
    return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(wanted, pids / kPidsPerThread)));
}

int Collector::enumerate(const Query &q, SnapshotPtr &out) {
    try {
        const uint64_t now_ns = source_->boot_clock_ns();
        mem_total_ = (q.fields & PROCMON_FIELD_MEMORY) ? source_->mem_total_bytes() : 0;
        const platform::PidList *pids = q.pids;
        if (pids == nullptr) {
            int rc = source_->list_pids(pids_);
            if (rc != PROCMON_OK) return rc;
            pids = &pids_;
        }
        SnapshotPtr snap = new_snapshot(arena_);

        // Split the pids, and the old cache at the same pids, into slices.
        const unsigned n = reader_count(pids->size());
        std::deque<Range> ranges;  // Range is not movable; deque builds in place
        for (unsigned i = 0; i < n; ++i) {
            Range &r = ranges.emplace_back(arena_.get());
            r.pid_begin = pids->data() + pids->size() * i / n;
            r.pid_end = pids->data() + pids->size() * (i + 1) / n;
            auto by_pid = [](const CacheEntry &e, int32_t pid) { return e.pid < pid; };
            r.old_begin = i == 0 ? cache_.data()
                                 : std::lower_bound(cache_.data(), cache_.data() + cache_.size(), *r.pid_begin, by_pid);
            r.old_end = i + 1 == n ? cache_.data() + cache_.size()
                                   : std::lower_bound(cache_.data(), cache_.data() + cache_.size(), *r.pid_end, by_pid);
            r.keep_unlisted = q.pids != nullptr;
            std::size_t count = static_cast<std::size_t>(r.pid_end - r.pid_begin);
            r.records.reserve(count);
            r.entries.reserve(count + (r.keep_unlisted ? static_cast<std::size_t>(r.old_end - r.old_begin) : 0));
        }
        {
            std::vector<std::jthread> helpers;
            for (unsigned i = 1; i < n; ++i)
                helpers.emplace_back([&, i] {
                    try {
                        read_range(q, ranges[i], now_ns);
                    } catch (...) {
                        ranges[i].error = std::current_exception();
                    }
                });
            read_range(q, ranges[0], now_ns);
        }  // joins the helpers
        for (Range &r : ranges)
            if (r.error) std::rethrow_exception(r.error);

        std::size_t records = 0, entries = 0;
        for (Range &r : ranges) records += r.records.size(), entries += r.entries.size();
        Cache cache(ArenaAllocator<CacheEntry>(arena_.get()));
        snap->records.reserve(records);
        cache.reserve(entries);
        for (Range &r : ranges) {
            snap->records.insert(snap->records.end(), r.records.begin(), r.records.end());
            std::move(r.entries.begin(), r.entries.end(), std::back_inserter(cache));
            snap->strings.absorb(r.strings);
            counters_.cache_hits += r.counters.cache_hits;
            counters_.cache_misses += r.counters.cache_misses;
        }
        cache_ = std::move(cache);
        out = std::move(snap);
        return PROCMON_OK;
    } catch (const ArenaFull &) {
        // Entries were moved out of the cache mid-way: start cold next time.
        cache_.clear();
        cache_.shrink_to_fit();
        throw;
    }
}

void Collector::retain(const platform::PidList &alive) {
    auto next = alive.begin();
    std::erase_if(cache_, [&](const CacheEntry &e) {
        next = std::lower_bound(next, alive.end(), e.pid);
        return next == alive.end() || *next != e.pid;
    });
}

}  // namespace procmon
