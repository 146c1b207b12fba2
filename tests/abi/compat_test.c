/*
 * A program built against procmon 0.1: compiled with 0.1's header,
 * tests/abi/include-0.1/procmon.h (git show c8bc2fe:include/procmon.h,
 * committed: it never changes), and run against the library of this tree.
 * Its structs and constants are 0.1's as an old binary has them compiled
 * in, so this keeps proving that the library reads and writes no byte past
 * what the caller declared:
 *  - an input struct of version 1 sits at the very end of a readable page,
 *    with an inaccessible page after it: a read or write past it crashes;
 *  - an older, smaller procmon_event is taken in an array at its own
 *    stride, with a canary after it; a larger one keeps its tail;
 *  - 0.1's events go into a journal and come back at 0.1's size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "procmon.h"

#if PROCMON_VERSION_NUMBER != 100
#error "compat_test.c is a 0.1 program: build it with tests/abi/include-0.1 first on the include path"
#endif

/* An event struct older than even 0.1's: its first fields only. */
struct old_event {
    uint32_t size, type, flags;
    int32_t pid, ppid;
    uint32_t uid;
    uint64_t seq, time_ns;
};

/* A struct of n bytes whose last byte is the last readable one. */
static void *at_page_end(size_t n) {
    long page = sysconf(_SC_PAGESIZE);
    char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);
    assert_int_equal(mprotect(mem + page, (size_t)page, PROT_NONE), 0);
    return mem + page - n;
}
static void free_page_end(void *p, size_t n) {
    long page = sysconf(_SC_PAGESIZE);
    munmap((char *)p + n - page, (size_t)page * 2);
}

static void v1_input_structs_are_read_and_filled_no_further(void **state) {
    procmon_options *o = at_page_end(sizeof *o);
    procmon_query *q = at_page_end(sizeof *q);
    procmon_subscribe_options *so = at_page_end(sizeof *so);
    procmon_ctx *ctx = NULL;
    procmon_snapshot *snap = NULL;
    procmon_subscription *sub = NULL;
    int32_t self = getpid();
    (void)state;

    assert_int_equal(procmon_options_init(o, PROCMON_OPTIONS_VERSION), PROCMON_OK);
    assert_int_equal(o->version, 1);
    assert_int_equal(o->cache_policy, PROCMON_CACHE_STATIC);
    o->threads = 1;
    assert_int_equal(procmon_open(&ctx, o), PROCMON_OK);

    assert_int_equal(procmon_query_init(q, PROCMON_QUERY_VERSION), PROCMON_OK);
    assert_int_equal(q->uid, -1);
    q->pids = &self;
    q->pid_count = 1;
    assert_int_equal(procmon_enumerate(&snap, ctx, q), PROCMON_OK);
    assert_int_equal(procmon_snapshot_count(snap), 1);
    assert_int_equal(procmon_snapshot_at(snap, 0)->pid, self);

    assert_int_equal(procmon_subscribe_options_init(so, PROCMON_SUBSCRIBE_VERSION), PROCMON_OK);
    assert_int_equal(so->uid, -1);
    so->descendants_of = self;
    assert_int_equal(procmon_subscribe(&sub, ctx, so), PROCMON_OK);

    procmon_unsubscribe(sub);
    procmon_snapshot_free(snap);
    procmon_close(ctx);
    free_page_end(o, sizeof *o);
    free_page_end(q, sizeof *q);
    free_page_end(so, sizeof *so);
}

/* Waits for n events of our children into `out` at the caller's stride. */
static size_t take(procmon_subscription *s, void *out, size_t stride, size_t n) {
    size_t got = 0;
    int tries;
    for (tries = 0; tries < 100 && got < n; tries++) {
        size_t k = 0;
        assert_int_equal(procmon_subscription_next(s, (procmon_event *)((char *)out + got * stride), stride, n - got, &k, 50),
                         PROCMON_OK);
        got += k;
    }
    return got;
}

