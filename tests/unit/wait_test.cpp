// procmon_subscription_wait: ready when an event waits (and leaves it
// queued), out of time when none comes, interrupted by a signal for the
// waiting thread so a binding can run its handlers, closed when another
// thread unsubscribes or closes the context. procmon_subscription_wake, from
// another thread or a signal handler, ends the wait (or next) in progress
// with EINTR or is kept for the next one (never lost), is taken by one
// call, and leaves queued events where they are.
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "procmon_raii.hpp"

namespace {

procmon_options polling(uint32_t interval_ms) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.event_source = PROCMON_SOURCE_POLLING;
    o.poll_interval_ms = interval_ms;
    return o;
}

// A filter nothing on this machine passes.
procmon_subscribe_options nothing() {
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    o.name_glob = "no-process-is-called-this";
    return o;
}

// A filter this process's children pass.
procmon_subscribe_options children() {
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    o.descendants_of = getpid();
    return o;
}

// A polling context and a subscription nothing passes (or `o` does).
struct Quiet {
    procmon_ctx *ctx = nullptr;
    procmon_subscription *s = nullptr;
    explicit Quiet(uint32_t interval_ms, procmon_subscribe_options o = nothing()) {
        procmon_options opts = polling(interval_ms);
        cr_assert_eq(procmon_open(&ctx, &opts), PROCMON_OK);
        cr_assert_eq(procmon_subscribe(&s, ctx, &o), PROCMON_OK);
    }
    ~Quiet() {
        procmon_unsubscribe(s);
        procmon_close(ctx);
    }
};

// A thread blocked in procmon_subscription_wait(s, -1), and what it returned.
struct Waiter {
    std::atomic<int> rc{1};  // 1: still waiting
    std::thread t;
    explicit Waiter(procmon_subscription *s) : t([this, s] { rc = procmon_subscription_wait(s, -1); }) {
        usleep(200000);  // in the wait by now
    }
    bool returned(int within_ms) {
        for (int i = 0; i < within_ms / 10 && rc == 1; ++i) usleep(10000);
        return rc != 1;
    }
    ~Waiter() { t.join(); }
};

void on_signal(int) {}

using clock_type = std::chrono::steady_clock;

long ms_since(clock_type::time_point t0) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count());
}

// A thread blocked in f() (a wait with no timeout), and what it returned.
struct Blocked {
    std::atomic<int> rc{1};  // 1: still waiting
    std::thread t;
    template <class F>
    explicit Blocked(F f) : t([this, f] { rc = f(); }) {
        usleep(200000);  // in the wait by now
    }
    bool returned(int within_ms) {
        for (int i = 0; i < within_ms / 10 && rc == 1; ++i) usleep(10000);
        return rc != 1;
    }
    ~Blocked() { t.join(); }
};

// A child that lives through a poll, then exits: start and exit events.
void child_events(procmon_subscription *s) {
    pid_t kid = fork();
    if (kid == 0) {
        usleep(200000);
        _exit(0);
    }
    waitpid(kid, nullptr, 0);
    cr_assert_eq(procmon_subscription_wait(s, 5000), PROCMON_OK, "%s", procmon_error_last()->message);
}

procmon_subscription *signalled_sub;
void wake_from_handler(int) { procmon_subscription_wake(signalled_sub); }

}  // namespace

