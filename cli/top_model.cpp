#include "top_model.hpp"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstring>
#include <numeric>

#include "messages.hpp"
#include "remote.hpp"
#include "top_tree.hpp"

namespace procmon::cli::top {

double monotonic_seconds() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

namespace {

// This process's CPU (user + system), all threads: the collector's included.
double own_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto s = [](const timeval &tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

bool contains_lower(const std::string &haystack, const std::string &needle_lower) {
    return std::search(haystack.begin(), haystack.end(), needle_lower.begin(), needle_lower.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           }) != haystack.end();
}

std::string command_of(const procmon_process &p) {
    std::string s;
    append_command(s, p);
    return s;
}

// An event's command as a process's: arguments, or [name] when none were read.
std::string command_of(const procmon_event &e) {
    procmon_process p{};
    p.name = e.name;
    p.full_name = e.full_name != nullptr ? e.full_name : e.name;
    p.argv = e.argv;
    p.argv_len = e.argv_len;
    p.argc = e.argc;
    p.valid = PROCMON_FIELD_ARGV;
    return command_of(p);
}

// The fields the table reads: the cgroup group only when a filter needs it
// (it is opt-in because it costs a read per process).
uint64_t query_fields(const Options &o) {
    uint64_t f = PROCMON_FIELD_BASIC | PROCMON_FIELD_CPU | PROCMON_FIELD_MEMORY | PROCMON_FIELD_SCHED | PROCMON_FIELD_IDS |
                 PROCMON_FIELD_ARGV;
    if (o.filters.has(FilterTerm::Field::cgroup)) f |= PROCMON_FIELD_CGROUP;
    return f;
}

}  // namespace

Model::~Model() {
    procmon_snapshot_free(snap_);
    procmon_unsubscribe(sub_);
    procmon_close(ctx_);
}

std::string Model::open() {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.endpoint = endpoint_option(opt_.connect);
    // One reader thread, the calling one: a refresh a second has time to
    // spare, and a view left running should not keep reader threads (CPU
    // measured the same within noise: 1.66% against 1.70% of a core with
    // the default two, bench/top_cpu.sh at 1,000 processes).
    o.threads = 1;
    if (procmon_open(&ctx_, &o) != PROCMON_OK) return library_error();
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    // Filters run here, not in the library: they change while the view runs.
    if (procmon_subscribe(&sub_, ctx_, &so) != PROCMON_OK) {
        events_note_ = "no events: " + library_error();
        sub_ = nullptr;
    } else {
        procmon_stats st{};
        st.size = sizeof st;
        procmon_stats_get(&st, ctx_);
        events_note_ = st.source_name;
        if (st.event_source == PROCMON_STATS_SOURCE_POLLING)
            events_note_ += " every " + std::to_string(st.poll_interval_ms) + " ms: shorter processes are missed";
    }
    // The first enumeration only sets each process's CPU baseline, so the
    // first refresh shows the use since then, as top's, not since each start.
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = PROCMON_FIELD_BASIC | PROCMON_FIELD_CPU;
    procmon_snapshot *first = nullptr;
    if (procmon_enumerate(&first, ctx_, &q) != PROCMON_OK) return library_error();
    take_cpu(first, 0, nullptr);
    procmon_snapshot_free(first);
    last_refresh_ = monotonic_seconds();
    last_cpu_ = own_cpu_seconds();
    return {};
}

int Model::event_fd() const { return sub_ != nullptr ? procmon_subscription_fd(sub_) : -1; }

void Model::drain_events() {
    if (sub_ == nullptr) return;
    for (;;) {
        std::size_t n = 0;
        const int rc = procmon_subscription_next(sub_, batch_.data(), sizeof batch_[0], batch_.size(), &n, 0);
        if (rc != PROCMON_OK) {
            events_note_ = "events stopped: " + library_error();
            procmon_unsubscribe(sub_);
            sub_ = nullptr;
            return;
        }
        for (std::size_t i = 0; i < n; ++i) add_event(batch_[i]);
        if (n < batch_.size()) return;
    }
}

void Model::add_event(const procmon_event &e) {
    EventLine l;
    l.time_ns = e.time_ns;
    l.type = e.type;
    l.flags = e.flags;
    l.uid = e.uid;
    l.pid = e.pid;
    l.ppid = e.ppid;
    l.lost = e.lost;
    if (e.type != PROCMON_EVENT_LOST) {
        const Identity id{e.pid, e.start_ticks};
        // Only while a cgroup term is on: the set is the table's matches
        // and their children, rebuilt at each refresh, pruned at exits.
        const bool by_cgroup = opt_.filters.has(FilterTerm::Field::cgroup);
        if (by_cgroup && e.type == PROCMON_EVENT_START && cgroup_pids_.count(e.ppid)) cgroup_pids_.insert(e.pid);
        l.command = command_of(e);
        const bool shown = matches(l, e.full_name != nullptr ? e.full_name : e.name);
        if (by_cgroup && e.type == PROCMON_EVENT_EXIT) cgroup_pids_.erase(e.pid);
        if (!shown) return;
        // Kept for the events shown only: a filter with a long interval
        // must not hold every start of the machine until the next refresh.
        // A start drained after the enumeration that already showed the
        // process (it began in between) is no short life.
        if ((e.type == PROCMON_EVENT_START || e.type == PROCMON_EVENT_EXEC) && !in_table(id)) born_.insert(id);
        if (e.type == PROCMON_EVENT_EXIT) {
            l.exit_code = e.exit_code;
            l.exit_signal = e.exit_signal;
            l.lifetime_ns = e.lifetime_ns;
            l.short_lived = born_.erase(id) > 0;
            short_lived_ += l.short_lived;
        }
    }
    events_.push_back(std::move(l));
    ++events_total_;
    if (events_.size() > kMaxEvents) events_.pop_front();
}

bool Model::in_table(const Identity &id) {
    if (snap_ == nullptr) return false;
    std::size_t lo = 0, hi = procmon_snapshot_count(snap_);  // sorted by pid
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (procmon_snapshot_at(snap_, mid)->pid < id.pid) lo = mid + 1;
        else hi = mid;
    }
    if (lo == procmon_snapshot_count(snap_)) return false;
    const procmon_process &p = *procmon_snapshot_at(snap_, lo);
    // a row only if the filter showed it (a child caught before its exec
    // is in the snapshot under its parent's name, which may not match)
    return p.pid == id.pid && p.start_ticks == id.start_ticks && matches(p);
}

