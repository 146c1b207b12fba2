/*
 * The netlink event source under injected faults (cmocka), through the
 * syscall table in src/platform/linux/sys_ops.h:
 *  - bind refused (a kernel before 6.6, no CAP_NET_ADMIN): polling, and why;
 *  - ENOBUFS after the kernel dropped events: a LOST event, then a resync
 *    that synthesises the start and the exit that were missed;
 *  - short and malformed messages: skipped, the events around them kept.
 * The message parser is also fed hand-made buffers directly.
 */
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "platform/linux/sys_ops.h"
#include "procmon.h"

/* ------------------------------------------------------------ injection */

enum recv_mode { PASS, SWALLOW, ENOBUFS_ONCE, MALFORMED_ONCE };
/* Set by the test thread, read by the collector thread inside recvmsg. */
static atomic_int mode = PASS;
static atomic_int bind_errno = 0;
static atomic_int swallowed = 0;

static ssize_t fake_recvmsg(int fd, struct msghdr *msg, int flags) {
    const struct pm_sys_ops *real = pm_sys_default();
    for (;;) {
        int once = ENOBUFS_ONCE;
        if (atomic_compare_exchange_strong(&mode, &once, PASS)) {
            errno = ENOBUFS;
            return -1;
        }
        ssize_t n = real->recvmsg(fd, msg, flags);
        if (n <= 0) return n;
        if (mode == SWALLOW) { /* as if the kernel had dropped it */
            swallowed++;
            continue;
        }
        if (mode == MALFORMED_ONCE) {
            /* a header that claims more than arrived, in front of the real message */
            struct nlmsghdr bad;
            memset(&bad, 0, sizeof bad);
            bad.nlmsg_len = 4096;
            bad.nlmsg_type = NLMSG_DONE;
            memcpy(msg->msg_iov[0].iov_base, &bad, sizeof bad);
            atomic_store(&mode, PASS);
            return (ssize_t)sizeof bad;
        }
        return n;
    }
}

static int fake_bind(int fd, const struct sockaddr *addr, socklen_t len) {
    if (bind_errno) {
        errno = bind_errno;
        return -1;
    }
    return pm_sys_default()->bind(fd, addr, len);
}

static struct pm_sys_ops ops;
static void stop(pid_t p);
static pid_t children[16];
static int n_children;

static int setup(void **state) {
    (void)state;
    ops = *pm_sys_default();
    ops.recvmsg = fake_recvmsg;
    ops.bind = fake_bind;
    pm_sys_set(&ops);
    mode = PASS;
    bind_errno = 0;
    swallowed = 0;
    return 0;
}

static int teardown(void **state) {
    int i;
    (void)state;
    pm_sys_set(NULL);
    for (i = 0; i < n_children; i++)
        if (children[i] > 0) stop(children[i]);
    n_children = 0;
    return 0;
}

/* ------------------------------------------------------------ helpers */

/* Children live until killed; teardown reaps any a failed assertion left,
 * and they die with this process in any case. */

static pid_t spawn_idle(void) {
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) pause();
    }
    if (p > 0 && n_children < 16) children[n_children++] = p;
    return p;
}

static void stop(pid_t p) {
    int i;
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    for (i = 0; i < n_children; i++)
        if (children[i] == p) children[i] = 0;
}

/* How long a test waits for one event. The connector reports every process
 * of the machine, and the collector reads and enriches each before it gets
 * to ours: under TSan, with another suite's process storm on the same
 * machine, 3 s was once not enough. A wait ends as soon as its event comes. */
#define WAIT_MS 20000

/* Waits up to ms for an event of pid with type (and all `flags`); returns it.
 * One event per call, so nothing after the match is thrown away. */
static int wait_event(procmon_subscription *s, pid_t pid, uint32_t type, uint32_t flags, int ms, procmon_event *out,
                      uint64_t *lost) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        procmon_event ev[1];
        size_t n = 0, i;
        if (procmon_subscription_next(s, ev, sizeof ev[0], 1, &n, 50) != PROCMON_OK) return 0;
        for (i = 0; i < n; i++) {
            if (ev[i].type == PROCMON_EVENT_LOST && lost) *lost += ev[i].lost + 1;
            if (ev[i].pid == pid && ev[i].type == type && (ev[i].flags & flags) == flags) {
                if (out) *out = ev[i];
                return 1;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms) return 0;
    }
}

/* A context with one subscription to our descendants; false (and nothing
 * left open) when the connector is not what it runs on. */
static int open_on_netlink(procmon_ctx **ctx, procmon_subscription **s) {
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    procmon_stats st;
    assert_int_equal(procmon_open(ctx, NULL), PROCMON_OK);
    so.descendants_of = getpid();
    assert_int_equal(procmon_subscribe(s, *ctx, &so), PROCMON_OK);
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    procmon_stats_get(&st, *ctx);
    if (st.event_source == PROCMON_STATS_SOURCE_NETLINK) return 1;
    procmon_unsubscribe(*s);
    procmon_close(*ctx);
    return 0;
}

/* ------------------------------------------------------------ tests */

