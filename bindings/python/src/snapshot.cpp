// procmon._procmon.Snapshot and Record: procmon_enumerate's result and its
// records, under the C names (procmon_process). The psutil-shaped reading
// of a record (named tuples, None for groups not read, status names) is
// procmon/_snapshot.py's.
#include "shim.h"

#include <algorithm>
#include <climits>
#include <vector>

namespace pm {
namespace {

struct Snapshot {
    procmon_snapshot *snap = nullptr;
    uint64_t fields = 0;
    ~Snapshot() { procmon_snapshot_free(snap); }  // any thread, even after the context closed
    std::size_t size() const { return procmon_snapshot_count(snap); }
    const procmon_process *at(std::size_t i) const { return procmon_snapshot_at(snap, i); }
};

// One record, borrowed from the snapshot it keeps alive.
struct Record {
    std::shared_ptr<Snapshot> snap;
    const procmon_process *p;
};

std::shared_ptr<Snapshot> enumerate(Context &c, uint64_t fields, std::optional<std::string> name,
                                    std::optional<std::string> cmdline, int64_t uid,
                                    std::optional<std::vector<int32_t>> pids, bool refresh) {
    auto s = std::make_shared<Snapshot>();
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = fields;
    q.name_glob = name ? name->c_str() : nullptr;
    q.cmdline_glob = cmdline ? cmdline->c_str() : nullptr;
    q.uid = uid;
    if (pids) {
        q.pids = pids->data();
        q.pid_count = pids->size();
    }
    q.flags = refresh ? PROCMON_QUERY_REFRESH : 0;
    checked(c, [&](procmon_ctx *ctx) { return procmon_enumerate(&s->snap, ctx, &q); });
    s->fields = fields ? fields : PROCMON_FIELDS_DEFAULT;
    return s;
}

// Columns for to_numpy()/to_arrays(), packed in one pass without a Python
// object per process: (name, array typecode, bytes).
py::list columns(const Snapshot &s) {
    const std::size_t n = s.size();
    py::list out;
    std::string buf;
    auto column = [&](const char *name, const char *code, auto get) {
        using T = decltype(get(*s.at(0)));
        buf.resize(n * sizeof(T));
        for (std::size_t i = 0; i < n; ++i) {
            const T v = get(*s.at(i));
            std::memcpy(buf.data() + i * sizeof(T), &v, sizeof(T));
        }
        out.append(py::make_tuple(name, code, py::bytes(buf)));
    };
    auto seconds = [](uint64_t ns) { return static_cast<double>(ns) / 1e9; };
    column("pid", "i", [](const procmon_process &p) { return p.pid; });
    column("ppid", "i", [](const procmon_process &p) { return p.ppid; });
    column("uid", "I", [](const procmon_process &p) { return p.euid; });
    column("num_threads", "I", [](const procmon_process &p) { return p.threads; });
    column("nice", "i", [](const procmon_process &p) { return p.nice; });
    column("rss", "Q", [](const procmon_process &p) { return p.rss_bytes; });
    column("vms", "Q", [](const procmon_process &p) { return p.vms_bytes; });
    column("cpu_user", "d", [&](const procmon_process &p) { return seconds(p.utime_ns); });
    column("cpu_system", "d", [&](const procmon_process &p) { return seconds(p.stime_ns); });
    column("cpu_percent", "d", [](const procmon_process &p) { return p.cpu_percent; });
    column("create_time", "d", [&](const procmon_process &p) { return seconds(p.start_time_ns); });
    column("valid", "Q", [](const procmon_process &p) { return p.valid; });
    column("state", "b", [](const procmon_process &p) { return p.state; });
    // Text as fixed-width fields as wide as the longest value (numpy's
    // S<width>, NUL-padded): name is the name users see, comm the kernel's.
    for (auto [name, member] : {std::pair{"name", &procmon_process::full_name}, std::pair{"comm", &procmon_process::name}}) {
        std::size_t width = 1;
        for (std::size_t i = 0; i < n; ++i) width = std::max(width, std::strlen(s.at(i)->*member));
        buf.assign(n * width, '\0');
        for (std::size_t i = 0; i < n; ++i) std::memcpy(buf.data() + i * width, s.at(i)->*member, std::strlen(s.at(i)->*member));
        out.append(py::make_tuple(name, "S" + std::to_string(width), py::bytes(buf)));
    }
    return out;
}

}  // namespace

void bind_snapshot(py::module_ &m, ContextClass &context) {
    context.def("enumerate", &enumerate, py::arg("fields"), py::arg("name"), py::arg("cmdline"), py::arg("uid"),
                py::arg("pids"), py::arg("refresh"), "procmon_enumerate (GIL released while reading /proc).");

    py::class_<Snapshot, std::shared_ptr<Snapshot>>(m, "Snapshot", "procmon_enumerate's records, sorted by pid.")
        .def("__len__", &Snapshot::size)
        .def("at", [](const std::shared_ptr<Snapshot> &s, std::size_t i) {
            if (i >= s->size()) throw py::index_error("snapshot index out of range");
            return Record{s, s->at(i)};
        }, py::arg("i"))
        .def("find", [](const std::shared_ptr<Snapshot> &s, int32_t pid) -> std::optional<Record> {
            const procmon_process *p = procmon_snapshot_find(s->snap, pid);
            if (p == nullptr) return std::nullopt;
            return Record{s, p};
        }, py::arg("pid"), "procmon_snapshot_find: the record of pid, or None.")
        .def("columns", &columns)
        .def_property_readonly("fields", [](const Snapshot &s) { return s.fields; }, "The field groups asked for.");

    // The record's members under their C names; strings as os.fsdecode
    // gives them ("" for one that was not read), argv as its bytes.
    py::class_<Record> record(m, "Record", "A procmon_process, kept alive with its snapshot.");
#define PM_MEMBER(member) record.def_property_readonly(#member, [](const Record &r) { return r.p->member; })
#define PM_TEXT(member) \
    record.def_property_readonly(#member, [](const Record &r) { return fs_text(r.p->member ? r.p->member : ""); })
    PM_MEMBER(valid); PM_MEMBER(pid); PM_MEMBER(ppid); PM_MEMBER(pgid); PM_MEMBER(sid); PM_MEMBER(tty);
    PM_MEMBER(uid); PM_MEMBER(euid); PM_MEMBER(suid); PM_MEMBER(gid); PM_MEMBER(egid); PM_MEMBER(sgid);
    PM_MEMBER(threads); PM_MEMBER(start_ticks); PM_MEMBER(start_time_ns); PM_MEMBER(utime_ns); PM_MEMBER(stime_ns);
    PM_MEMBER(cpu_percent); PM_MEMBER(rss_bytes); PM_MEMBER(vms_bytes); PM_MEMBER(nice); PM_MEMBER(fd_count);
    PM_MEMBER(io_rchar); PM_MEMBER(io_wchar); PM_MEMBER(io_syscr); PM_MEMBER(io_syscw); PM_MEMBER(io_read_bytes);
    PM_MEMBER(io_write_bytes); PM_MEMBER(voluntary_ctxt_switches); PM_MEMBER(nonvoluntary_ctxt_switches);
    PM_MEMBER(mem_percent); PM_MEMBER(pss_bytes); PM_MEMBER(uss_bytes); PM_MEMBER(swap_bytes); PM_MEMBER(flags);
    PM_MEMBER(state_kind);
    PM_TEXT(name); PM_TEXT(full_name); PM_TEXT(exe); PM_TEXT(cwd); PM_TEXT(cgroup); PM_TEXT(container_id);
#undef PM_MEMBER
#undef PM_TEXT
    record.def_property_readonly("state", [](const Record &r) { return std::string(1, r.p->state); })
        .def_property_readonly("argv", [](const Record &r) { return py::bytes(r.p->argv ? r.p->argv : "", r.p->argv_len); });
}

}  // namespace pm