std::string Model::refresh() {
    drain_events();  // those before the enumeration belong to this interval
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = query_fields(opt_);
    procmon_snapshot *snap = nullptr;
    if (procmon_enumerate(&snap, ctx_, &q) != PROCMON_OK) return library_error();
    procmon_snapshot_free(snap_);
    snap_ = snap;

    const double now = monotonic_seconds(), cpu = own_cpu_seconds();
    Summary s;
    s.seconds = now - last_refresh_;
    s.self_cpu_percent = s.seconds > 0 ? 100.0 * (cpu - last_cpu_) / s.seconds : 0;
    last_refresh_ = now;
    last_cpu_ = cpu;
    s.system.size = sizeof s.system;
    s.system_known = procmon_system_get(&s.system, ctx_) == PROCMON_OK;
    procmon_stats st{};
    st.size = sizeof st;
    if (procmon_stats_get(&st, ctx_) == PROCMON_OK) s.self_rss = st.process_rss_bytes;
    take_cpu(snap_, s.seconds, &s.cpu_sum);
    for (std::size_t i = 0; i < procmon_snapshot_count(snap_); ++i) {
        const procmon_process &p = *procmon_snapshot_at(snap_, i);
        ++s.processes;
        s.threads += p.threads;
        switch (p.state_kind) {
        case PROCMON_STATE_RUNNING: ++s.running; break;
        case PROCMON_STATE_STOPPED:
        case PROCMON_STATE_TRACING_STOP: ++s.stopped; break;
        case PROCMON_STATE_ZOMBIE: ++s.zombies; break;
        default: ++s.sleeping; break;  // S, D, I: waiting, as top counts them
        }
    }
    s.short_lived = short_lived_;
    short_lived_ = 0;
    born_.clear();  // from now on they were in a refresh
    sum_ = s;
    rebuild();
    return {};
}

void Model::take_cpu(const procmon_snapshot *snap, double seconds, double *sum) {
    const uint64_t now_wall = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                        std::chrono::system_clock::now().time_since_epoch())
                                                        .count());
    std::unordered_map<Identity, uint64_t, IdentityHash> seen;
    const std::size_t n = procmon_snapshot_count(snap);
    seen.reserve(n);
    cpu_.assign(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const procmon_process &p = *procmon_snapshot_at(snap, i);
        if (!(p.valid & PROCMON_FIELD_CPU)) continue;
        const Identity id{p.pid, p.start_ticks};
        const uint64_t used = p.utime_ns + p.stime_ns;
        seen.emplace(id, used);
        const auto before = cpu_seen_.find(id);
        // New since the last refresh: all its CPU time is the interval's;
        // older but not seen then (filtered out of no query, so rare): none known.
        const uint64_t from = before != cpu_seen_.end() ? before->second
                              : p.start_time_ns >= cpu_seen_wall_ns_ ? 0 : used;
        if (seconds > 0 && used >= from) cpu_[i] = 100.0 * (static_cast<double>(used - from) / 1e9) / seconds;
        if (sum != nullptr) *sum += cpu_[i];
    }
    cpu_seen_.swap(seen);
    cpu_seen_wall_ns_ = now_wall;
}

