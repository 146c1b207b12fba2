// What every file of procmon._procmon shares: the error path, text as
// Python sees it, copied events, deadlines. The extension is thin over the
// C ABI (procmon.h); the meaning of the values (psutil's names, tuples,
// status strings) is the pure-Python package's.
//
// Locks and the GIL: a handle's mutex serialises calls on it, as
// docs/threading.md requires. The order is always mutex, then GIL: a thread
// releases the GIL before it takes a mutex, so two threads never wait on
// each other.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "procmon.h"

namespace pm {
namespace py = pybind11;

// ------------------------------------------------------------ errors

// The library's error of the call that just failed on this thread: read on
// the thread of the call (the error slot is thread-local).
struct Failure {
    int code;
    int sys_errno;
    std::string message;
};
Failure last_failure(int rc);

// Raises procmon._errors' exception for the status code. GIL held.
[[noreturn]] void raise(int code, const std::string &message, int sys_errno = 0);
[[noreturn]] inline void raise(const Failure &f) { raise(f.code, f.message, f.sys_errno); }

// ------------------------------------------------------------ values

// Like os.fsdecode: bytes that are not UTF-8 survive as surrogate escapes.
py::str fs_text(const char *s, std::size_t n);
inline py::str fs_text(const char *s) { return fs_text(s, std::strlen(s)); }

// A stats struct's field into the dict `d`, under its C name.
#define PM_COPY(field) d[#field] = s.field

// An event with its strings copied: the library's live only until its next call.
struct Event {
    procmon_event e{};
    std::string name, exe, argv, full_name;
    static Event copy(const procmon_event &e);
    procmon_event view() const;  // e with its pointers on the copies
};

// The end of a wait of `timeout` seconds, as the package passes it: None
// (also inf, or more than a year) is never, negative is now. GIL held.
class Deadline {
    using clock = std::chrono::steady_clock;
    std::optional<clock::time_point> at_;

  public:
    explicit Deadline(std::optional<double> timeout);
    bool forever() const { return !at_; }
    bool passed() const { return at_ && clock::now() >= *at_; }
    int ms_left(int cap) const;  // rounded up, in 0..cap; cap when it never ends
};

// ------------------------------------------------------------ handles

// An open procmon_ctx; snapshots, subscriptions and journals come from it.
struct Context {
    procmon_ctx *ctx = nullptr;
    std::mutex mutex;                 // one call at a time on the context
    std::atomic<bool> closed{false};  // read by any thread without the mutex
    ~Context() { procmon_close(ctx); }
};
using ContextClass = py::class_<Context, std::shared_ptr<Context>>;

// Runs call(ctx) with the GIL released and the context's mutex held; raises
// the library's error if it failed (read on this thread: nothing else ran
// on it in between).
template <class F>
void checked(Context &c, F &&call) {
    std::optional<Failure> failed;
    {
        py::gil_scoped_release nogil;
        std::lock_guard<std::mutex> lock(c.mutex);
        if (c.ctx == nullptr) failed = Failure{PROCMON_ECLOSED, 0, "the Monitor is closed"};
        else if (int rc = call(c.ctx); rc != PROCMON_OK) failed = last_failure(rc);
    }
    if (failed) raise(*failed);
}

// A handle another thread may close while one waits on it. A call counts
// itself in for as long as it is inside the library; close() stops new
// ones, wakes the one waiting (procmon_*_wake: the wake is kept, so one
// about to wait returns at once too), and frees the handle once none is in.
class InFlight {
    std::mutex m_;
    std::condition_variable idle_;
    int inside_ = 0;
    bool closing_ = false;
    const char *closed_;  // the message once closing: "the reader is closed"

  public:
    explicit InFlight(const char *closed_message) : closed_(closed_message) {}
    bool enter();  // false once closing
    void leave();
    bool closing();
    // Whether this call closes (not an earlier one). Waits, without the GIL,
    // until at most `mine` calls are inside (1: from inside one of them).
    bool close(const std::function<void()> &wake, int mine);

    // Runs f() (a status code) without the GIL, counted in, under `serial`
    // when given (one reader at a time); raises the library's error unless
    // it is one of `quiet`, and Closed once closing. Returns the status.
    template <class F>
    int run(std::mutex *serial, F &&f, std::initializer_list<int> quiet = {}) {
        std::optional<Failure> failed;
        int rc = PROCMON_ECLOSED;
        {
            py::gil_scoped_release nogil;
            std::unique_lock<std::mutex> one = serial ? std::unique_lock<std::mutex>(*serial) : std::unique_lock<std::mutex>();
            if (!enter()) {
                failed = Failure{rc, 0, closed_};
            } else {
                rc = f();
                leave();
                if (rc != PROCMON_OK && std::find(quiet.begin(), quiet.end(), rc) == quiet.end()) failed = last_failure(rc);
            }
        }
        if (failed) raise(*failed);
        return rc;
    }

    // A reader's wait for events: step(ms, out) waits up to ms in the
    // library (one call, without the GIL, under `serial`) and takes what
    // came. EINTR is close()'s wake (raises Closed) or a signal (its
    // handlers run, Ctrl-C raises; then again).
    template <class Step>
    std::vector<Event> wait_events(std::mutex &serial, std::optional<double> timeout, Step &&step) {
        const Deadline deadline(timeout);
        std::vector<Event> out;
        for (;;) {
            const int ms = deadline.forever() ? -1 : deadline.ms_left(INT_MAX);
            const int rc = run(&serial, [&] { return step(ms, out); }, {PROCMON_ETIMEDOUT, PROCMON_EINTR});
            if (!out.empty() || rc == PROCMON_ETIMEDOUT) return out;
            if (rc == PROCMON_EINTR && closing()) raise(PROCMON_ECLOSED, closed_);
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        }
    }
};

// Each file binds its handle, and adds to Context the call that makes it.
ContextClass bind_context(py::module_ &m);
void bind_snapshot(py::module_ &m, ContextClass &context);
void bind_event(py::module_ &m);
void bind_subscription(py::module_ &m, ContextClass &context);
void bind_journal(py::module_ &m);

}  // namespace pm
