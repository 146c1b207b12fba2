/*
 * Waiting for a journal's next records without reading them (since 0.3):
 * procmon_journal_reader_wait returns once procmon_journal_reader_next would
 * return an event, times out on an idle journal, returns EINTR to a thread a
 * signal interrupts (so a binding can run its signal handlers), and
 * procmon_journal_reader_fd turns readable for poll/epoll after an append.
 * procmon_journal_reader_wake, from another thread or a signal handler, ends
 * a wait (or next) in progress with EINTR or is kept for the next one (never
 * lost), is taken by one call, and loses no record.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "procmon.h"
#include "journal_append.h"

struct fixture {
    char dir[64];
    procmon_journal *j;
    procmon_journal_reader *r;
};

static int setup(void **state) {
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/procmon-wait-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(procmon_journal_open(&f->j, NULL, f->dir, NULL), PROCMON_OK);
    assert_int_equal(procmon_journal_reader_open(&f->r, f->dir, NULL), PROCMON_OK);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    struct fixture *f = *state;
    char cmd[128];
    procmon_journal_reader_close(f->r);
    procmon_journal_close(f->j);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static void append(procmon_journal *j, int32_t pid) {
    assert_int_equal(append_start(j, pid, "waited", 0), PROCMON_OK);
    assert_int_equal(procmon_journal_sync(j, -1, NULL), PROCMON_OK);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void idle_journal_times_out(void **state) {
    struct fixture *f = *state;
    assert_int_equal(procmon_journal_reader_wait(f->r, 0), PROCMON_ETIMEDOUT);
    assert_int_equal(procmon_journal_reader_wait(f->r, 50), PROCMON_ETIMEDOUT);
    assert_non_null(strstr(procmon_error_last()->message, "procmon_journal_reader_wait"));
    assert_int_equal(procmon_journal_reader_wait(f->r, -2), PROCMON_EINVAL);
}

struct later {
    procmon_journal *j;
    long delay_ms;
};

static void *append_later(void *arg) {
    struct later *l = arg;
    sleep_ms(l->delay_ms);
    append(l->j, 4242);
    return NULL;
}

static void wait_returns_after_an_append_in_another_thread(void **state) {
    struct fixture *f = *state;
    struct later l = {f->j, 100};
    pthread_t t;
    procmon_event ev[4];
    size_t n = 9;
    assert_int_equal(procmon_journal_reader_wait(f->r, 0), PROCMON_ETIMEDOUT);
    assert_int_equal(pthread_create(&t, NULL, append_later, &l), 0);
    assert_int_equal(procmon_journal_reader_wait(f->r, 20000), PROCMON_OK);
    pthread_join(t, NULL);
    /* what wait found, next returns, without waiting */
    assert_int_equal(procmon_journal_reader_next(f->r, ev, sizeof ev[0], 4, &n, 0), PROCMON_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].pid, 4242);
    assert_string_equal(ev[0].name, "waited");
    assert_int_equal(ev[0].seq, 1);
    assert_int_equal(procmon_journal_reader_wait(f->r, 0), PROCMON_ETIMEDOUT);
}

static void events_wait_found_come_first_and_in_order(void **state) {
    struct fixture *f = *state;
    procmon_event ev[4];
    size_t n = 0;
    int32_t pid;
    for (pid = 1; pid <= 3; pid++) append(f->j, pid);
    assert_int_equal(procmon_journal_reader_wait(f->r, 1000), PROCMON_OK);
    assert_int_equal(procmon_journal_reader_wait(f->r, 0), PROCMON_OK); /* still there: not consumed */
    assert_int_equal(procmon_journal_reader_next(f->r, ev, sizeof ev[0], 1, &n, 0), PROCMON_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].pid, 1);
    assert_int_equal(procmon_journal_reader_next(f->r, ev, sizeof ev[0], 4, &n, 0), PROCMON_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].pid, 2);
    assert_int_equal(ev[1].pid, 3);
    assert_string_equal(ev[1].name, "waited");
}

