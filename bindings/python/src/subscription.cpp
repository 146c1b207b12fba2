// procmon._procmon.Subscription: procmon_subscribe, its queue (next,
// dispatch), its descriptor, stats and close.
#include "shim.h"

#include <fcntl.h>

#include <thread>
#include <vector>

namespace pm {
namespace {

struct Subscription {
    std::shared_ptr<Context> ctx;  // keeps the context open while we are
    procmon_subscription *sub = nullptr;
    InFlight calls{"the subscription is closed"};
    std::mutex reader;             // next and dispatch: one thread at a time
    std::atomic<std::thread::id> dispatching{};  // the thread inside dispatch(), if any
    std::vector<procmon_event> batch;

    ~Subscription() { procmon_unsubscribe(sub); }

    void check_not_in_dispatch(const char *what) {
        if (dispatching.load() == std::this_thread::get_id())
            raise(PROCMON_EBUSY, std::string(what) + ": not allowed inside this subscription's dispatch callback");
    }

    // Up to `max` events; waits up to `timeout` seconds for the first (None:
    // forever) in procmon_subscription_wait.
    std::vector<Event> next(std::size_t max, std::optional<double> timeout) {
        check_not_in_dispatch("next");
        if (max == 0) raise(PROCMON_EINVAL, "max must be at least 1");
        return calls.wait_events(reader, timeout, [&](int ms, std::vector<Event> &out) {
            int rc = procmon_subscription_wait(sub, ms);
            if (rc != PROCMON_OK) return rc;
            batch.resize(std::min<std::size_t>(max, 4096));
            std::size_t n = 0;
            rc = procmon_subscription_next(sub, batch.data(), sizeof(procmon_event), batch.size(), &n, 0);
            for (std::size_t i = 0; i < n; ++i) out.push_back(Event::copy(batch[i]));
            return rc;
        });
    }

    // Calls cb(event) for up to `max` waiting events, without waiting;
    // returns how many. A true result stops it; an exception in cb too, and
    // propagates.
    std::size_t dispatch(const py::function &cb, std::size_t max) {
        check_not_in_dispatch("dispatch");
        struct Payload {
            const py::function *cb;
            std::optional<py::error_already_set> error;
        } payload{&cb, std::nullopt};
        auto trampoline = [](const procmon_event *e, void *p) -> int {
            auto *pl = static_cast<Payload *>(p);
            py::gil_scoped_acquire gil;
            try {
                py::object stop = (*pl->cb)(Event::copy(*e));
                return stop.is_none() || !py::bool_(stop) ? 0 : 1;
            } catch (py::error_already_set &err) {
                pl->error = std::move(err);
                return 1;
            }
        };
        std::size_t n = 0;
        const int rc = calls.run(&reader, [&] {
            dispatching = std::this_thread::get_id();
            const int rc = procmon_dispatch(sub, trampoline, &payload, max, &n);
            dispatching = std::thread::id{};
            return rc == PROCMON_ECLOSED && calls.closing() ? PROCMON_OK : rc;  // the callback closed it
        }, {PROCMON_EUSER});
        (void)rc;
        if (payload.error) throw std::move(*payload.error);
        return n;
    }

    // Any thread, also from our own dispatch callback (the library allows
    // procmon_unsubscribe there).
    void close() {
        const int mine = dispatching.load() == std::this_thread::get_id() ? 1 : 0;
        if (calls.close([this] { procmon_subscription_wake(sub); }, mine)) {
            procmon_unsubscribe(sub);
            sub = nullptr;
        }
    }

    // Closed by close(), or by closing its Monitor (the library's calls then
    // return ECLOSED; the descriptor stays the subscription's until close()).
    bool is_closed() { return calls.closing() || ctx->closed.load(); }

    int fileno() {
        if (ctx->closed.load()) raise(PROCMON_ECLOSED, "its Monitor is closed");
        int fd = -1;
        calls.run(nullptr, [&] { return fd = procmon_subscription_fd(sub), PROCMON_OK; });
        return fd;
    }