namespace {

// What a filter term looks at, for a process or an event: `S` gives name(),
// command() (made only when a term needs it: it costs a string), uid (false
// when unknown), pid() and cgroup(text).
template <class S>
bool matches_terms(const Filters &filters, const S &s) {
    for (const FilterTerm &t : filters.terms()) {
        uint32_t uid = 0;
        bool ok = true;
        switch (t.field) {
        case FilterTerm::Field::text: ok = contains_lower(s.name(), t.text) || contains_lower(s.command(), t.text); break;
        case FilterTerm::Field::name: ok = contains_lower(s.name(), t.text); break;
        case FilterTerm::Field::cmd: ok = contains_lower(s.command(), t.text); break;
        case FilterTerm::Field::user: ok = s.uid(uid) && uid == t.number; break;
        case FilterTerm::Field::cgroup: ok = s.cgroup(t.text); break;
        case FilterTerm::Field::pid: ok = s.pid() == t.number; break;
        }
        if (!ok) return false;
    }
    return true;
}

struct ProcessSubject {
    const procmon_process &p;
    std::string name() const { return shown_name(p); }
    std::string command() const { return command_of(p); }
    bool uid(uint32_t &out) const { return (p.valid & PROCMON_FIELD_IDS) && (out = p.euid, true); }
    int32_t pid() const { return p.pid; }
    bool cgroup(const std::string &text) const {
        return (p.valid & PROCMON_FIELD_CGROUP) && (contains_lower(p.cgroup, text) || contains_lower(p.container_id, text));
    }
};

// An event carries no cgroup: it matches a cgroup term when its process was
// in the table as matching, or descends from one that was.
struct EventSubject {
    const EventLine &e;
    const char *event_name;
    const std::unordered_set<int32_t> &cgroup_pids;
    std::string name() const { return event_name; }
    const std::string &command() const { return e.command; }
    bool uid(uint32_t &out) const { return e.uid != UINT32_MAX && (out = e.uid, true); }
    int32_t pid() const { return e.pid; }
    bool cgroup(const std::string &) const { return cgroup_pids.count(e.pid) > 0; }
};

}  // namespace

bool Model::matches(const procmon_process &p) { return matches_terms(opt_.filters, ProcessSubject{p}); }

bool Model::matches(const EventLine &e, const char *name) {
    return matches_terms(opt_.filters, EventSubject{e, name, cgroup_pids_});
}

void Model::rebuild() {
    rows_.clear();
    if (snap_ == nullptr) return;
    const bool by_cgroup = opt_.filters.has(FilterTerm::Field::cgroup);
    cgroup_pids_.clear();  // also when the term went: nothing left to grow
    for (std::size_t i = 0; i < procmon_snapshot_count(snap_); ++i) {
        const procmon_process *p = procmon_snapshot_at(snap_, i);
        if (!matches(*p)) continue;
        rows_.push_back({p, 0, i < cpu_.size() ? cpu_[i] : 0.0});
        if (by_cgroup) cgroup_pids_.insert(p->pid);
    }
    sort_rows();
    if (opt_.tree) rows_ = tree_order(rows_);
}

void Model::sort_rows() {
    const Column c = opt_.sort;
    // Text keys made once per row, not once per comparison.
    std::vector<std::string> text;
    if (c == Column::user || c == Column::command) {
        text.reserve(rows_.size());
        for (const Row &r : rows_)
            text.push_back(c == Column::command ? command_of(*r.p) : (r.p->valid & PROCMON_FIELD_IDS) ? env_.user(r.p->euid) : "");
    }
    auto number = [c](const Row &r) -> double {
        const procmon_process &p = *r.p;
        switch (c) {
        case Column::pid: return p.pid;
        case Column::state: return static_cast<unsigned char>(p.state);
        case Column::cpu: return r.cpu;
        case Column::mem: return p.mem_percent;
        case Column::rss: return static_cast<double>(p.rss_bytes);
        case Column::vsz: return static_cast<double>(p.vms_bytes);
        case Column::threads: return p.threads;
        case Column::time: return static_cast<double>(p.utime_ns + p.stime_ns);
        default: return 0;
        }
    };
    std::vector<std::size_t> order(rows_.size());
    std::iota(order.begin(), order.end(), 0);
    // Ties keep pid order (the snapshot's), so equal rows do not jump about.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        int cmp;
        if (!text.empty()) {
            cmp = text[x].compare(text[y]);
        } else {
            const double a = number(rows_[x]), b = number(rows_[y]);
            cmp = a < b ? -1 : a > b ? 1 : 0;
        }
        return opt_.descending ? cmp > 0 : cmp < 0;
    });
    std::vector<Row> sorted;
    sorted.reserve(rows_.size());
    for (std::size_t i : order) sorted.push_back(rows_[i]);
    rows_.swap(sorted);
}

int Model::signal(const Identity &id, int sig) { return procmon_signal(ctx_, id.pid, id.start_ticks, sig); }

}  // namespace procmon::cli::top