static volatile sig_atomic_t signals_seen;
static void on_signal(int sig) {
    (void)sig;
    signals_seen++;
}

struct waiting {
    procmon_journal_reader *r;
    volatile int done;
    int rc;
    char message[256];
};

static void *wait_long(void *arg) {
    struct waiting *w = arg;
    w->rc = procmon_journal_reader_wait(w->r, 20000);
    snprintf(w->message, sizeof w->message, "%s", procmon_error_last()->message);
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void a_signal_to_the_waiting_thread_is_eintr(void **state) {
    struct fixture *f = *state;
    struct sigaction sa, old;
    struct waiting w;
    pthread_t t;
    int tries;
    memset(&sa, 0, sizeof sa);
    memset(&w, 0, sizeof w);
    sa.sa_handler = on_signal; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    w.r = f->r;
    signals_seen = 0;
    assert_int_equal(pthread_create(&t, NULL, wait_long, &w), 0);
    /* Again until it lands inside the wait (one sent before it does is
     * handled and forgotten). */
    for (tries = 0; tries < 500 && !__atomic_load_n(&w.done, __ATOMIC_SEQ_CST); tries++) {
        pthread_kill(t, SIGUSR1);
        sleep_ms(20);
    }
    pthread_join(t, NULL);
    sigaction(SIGUSR1, &old, NULL);
    assert_int_equal(w.rc, PROCMON_EINTR);
    assert_true(signals_seen >= 1);
    assert_non_null(strstr(w.message, "interrupted"));
}

static void the_fd_is_readable_after_an_append(void **state) {
    struct fixture *f = *state;
    procmon_event ev[2];
    size_t n = 0;
    struct pollfd p;
    int fd = procmon_journal_reader_fd(f->r);
    assert_true(fd >= 0);
    assert_int_equal(procmon_journal_reader_next(f->r, ev, sizeof ev[0], 2, &n, 0), PROCMON_OK); /* look: quiet now */
    assert_int_equal(n, 0);
    p.fd = fd;
    p.events = POLLIN;
    assert_int_equal(poll(&p, 1, 0), 0);
    append(f->j, 77);
    assert_int_equal(poll(&p, 1, 10000), 1);
    assert_true(p.revents & POLLIN);
    assert_int_equal(procmon_journal_reader_next(f->r, ev, sizeof ev[0], 2, &n, 0), PROCMON_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].pid, 77);
    /* next looked: quiet again, so an epoll loop does not spin */
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_int_equal(procmon_journal_reader_fd(f->r), fd);
}

/* ------------------------------------------------------------ wake */

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct blocked {
    procmon_journal_reader *r;
    int use_next; /* next, not wait */
    volatile int done;
    int rc;
    size_t n;
};