static void refused_bind_falls_back_to_polling_and_says_why(void **state) {
    (void)state;
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.poll_interval_ms = 50;
    procmon_ctx *ctx = NULL;
    procmon_subscription *s = NULL;
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    procmon_stats st;
    pid_t kid;
    bind_errno = EPERM;
    assert_int_equal(procmon_open(&ctx, &o), PROCMON_OK);
    so.descendants_of = getpid();
    assert_int_equal(procmon_subscribe(&s, ctx, &so), PROCMON_OK);
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    procmon_stats_get(&st, ctx);
    assert_int_equal(st.event_source, PROCMON_STATS_SOURCE_POLLING);
    assert_non_null(strstr(st.source_reason, "CAP_NET_ADMIN"));
    assert_int_equal(st.poll_interval_ms, 50);
    kid = spawn_idle();
    assert_true(wait_event(s, kid, PROCMON_EVENT_START, 0, WAIT_MS, NULL, NULL));
    stop(kid);
    assert_true(wait_event(s, kid, PROCMON_EVENT_EXIT, PROCMON_EVENT_FLAG_NO_STATUS, WAIT_MS, NULL, NULL));
    procmon_unsubscribe(s);
    procmon_close(ctx);
}

/* PROCMON_SOURCE_NETLINK asks for netlink or nothing: the refusal is the
 * subscriber's, with its status and why. */
static void refused_bind_fails_a_netlink_only_subscription_with_eperm(void **state) {
    (void)state;
    procmon_options o = PROCMON_OPTIONS_INIT;
    procmon_ctx *ctx = NULL;
    procmon_subscription *s = NULL;
    procmon_stats st;
    o.event_source = PROCMON_SOURCE_NETLINK;
    bind_errno = EPERM;
    assert_int_equal(procmon_open(&ctx, &o), PROCMON_OK);
    assert_int_equal(procmon_subscribe(&s, ctx, NULL), PROCMON_EPERM);
    assert_null(s);
    assert_int_equal(procmon_error_last()->code, PROCMON_EPERM);
    assert_int_equal(procmon_error_last()->sys_errno, EPERM);
    assert_non_null(strstr(procmon_error_last()->message, "event_source netlink"));
    assert_non_null(strstr(procmon_error_last()->message, "CAP_NET_ADMIN"));
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    procmon_stats_get(&st, ctx);
    assert_int_equal(st.event_source, PROCMON_STATS_SOURCE_NONE);
    assert_string_equal(st.source_name, "");
    bind_errno = 0; /* permitted now (root is on every kernel): the same context subscribes */
    if (geteuid() == 0) {
        assert_int_equal(procmon_subscribe(&s, ctx, NULL), PROCMON_OK);
        procmon_stats_get(&st, ctx);
        assert_string_equal(st.source_name, "netlink");
        procmon_unsubscribe(s);
    }
    procmon_close(ctx);
}

static void enobufs_gives_lost_and_a_resync_synthesises_what_was_missed(void **state) {
    (void)state;
    procmon_ctx *ctx = NULL;
    procmon_subscription *s = NULL;
    procmon_event ev;
    procmon_stats st;
    uint64_t lost = 0;
    pid_t old, fresh, nudge;
    if (!open_on_netlink(&ctx, &s)) skip();
    old = spawn_idle();
    assert_true(wait_event(s, old, PROCMON_EVENT_START, 0, WAIT_MS, NULL, NULL));

    /* The kernel "drops" everything for a while: a start and an exit vanish. */
    mode = SWALLOW;
    fresh = spawn_idle();
    stop(old);
    while (swallowed < 2) usleep(1000); /* the collector has read (and lost) them */
    mode = ENOBUFS_ONCE;
    nudge = spawn_idle(); /* makes the socket readable, so the collector sees ENOBUFS */

    assert_true(wait_event(s, fresh, PROCMON_EVENT_START, PROCMON_EVENT_FLAG_SYNTHESIZED, WAIT_MS, &ev, &lost));
    assert_true(lost > 0); /* the LOST event came first */
    assert_int_equal(ev.ppid, getpid());
    assert_true(wait_event(s, old, PROCMON_EVENT_EXIT, PROCMON_EVENT_FLAG_SYNTHESIZED | PROCMON_EVENT_FLAG_NO_STATUS,
                           WAIT_MS, &ev, NULL));
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    procmon_stats_get(&st, ctx);
    assert_int_equal(st.resyncs, 1);
    stop(fresh);
    stop(nudge);
    /* and events flow normally after the resync */
    assert_true(wait_event(s, fresh, PROCMON_EVENT_EXIT, 0, WAIT_MS, &ev, NULL));
    assert_int_equal(ev.exit_signal, SIGKILL);
    assert_int_equal(ev.flags & PROCMON_EVENT_FLAG_SYNTHESIZED, 0);
    procmon_unsubscribe(s);
    procmon_close(ctx);
}

static void malformed_messages_are_skipped_and_the_stream_goes_on(void **state) {
    (void)state;
    procmon_ctx *ctx = NULL;
    procmon_subscription *s = NULL;
    pid_t kid;
    if (!open_on_netlink(&ctx, &s)) skip();
    mode = MALFORMED_ONCE;
    kid = spawn_idle(); /* its fork message is replaced by garbage */
    while (mode == MALFORMED_ONCE) usleep(1000);
    stop(kid);
    /* the exit still arrives, whole */
    assert_true(wait_event(s, kid, PROCMON_EVENT_EXIT, 0, WAIT_MS, NULL, NULL));
    procmon_unsubscribe(s);
    procmon_close(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(refused_bind_falls_back_to_polling_and_says_why, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_bind_fails_a_netlink_only_subscription_with_eperm, setup, teardown),
        cmocka_unit_test_setup_teardown(enobufs_gives_lost_and_a_resync_synthesises_what_was_missed, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_messages_are_skipped_and_the_stream_goes_on, setup, teardown),
    };
    return cmocka_run_group_tests_name("netlink_faults", tests, NULL, NULL);
}