static void older_and_newer_event_structs_get_their_own_size(void **state) {
    procmon_ctx *ctx = NULL;
    procmon_subscription *sub = NULL;
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    struct {
        struct old_event ev[2];
        unsigned char canary[64];
    } old;
    struct newer_event {
        procmon_event e;
        uint64_t added_later[4];
    } newer[2];
    size_t i;
    pid_t kid;
    (void)state;
    assert_int_equal(procmon_open(&ctx, NULL), PROCMON_OK);
    so.descendants_of = getpid();
    so.events = PROCMON_EVENT_START | PROCMON_EVENT_EXIT;
    assert_int_equal(procmon_subscribe(&sub, ctx, &so), PROCMON_OK);

    memset(&old, 0xA5, sizeof old);
    kid = fork();
    if (kid == 0) _exit(0);
    waitpid(kid, NULL, 0);
    assert_int_equal(take(sub, old.ev, sizeof old.ev[0], 2), 2);
    for (i = 0; i < sizeof old.canary; i++) assert_int_equal(old.canary[i], 0xA5);
    for (i = 0; i < 2; i++) {
        assert_int_equal(old.ev[i].size, sizeof(struct old_event));
        assert_int_equal(old.ev[i].pid, kid);
        assert_int_equal(old.ev[i].ppid, getpid());
    }
    assert_int_equal(old.ev[0].type, PROCMON_EVENT_START);
    assert_int_equal(old.ev[1].type, PROCMON_EVENT_EXIT);
    assert_true(old.ev[0].seq < old.ev[1].seq);

    memset(newer, 0xA5, sizeof newer);
    kid = fork();
    if (kid == 0) _exit(0);
    waitpid(kid, NULL, 0);
    assert_int_equal(take(sub, newer, sizeof newer[0], 2), 2);
    for (i = 0; i < 2; i++) {
        /* what this library has: 0.1's event and more, less than the stride */
        const unsigned char *bytes = (const unsigned char *)&newer[i];
        size_t b;
        assert_true(newer[i].e.size > sizeof(procmon_event));
        assert_true(newer[i].e.size < sizeof newer[i]);
        assert_int_equal(newer[i].e.pid, kid);
        for (b = newer[i].e.size; b < sizeof newer[i]; b++) assert_int_equal(bytes[b], 0xA5); /* not written */
    }
    procmon_unsubscribe(sub);
    procmon_close(ctx);
}

/* A 0.1 program appends its (smaller) events to a journal and reads
 * them back at its own stride: accepted, nothing read or written past it. */
static void journal_takes_and_gives_0_1_events(void **state) {
    char dir[] = "/tmp/pm-abi-XXXXXX";
    procmon_event *ev = at_page_end(sizeof *ev);
    struct {
        procmon_event ev[2];
        unsigned char canary[64];
    } back;
    procmon_journal *j = NULL;
    procmon_journal_reader *r = NULL;
    char cmd[64];
    size_t n = 0, i;
    (void)state;
    assert_non_null(mkdtemp(dir));
    memset(ev, 0, sizeof *ev);
    ev->size = sizeof *ev;
    ev->type = PROCMON_EVENT_EXEC;
    ev->pid = 42;
    ev->name = "old";
    ev->exe = "/bin/old";
    ev->argv = "old\0-x\0";
    ev->argv_len = 7;
    ev->argc = 2;
    assert_int_equal(procmon_journal_open(&j, NULL, dir, NULL), PROCMON_OK);
    assert_int_equal(procmon_journal_append(j, (const procmon_event *)ev, sizeof *ev, 1), PROCMON_OK);
    assert_int_equal(procmon_journal_close(j), PROCMON_OK);
    memset(&back, 0xA5, sizeof back);
    assert_int_equal(procmon_journal_reader_open(&r, dir, NULL), PROCMON_OK);
    assert_int_equal(procmon_journal_reader_next(r, (procmon_event *)back.ev, sizeof back.ev[0], 2, &n, 0), PROCMON_OK);
    assert_int_equal(n, 1);
    assert_int_equal(back.ev[0].size, sizeof(procmon_event));
    assert_int_equal(back.ev[0].pid, 42);
    assert_string_equal(back.ev[0].exe, "/bin/old");
    assert_int_equal(back.ev[0].argv_len, 7);
    for (i = 0; i < sizeof back.canary; i++) assert_int_equal(back.canary[i], 0xA5);
    procmon_journal_reader_close(r);
    free_page_end(ev, sizeof *ev);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v1_input_structs_are_read_and_filled_no_further),
        cmocka_unit_test(older_and_newer_event_structs_get_their_own_size),
        cmocka_unit_test(journal_takes_and_gives_0_1_events),
    };
    return cmocka_run_group_tests_name("abi_compat", tests, NULL, NULL);
}