static void *block(void *arg) {
    struct blocked *b = arg;
    procmon_event ev[4];
    b->n = 9;
    b->rc = b->use_next ? procmon_journal_reader_next(b->r, ev, sizeof ev[0], 4, &b->n, -1)
                        : procmon_journal_reader_wait(b->r, -1);
    __atomic_store_n(&b->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static int returned(struct blocked *b, long within_ms) {
    long i;
    for (i = 0; i < within_ms / 10 && !__atomic_load_n(&b->done, __ATOMIC_SEQ_CST); i++) sleep_ms(10);
    return __atomic_load_n(&b->done, __ATOMIC_SEQ_CST);
}

/* A wake from another thread ends a wait (or next) blocked forever, quickly. */
static void ends(procmon_journal_reader *r, int use_next) {
    struct blocked b;
    pthread_t t;
    long t0;
    memset(&b, 0, sizeof b);
    b.r = r;
    b.use_next = use_next;
    assert_int_equal(pthread_create(&t, NULL, block, &b), 0);
    sleep_ms(200);
    assert_false(returned(&b, 0));
    t0 = now_ms();
    assert_int_equal(procmon_journal_reader_wake(r), PROCMON_OK);
    assert_true(returned(&b, 2000));
    pthread_join(t, NULL);
    assert_int_equal(b.rc, PROCMON_EINTR);
    assert_true(now_ms() - t0 < 500);
    if (use_next) assert_int_equal(b.n, 0);
}

static void ends_a_blocked_wait(void **state) {
    struct fixture *f = *state;
    ends(f->r, 0);
}

static void ends_a_blocked_next(void **state) {
    struct fixture *f = *state;
    ends(f->r, 1);
}

static void before_the_wait_is_kept_and_taken_once(void **state) {
    struct fixture *f = *state;
    long t0;
    assert_int_equal(procmon_journal_reader_wake(f->r), PROCMON_OK);
    t0 = now_ms();
    assert_int_equal(procmon_journal_reader_wait(f->r, -1), PROCMON_EINTR);
    assert_true(now_ms() - t0 < 500);
    assert_non_null(strstr(procmon_error_last()->message, "procmon_journal_reader_wake"));
    t0 = now_ms();
    assert_int_equal(procmon_journal_reader_wait(f->r, 200), PROCMON_ETIMEDOUT);
    assert_true(now_ms() - t0 >= 190);
}

static void loses_no_record(void **state) {
    struct fixture *f = *state;
    procmon_event ev[4];
    size_t n = 9;
    assert_int_equal(append_start(f->j, 31, "kept", 0), PROCMON_OK);
    assert_int_equal(procmon_journal_sync(f->j, -1, NULL), PROCMON_OK);
    assert_int_equal(procmon_journal_reader_wait(f->r, 5000), PROCMON_OK); /* found ahead */
    assert_int_equal(procmon_journal_reader_wake(f->r), PROCMON_OK);
    assert_int_equal(procmon_journal_reader_next(f->r, ev, sizeof ev[0], 4, &n, -1), PROCMON_EINTR);
    assert_int_equal(n, 0);
    assert_int_equal(procmon_journal_reader_next(f->r, ev, sizeof ev[0], 4, &n, 0), PROCMON_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].pid, 31);
    assert_string_equal(ev[0].name, "kept");
}

static procmon_journal_reader *signalled;
static void wake_from_handler(int sig) {
    (void)sig;
    procmon_journal_reader_wake(signalled);
}

static void from_a_signal_handler(void **state) {
    struct fixture *f = *state;
    struct sigaction sa, old;
    struct blocked b;
    pthread_t t;
    memset(&sa, 0, sizeof sa);
    memset(&b, 0, sizeof b);
    sa.sa_handler = wake_from_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    signalled = f->r;
    assert_int_equal(sigaction(SIGUSR2, &sa, &old), 0);
    /* next, which a signal alone does not end: the wake does */
    b.r = f->r;
    b.use_next = 1;
    assert_int_equal(pthread_create(&t, NULL, block, &b), 0);
    sleep_ms(200);
    pthread_kill(t, SIGUSR2);
    assert_true(returned(&b, 2000));
    pthread_join(t, NULL);
    assert_int_equal(b.rc, PROCMON_EINTR);
    /* raised here, where nothing waits: kept for this thread's next wait */
    raise(SIGUSR2);
    assert_int_equal(procmon_journal_reader_wait(f->r, -1), PROCMON_EINTR);
    sigaction(SIGUSR2, &old, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(idle_journal_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(wait_returns_after_an_append_in_another_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(events_wait_found_come_first_and_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(a_signal_to_the_waiting_thread_is_eintr, setup, teardown),
        cmocka_unit_test_setup_teardown(the_fd_is_readable_after_an_append, setup, teardown),
        cmocka_unit_test_setup_teardown(ends_a_blocked_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(ends_a_blocked_next, setup, teardown),
        cmocka_unit_test_setup_teardown(before_the_wait_is_kept_and_taken_once, setup, teardown),
        cmocka_unit_test_setup_teardown(loses_no_record, setup, teardown),
        cmocka_unit_test_setup_teardown(from_a_signal_handler, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