Test(wait, ok_once_an_event_is_queued_which_stays_for_next) {
    procmon_options opts = polling(50);
    Ctx c(&opts);
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    o.descendants_of = getpid();
    procmon_subscription *s = nullptr;
    cr_assert_eq(procmon_subscribe(&s, c.ctx, &o), PROCMON_OK);
    cr_expect_eq(procmon_subscription_wait(s, 0), PROCMON_ETIMEDOUT, "nothing yet");
    pid_t kid = fork();
    if (kid == 0) {
        usleep(300000);  // lives through a poll
        _exit(0);
    }
    cr_expect_eq(procmon_subscription_wait(s, 5000), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_eq(procmon_subscription_wait(s, 0), PROCMON_OK, "waiting took nothing");
    procmon_event ev[8];
    size_t n = 0;
    cr_expect_eq(procmon_subscription_next(s, ev, sizeof ev[0], 8, &n, 0), PROCMON_OK);
    cr_assert_geq(n, 1u);
    cr_expect_eq(ev[0].pid, kid);
    cr_expect_eq(ev[0].type, PROCMON_EVENT_START);
    waitpid(kid, nullptr, 0);
    procmon_unsubscribe(s);
}

Test(wait, etimedout_when_nothing_passes_the_filter) {
    Quiet q(20);
    procmon_subscription *&s = q.s;
    const auto began = std::chrono::steady_clock::now();
    cr_expect_eq(procmon_subscription_wait(s, 150), PROCMON_ETIMEDOUT);
    cr_expect_geq(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(150), "it waited the time out");
    cr_expect_eq(procmon_error_last()->code, PROCMON_ETIMEDOUT);
    cr_expect_eq(procmon_subscription_wait(s, 0), PROCMON_ETIMEDOUT);
    cr_expect_eq(procmon_subscription_wait(s, -2), PROCMON_EINVAL);
}

Test(wait, eintr_when_a_signal_arrives_for_the_waiting_thread) {
    struct sigaction sa {}, old{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: as Python installs its handlers
    cr_assert_eq(sigaction(SIGUSR1, &sa, &old), 0);
    Quiet q(1000);
    procmon_subscription *&s = q.s;
    int rc;
    {
        Waiter w(s);
        // Again until it returns: a signal just before the wait began is not one during it.
        for (int i = 0; i < 50 && !w.returned(100); ++i) pthread_kill(w.t.native_handle(), SIGUSR1);
        rc = w.rc;
        if (rc == 1) procmon_unsubscribe(s), s = nullptr;  // it slept through the signals: end it to fail, not hang
    }
    cr_assert_eq(rc, PROCMON_EINTR);
    cr_expect_eq(procmon_subscription_wait(s, 0), PROCMON_ETIMEDOUT, "still usable after");
    sigaction(SIGUSR1, &old, nullptr);
}

Test(wait, eclosed_when_another_thread_unsubscribes) {
    Quiet q(1000);
    procmon_subscription *&s = q.s;
    Waiter w(s);
    cr_expect(!w.returned(0));
    procmon_unsubscribe(s);
    s = nullptr;
    cr_assert(w.returned(5000), "the wait did not end");
    cr_expect_eq(w.rc.load(), PROCMON_ECLOSED);
}

Test(wait, eclosed_when_another_thread_closes_the_context_and_after) {
    Quiet q(1000);
    procmon_subscription *&s = q.s;
    {
        Waiter w(s);
        procmon_close(q.ctx);
        q.ctx = nullptr;
        cr_assert(w.returned(5000), "the wait did not end");
        cr_expect_eq(w.rc.load(), PROCMON_ECLOSED);
    }
    cr_expect_eq(procmon_subscription_wait(s, 0), PROCMON_ECLOSED, "and after");
}

// ------------------------------------------------------------ wake

Test(wake, ends_a_blocked_wait_from_another_thread) {
    Quiet q(50);
    Blocked w([&] { return procmon_subscription_wait(q.s, -1); });
    cr_assert_not(w.returned(0), "still waiting");
    const auto t0 = clock_type::now();
    cr_assert_eq(procmon_subscription_wake(q.s), PROCMON_OK);
    cr_assert(w.returned(2000), "the wake ended the wait");
    cr_expect_eq(w.rc.load(), PROCMON_EINTR);
    cr_expect_lt(ms_since(t0), 500);
}

Test(wake, ends_a_blocked_next_with_no_events) {
    Quiet q(50);
    procmon_event ev[4];
    size_t n = 9;
    Blocked w([&] { return procmon_subscription_next(q.s, ev, sizeof ev[0], 4, &n, -1); });
    cr_assert_eq(procmon_subscription_wake(q.s), PROCMON_OK);
    cr_assert(w.returned(2000), "the wake ended next");
    cr_expect_eq(w.rc.load(), PROCMON_EINTR);
    cr_expect_eq(n, 0u);
}

Test(wake, before_the_wait_is_kept_for_it_and_taken_once) {
    Quiet q(50);
    cr_assert_eq(procmon_subscription_wake(q.s), PROCMON_OK);
    cr_assert_eq(procmon_subscription_wake(q.s), PROCMON_OK);  // two before a wait are one
    auto t0 = clock_type::now();
    cr_expect_eq(procmon_subscription_wait(q.s, -1), PROCMON_EINTR, "at once");
    cr_expect_lt(ms_since(t0), 500);
    t0 = clock_type::now();
    cr_expect_eq(procmon_subscription_wait(q.s, 200), PROCMON_ETIMEDOUT, "the one after waits");
    cr_expect_geq(ms_since(t0), 190);
}

Test(wake, keeps_queued_events_for_the_next_call) {
    Quiet q(50, children());
    child_events(q.s);
    struct pollfd p = {procmon_subscription_fd(q.s), POLLIN, 0};
    cr_assert_eq(procmon_subscription_wake(q.s), PROCMON_OK);
    procmon_event ev[16];
    size_t n = 9;
    cr_expect_eq(procmon_subscription_next(q.s, ev, sizeof ev[0], 16, &n, -1), PROCMON_EINTR);
    cr_expect_eq(n, 0u);
    cr_expect_eq(poll(&p, 1, 0), 1, "events still wait: the fd stays readable");
    cr_expect_eq(procmon_subscription_next(q.s, ev, sizeof ev[0], 16, &n, 0), PROCMON_OK);
    cr_expect_gt(n, 0u, "the events are all there");
    cr_expect_eq(ev[0].type, PROCMON_EVENT_START);
}

Test(wake, makes_the_fd_readable_until_taken) {
    Quiet q(50);
    struct pollfd p = {procmon_subscription_fd(q.s), POLLIN, 0};
    cr_assert_eq(poll(&p, 1, 0), 0);
    cr_assert_eq(procmon_subscription_wake(q.s), PROCMON_OK);
    cr_expect_eq(poll(&p, 1, 0), 1, "an epoll loop sees the wake");
    procmon_event ev[1];
    size_t n = 0;
    cr_expect_eq(procmon_subscription_next(q.s, ev, sizeof ev[0], 1, &n, 0), PROCMON_EINTR);
    cr_expect_eq(poll(&p, 1, 0), 0, "taken: quiet again, so the loop does not spin");
}

Test(wake, dispatch_neither_takes_nor_heeds_it) {
    Quiet q(50);
    cr_assert_eq(procmon_subscription_wake(q.s), PROCMON_OK);
    size_t n = 9;
    cr_expect_eq(procmon_dispatch(q.s, [](const procmon_event *, void *) { return 0; }, nullptr, 4, &n), PROCMON_OK);
    cr_expect_eq(procmon_subscription_wait(q.s, 0), PROCMON_EINTR, "still pending");
}

Test(wake, from_a_signal_handler) {
    Quiet q(50);
    signalled_sub = q.s;
    struct sigaction sa = {}, old = {};
    sa.sa_handler = wake_from_handler;
    sa.sa_flags = SA_RESTART;  // the wake, not the signal, must end the wait
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR2, &sa, &old), 0);
    procmon_event ev[1];
    size_t n = 0;
    // next, which a signal alone does not end: the wake does.
    Blocked w([&] { return procmon_subscription_next(q.s, ev, sizeof ev[0], 1, &n, -1); });
    pthread_kill(w.t.native_handle(), SIGUSR2);
    cr_assert(w.returned(2000));
    cr_expect_eq(w.rc.load(), PROCMON_EINTR);
    // Raised on this thread, not waiting: the wake is kept for its next wait.
    raise(SIGUSR2);
    cr_expect_eq(procmon_subscription_wait(q.s, -1), PROCMON_EINTR);
    sigaction(SIGUSR2, &old, nullptr);
}
