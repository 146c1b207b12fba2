// procmon._procmon.Subscription: procmon_subscribe, its queue (next,
// dispatch), its descriptor, stats and close.
#include "shim.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>
#include <vector>

namespace pm {
namespace {

struct Subscription {
    std::shared_ptr<Context> ctx;  // keeps the context open while we are
    procmon_subscription *sub = nullptr;
    std::mutex mutex;              // one call at a time; held across procmon_* calls only
    std::atomic<std::thread::id> dispatching{};  // the thread inside dispatch(), if any
    std::atomic<bool> closed{false};
    int wake = -1;                 // eventfd: close() wakes waiters before it frees `sub`
    std::vector<procmon_event> batch;

    ~Subscription() {
        procmon_unsubscribe(sub);
        if (wake >= 0) ::close(wake);
    }

    void check_not_in_dispatch(const char *what) {
        if (dispatching.load() == std::this_thread::get_id())
            raise(PROCMON_EBUSY, std::string(what) + ": not allowed inside this subscription's dispatch callback");
    }

    // Runs f() under the mutex: without the GIL, or directly from our own
    // dispatch callback (which holds the mutex). ECLOSED once closed.
    template <class F>
    void call(F &&f) {
        std::optional<Failure> failed;
        auto run = [&] {
            if (closed) failed = Failure{PROCMON_ECLOSED, 0, "the subscription is closed"};
            else if (int rc = f(); rc != PROCMON_OK) failed = last_failure(rc);
        };
        if (dispatching.load() == std::this_thread::get_id()) {
            run();
        } else {
            py::gil_scoped_release nogil;
            std::lock_guard<std::mutex> lock(mutex);
            run();
        }
        if (failed) raise(*failed);
    }

    // Up to `max` events; waits up to `timeout` seconds for the first (None:
    // forever), without the GIL, handling signals (Ctrl-C) as they come.
    std::vector<Event> next(std::size_t max, std::optional<double> timeout) {
        check_not_in_dispatch("next");
        if (max == 0) raise(PROCMON_EINVAL, "max must be at least 1");
        const Deadline deadline(timeout);
        std::vector<Event> out;
        for (;;) {
            int fd = -1;  // read under the mutex: close() frees `sub`
            call([&] {
                fd = procmon_subscription_fd(sub);
                batch.resize(std::min<std::size_t>(max, 4096));
                std::size_t n = 0;
                int rc = procmon_subscription_next(sub, batch.data(), sizeof(procmon_event), batch.size(), &n, 0);
                for (std::size_t i = 0; i < n; ++i) out.push_back(Event::copy(batch[i]));
                return rc;
            });
            if (!out.empty()) return out;
            const int left_ms = deadline.forever() ? -1 : deadline.ms_left(1 << 30);
            if (left_ms == 0) return out;
            int r;
            {
                // Not procmon_subscription_wait: close() from another
                // thread must wake this wait, and only procmon_unsubscribe
                // wakes the library's, freeing the handle this thread may be
                // about to pass it. Our eventfd wakes it instead.
                py::gil_scoped_release nogil;
                struct pollfd fds[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
                r = ::poll(fds, 2, left_ms);
            }
            if (r < 0 && errno == EINTR && PyErr_CheckSignals() != 0) throw py::error_already_set();
        }
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
            try {
                py::object stop = (*pl->cb)(Event::copy(*e));
                return stop.is_none() || !py::bool_(stop) ? 0 : 1;
            } catch (py::error_already_set &err) {
                pl->error = std::move(err);
                return 1;
            }
        };
        {
            py::gil_scoped_release nogil;
            mutex.lock();
        }
        std::unique_lock<std::mutex> lock(mutex, std::adopt_lock);
        if (closed) raise(PROCMON_ECLOSED, "the subscription is closed");
        std::size_t n = 0;
        dispatching = std::this_thread::get_id();
        const int rc = procmon_dispatch(sub, trampoline, &payload, max, &n);
        dispatching = std::thread::id{};
        std::optional<Failure> failed;
        if (rc != PROCMON_OK && rc != PROCMON_EUSER) failed = last_failure(rc);
        lock.unlock();
        if (payload.error) throw std::move(*payload.error);
        if (failed && !(failed->code == PROCMON_ECLOSED && closed)) raise(*failed);
        return n;
    }

    void close() {
        if (closed.exchange(true)) return;
        uint64_t one = 1;
        [[maybe_unused]] ssize_t w = ::write(wake, &one, sizeof one);  // waiters in poll() wake and see `closed`
        if (dispatching.load() == std::this_thread::get_id()) {  // from the callback: we hold the mutex
            procmon_unsubscribe(sub);
            sub = nullptr;
            return;
        }
        py::gil_scoped_release nogil;
        std::lock_guard<std::mutex> lock(mutex);
        procmon_unsubscribe(sub);
        sub = nullptr;
    }

    // Closed by close(), or by closing its Monitor (the library's calls then
    // return ECLOSED; the descriptor stays the subscription's until close()).
    bool is_closed() const { return closed.load() || ctx->closed.load(); }

    int fileno() {
        if (is_closed()) raise(PROCMON_ECLOSED, closed ? "the subscription is closed" : "its Monitor is closed");
        return procmon_subscription_fd(sub);
    }

    py::dict stats() {
        procmon_subscription_stats s{};
        s.size = sizeof s;
        call([&] { return procmon_subscription_stats_get(&s, sub); });
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
                                        bool undecidable) {
    auto s = std::make_shared<Subscription>();
    s->ctx = c;
    s->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake < 0) raise(PROCMON_EIO, std::string("eventfd: ") + std::strerror(errno), errno);
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    o.events = events;
    o.name_glob = name ? name->c_str() : nullptr;
    o.uid = uid;
    o.descendants_of = descendants_of;
    o.queue_capacity = queue;
    o.cmdline_glob = cmdline ? cmdline->c_str() : nullptr;
    o.flags = (threads ? PROCMON_SUBSCRIBE_THREADS : 0u) | (undecidable ? PROCMON_SUBSCRIBE_UNDECIDABLE : 0u);
    checked(*c, [&](procmon_ctx *ctx) { return procmon_subscribe(&s->sub, ctx, &o); });
    return s;
}

}  // namespace

void bind_subscription(py::module_ &m, ContextClass &context) {
    context.def("subscribe", &subscribe, py::arg("events"), py::arg("name"), py::arg("cmdline"), py::arg("uid"),
                py::arg("descendants_of"), py::arg("queue"), py::arg("threads"), py::arg("undecidable"),
                "procmon_subscribe.");
    py::class_<Subscription, std::shared_ptr<Subscription>>(m, "Subscription", "A procmon_subscription.")
        .def("next", &Subscription::next, py::arg("max"), py::arg("timeout"))
        .def("dispatch", &Subscription::dispatch, py::arg("callback"), py::arg("max"))
        .def("close", &Subscription::close)
        .def("fileno", &Subscription::fileno)
        .def("stats", &Subscription::stats, "procmon_subscription_stats_get; latency_<stage>: (p50_ns, p99_ns, max_ns).")
        .def_property_readonly("closed", &Subscription::is_closed)
        .def_property_readonly("_wake_fd", [](const Subscription &s) { return s.wake; },
                               "Readable once close() was called (for asyncio waiters); lives as long as this object.");
}

}  // namespace pm
