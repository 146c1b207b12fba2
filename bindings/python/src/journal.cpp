// procmon._procmon.Journal and JournalReader: the durable event journal,
// written and read back.
#include "shim.h"

#include <climits>
#include <shared_mutex>
#include <vector>

namespace pm {
namespace {

// A journal writer. append, sync and stats from any thread; close once.
// `lock` is shared by the calls and taken exclusively by close, so a call in
// flight never sees the journal freed under it.
struct Journal {
    std::shared_ptr<Context> ctx;  // may be null: fed by append only
    procmon_journal *j = nullptr;
    std::shared_mutex lock;

    ~Journal() { procmon_journal_close(j); }

    // Runs f(journal) without the GIL under the shared lock; raises on failure.
    template <class F>
    void call(F &&f) {
        std::optional<Failure> failed;
        {
            py::gil_scoped_release nogil;
            std::shared_lock<std::shared_mutex> hold(lock);
            if (j == nullptr) failed = Failure{PROCMON_ECLOSED, 0, "the journal is closed"};
            else if (int rc = f(j); rc != PROCMON_OK) failed = last_failure(rc);
        }
        if (failed) raise(*failed);
    }

    void append(const std::vector<const Event *> &events) {
        std::vector<procmon_event> raw;
        raw.reserve(events.size());
        for (const Event *v : events) {
            if (v == nullptr) throw py::type_error("append takes procmon.Event objects, not None");
            raw.push_back(v->view());
        }
        call([&](procmon_journal *jj) { return procmon_journal_append(jj, raw.data(), sizeof(procmon_event), raw.size()); });
    }

    uint64_t sync(std::optional<double> timeout) {
        const Deadline deadline(timeout);
        const int ms = deadline.forever() ? -1 : deadline.ms_left(INT_MAX);
        uint64_t durable = 0;
        call([&](procmon_journal *jj) { return procmon_journal_sync(jj, ms, &durable); });
        return durable;
    }

    py::dict stats() {
        procmon_journal_stats s{};
        s.size = sizeof s;
        call([&](procmon_journal *jj) { return procmon_journal_stats_get(&s, jj); });
        py::dict d;
        PM_COPY(next_seq);
        PM_COPY(durable_seq);
        PM_COPY(records);
        PM_COPY(lost);
        PM_COPY(bytes_written);
        PM_COPY(commits);
        PM_COPY(fsyncs);
        PM_COPY(write_errors);
        PM_COPY(last_error);
        PM_COPY(segments);
        PM_COPY(disk_bytes);
        PM_COPY(segments_removed);
        PM_COPY(recovered_truncated_bytes);
        PM_COPY(recovered_corrupt_records);
        PM_COPY(skipped_files);
        return d;
    }

    void close() {
        std::optional<Failure> failed;
        {
            py::gil_scoped_release nogil;
            std::unique_lock<std::shared_mutex> hold(lock);
            if (j != nullptr) {
                int rc = procmon_journal_close(j);
                j = nullptr;
                if (rc != PROCMON_OK) failed = last_failure(rc);
            }
        }
        ctx.reset();
        if (failed) raise(*failed);
    }

    bool is_closed() {
        std::shared_lock<std::shared_mutex> hold(lock);
        return j == nullptr;
    }
};

std::shared_ptr<Journal> open_journal(const std::string &dir, std::shared_ptr<Context> c, uint32_t fsync,
                                      uint32_t interval_ms, uint32_t queue, uint64_t segment, uint64_t max_bytes,
                                      uint64_t max_age_ms, uint32_t events, std::optional<std::string> name,
                                      std::optional<std::string> cmdline, int64_t uid, int32_t descendants_of,
                                      bool undecidable) {
    auto jr = std::make_shared<Journal>();
    jr->ctx = c;
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    so.events = events;
    so.name_glob = name ? name->c_str() : nullptr;
    so.cmdline_glob = cmdline ? cmdline->c_str() : nullptr;
    so.uid = uid;
    so.descendants_of = descendants_of;
    so.flags = undecidable ? PROCMON_SUBSCRIBE_UNDECIDABLE : 0u;
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.fsync = fsync;
    o.fsync_interval_ms = interval_ms;
    o.queue_capacity = queue;
    o.segment_bytes = segment;
    o.max_bytes = max_bytes;
    o.max_age_ms = max_age_ms;
    o.filter = &so;
    auto open = [&](procmon_ctx *ctx) { return procmon_journal_open(&jr->j, ctx, dir.c_str(), &o); };
    if (c) {
        checked(*c, open);
    } else {
        std::optional<Failure> failed;
        {
            py::gil_scoped_release nogil;
            if (int rc = open(nullptr); rc != PROCMON_OK) failed = last_failure(rc);
        }
        if (failed) raise(*failed);
    }
    return jr;
}

// A journal reader: one thread at a time reads (the mutex makes that so);
// close() from any thread, also while one waits.
struct JournalReader {
    procmon_journal_reader *r = nullptr;
    std::mutex reader;
    InFlight calls{"the reader is closed"};
    std::vector<procmon_event> batch;