    // A duplicate of the descriptor, the caller's to close: an asyncio
    // waiter's, which must see close()'s wake although close() frees the
    // subscription's own.
    int dup_fd() {
        int fd = -1, err = 0;
        calls.run(nullptr, [&] {
            fd = ::fcntl(procmon_subscription_fd(sub), F_DUPFD_CLOEXEC, 0);
            err = errno;
            return PROCMON_OK;
        });
        if (fd < 0) {
            errno = err;
            PyErr_SetFromErrno(PyExc_OSError);
            throw py::error_already_set();
        }
        return fd;
    }

    py::dict stats() {
        procmon_subscription_stats s{};
        s.size = sizeof s;
        calls.run(nullptr, [&] { return procmon_subscription_stats_get(&s, sub); });
        py::dict d;
        PM_COPY(queue_capacity);
        PM_COPY(queue_depth);
        PM_COPY(received);
        PM_COPY(filtered);
        PM_COPY(delivered);
        PM_COPY(dropped);
        PM_COPY(lost);
        PM_COPY(undecidable);
        PM_COPY(timed);
        for (auto [stage, l] : {std::pair{"receive", &s.latency_receive}, std::pair{"enrich", &s.latency_enrich},
                                std::pair{"deliver", &s.latency_deliver}, std::pair{"total", &s.latency_total}})
            d[(std::string("latency_") + stage).c_str()] = py::make_tuple(l->p50_ns, l->p99_ns, l->max_ns);
        return d;
    }
};

std::shared_ptr<Subscription> subscribe(const std::shared_ptr<Context> &c, uint32_t events,
                                        std::optional<std::string> name, std::optional<std::string> cmdline,
                                        int64_t uid, int32_t descendants_of, uint32_t queue, bool threads,
                                        bool undecidable, uint64_t from_seq, bool history) {
    auto s = std::make_shared<Subscription>();
    s->ctx = c;
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    o.events = events;
    o.name_glob = name ? name->c_str() : nullptr;
    o.uid = uid;
    o.descendants_of = descendants_of;
    o.queue_capacity = queue;
    o.cmdline_glob = cmdline ? cmdline->c_str() : nullptr;
    o.flags = (threads ? PROCMON_SUBSCRIBE_THREADS : 0u) | (undecidable ? PROCMON_SUBSCRIBE_UNDECIDABLE : 0u) |
              (history ? PROCMON_SUBSCRIBE_HISTORY : 0u);
    o.from_seq = from_seq;
    checked(*c, [&](procmon_ctx *ctx) { return procmon_subscribe(&s->sub, ctx, &o); });
    return s;
}

}  // namespace

void bind_subscription(py::module_ &m, ContextClass &context) {
    context.def("subscribe", &subscribe, py::arg("events"), py::arg("name"), py::arg("cmdline"), py::arg("uid"),
                py::arg("descendants_of"), py::arg("queue"), py::arg("threads"), py::arg("undecidable"),
                py::arg("from_seq"), py::arg("history"), "procmon_subscribe.");
    py::class_<Subscription, std::shared_ptr<Subscription>>(m, "Subscription", "A procmon_subscription.")
        .def("next", &Subscription::next, py::arg("max"), py::arg("timeout"))
        .def("dispatch", &Subscription::dispatch, py::arg("callback"), py::arg("max"))
        .def("close", &Subscription::close)
        .def("fileno", &Subscription::fileno)
        .def("stats", &Subscription::stats, "procmon_subscription_stats_get; latency_<stage>: (p50_ns, p99_ns, max_ns).")
        .def_property_readonly("closed", &Subscription::is_closed)
        .def("_dup_fd", &Subscription::dup_fd, "fileno()'s descriptor duplicated, for an asyncio waiter to close.");
}

}  // namespace pm