    ~JournalReader() { procmon_journal_reader_close(r); }

    // Up to max records, waiting up to timeout seconds (None: forever) for
    // the first in procmon_journal_reader_wait.
    std::vector<Event> next(std::size_t max, std::optional<double> timeout) {
        if (max == 0) raise(PROCMON_EINVAL, "max must be at least 1");
        return calls.wait_events(reader, timeout, [&](int ms, std::vector<Event> &out) {
            int rc = procmon_journal_reader_wait(r, ms);
            if (rc != PROCMON_OK) return rc;
            batch.resize(std::min<std::size_t>(max, 4096));
            std::size_t n = 0;
            rc = procmon_journal_reader_next(r, batch.data(), sizeof(procmon_event), batch.size(), &n, 0);
            for (std::size_t i = 0; i < n; ++i) out.push_back(Event::copy(batch[i]));
            return rc;
        });
    }

    py::dict stats() {
        procmon_journal_reader_stats s{};
        s.size = sizeof s;
        calls.run(nullptr, [&] { return procmon_journal_reader_stats_get(&s, r); });
        py::dict d;
        PM_COPY(records);
        PM_COPY(corrupt_records);
        PM_COPY(corrupt_bytes);
        PM_COPY(first_corrupt_segment);
        PM_COPY(first_corrupt_offset);
        PM_COPY(missing);
        PM_COPY(skipped_files);
        return d;
    }

    void close() {
        if (calls.close([this] { procmon_journal_reader_wake(r); }, 0)) {
            procmon_journal_reader_close(r);
            r = nullptr;
        }
    }
};

std::shared_ptr<JournalReader> open_reader(const std::string &dir, uint64_t from_seq, uint64_t from_time_ns) {
    auto jr = std::make_shared<JournalReader>();
    procmon_journal_read_options o = PROCMON_JOURNAL_READ_OPTIONS_INIT;
    o.from_seq = from_seq;
    o.from_time_ns = from_time_ns;
    std::optional<Failure> failed;
    {
        py::gil_scoped_release nogil;
        if (int rc = procmon_journal_reader_open(&jr->r, dir.c_str(), &o); rc != PROCMON_OK) failed = last_failure(rc);
    }
    if (failed) raise(*failed);
    return jr;
}

}  // namespace

void bind_journal(py::module_ &m) {
    py::class_<Journal, std::shared_ptr<Journal>>(m, "Journal", "A procmon_journal writer.")
        .def(py::init(&open_journal), py::arg("dir"), py::arg("ctx"), py::arg("fsync"), py::arg("fsync_interval_ms"),
             py::arg("queue"), py::arg("segment_bytes"), py::arg("max_bytes"), py::arg("max_age_ms"), py::arg("events"),
             py::arg("name"), py::arg("cmdline"), py::arg("uid"), py::arg("descendants_of"), py::arg("undecidable"))
        .def("append", &Journal::append, py::arg("events"))
        .def("sync", &Journal::sync, py::arg("timeout"))
        .def("stats", &Journal::stats, "procmon_journal_stats_get; last_error is a status code.")
        .def("close", &Journal::close)
        .def_property_readonly("closed", &Journal::is_closed);
    py::class_<JournalReader, std::shared_ptr<JournalReader>>(m, "JournalReader", "A procmon_journal_reader.")
        .def(py::init(&open_reader), py::arg("dir"), py::arg("from_seq"), py::arg("from_time_ns"))
        .def("next", &JournalReader::next, py::arg("max"), py::arg("timeout"))
        .def("stats", &JournalReader::stats)
        .def("close", &JournalReader::close);
}

}  // namespace pm
