/*
 * Fault injection into every file the Linux collector touches, through the
 * syscall table in src/platform/linux/sys_ops.h. For each file and fault,
 * this process enumerates itself with all fields and checks the contract:
 *  - permission or vanished-process errors drop the record (stat) or clear
 *    exactly that file's valid bits (the others), never fail the call;
 *  - EINTR and short reads change nothing at all;
 *  - a failing listing of the proc root fails the call with EIO;
 *  - the arena cap gives ENOMEM, leaks nothing, and the context recovers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "platform/linux/sys_ops.h"
#include "procmon.h"

/* ------------------------------------------------------------ injection */

enum fault_kind { OPEN_ERR, READ_ERR, EINTR_OPEN, EINTR_READ, SHORT_READ, FAKE_CONTENT };

struct fault {
    const char *file;      /* "stat", "status", "cmdline", "exe", "cwd", "fd", "io", "cgroup", "." */
    enum fault_kind kind;
    int err;
    int remaining;         /* EINTR: how many more times */
    size_t fake_size;      /* FAKE_CONTENT: bytes of fake argv to return */
    size_t fake_done[4096];
};

static struct fault active;
static int fault_on;
static char target_prefix[32]; /* "<pid>/" */
static const char *fd_file[4096];

/* Which file a path relative to the proc root names, if it is ours. */
static const char *file_of(const char *path) {
    if (strcmp(path, ".") == 0) return ".";
    size_t n = strlen(target_prefix);
    return strncmp(path, target_prefix, n) == 0 ? path + n : NULL;
}

/* Whether a call that names `path` must fail now, with errno set. A
 * readlink has no later read, so it also takes the read faults. */
static int path_fault(const char *path, int is_readlink) {
    const char *file = file_of(path);
    if (!fault_on || !file || strcmp(file, active.file) != 0) return 0;
    if (active.kind == OPEN_ERR || (is_readlink && active.kind == READ_ERR)) {
        errno = active.err;
        return 1;
    }
    if ((active.kind == EINTR_OPEN || (is_readlink && active.kind == EINTR_READ)) && active.remaining > 0) {
        active.remaining--;
        errno = EINTR;
        return 1;
    }
    return 0;
}

static int faulty_openat(int dirfd, const char *path, int flags) {
    const struct pm_sys_ops *real = pm_sys_default();
    const char *file = file_of(path);
    if (path_fault(path, 0)) return -1;
    int fd = real->openat(dirfd, path, flags);
    if (fd >= 0 && fd < 4096) {
        /* `path` is the caller's temporary: keep our own stable name */
        fd_file[fd] = (file && active.file && strcmp(file, active.file) == 0) ? active.file : NULL;
        active.fake_done[fd] = 0;
    }
    return fd;
}

static int targeted(int fd) {
    return fault_on && fd >= 0 && fd < 4096 && fd_file[fd] && strcmp(fd_file[fd], active.file) == 0;
}

static ssize_t faulty_read(int fd, void *buf, size_t count) {
    if (targeted(fd)) {
        switch (active.kind) {
        case READ_ERR: errno = active.err; return -1;
        case EINTR_READ:
            if (active.remaining > 0) {
                active.remaining--;
                errno = EINTR;
                return -1;
            }
            break;
        case SHORT_READ: count = count > 0 ? 1 : 0; break;
        case FAKE_CONTENT: {
            size_t left = active.fake_size - active.fake_done[fd], n = count < left ? count : left, i;
            for (i = 0; i < n; i++) ((char *)buf)[i] = (char)((active.fake_done[fd] + i) % 100 == 99 ? '\0' : 'a');
            active.fake_done[fd] += n;
            return (ssize_t)n;
        }
        default: break;
        }
    }
    return pm_sys_default()->read(fd, buf, count);
}

static int faulty_close(int fd) {
    if (fd >= 0 && fd < 4096) fd_file[fd] = NULL;
    return pm_sys_default()->close(fd);
}

static ssize_t faulty_readlinkat(int dirfd, const char *path, char *buf, size_t size) {
    const char *file = file_of(path);
    if (path_fault(path, 1)) return -1;
    if (fault_on && file && strcmp(file, active.file) == 0) {
        if (active.kind == SHORT_READ && size > 1) {
            /* a too-small buffer fills up: the caller must grow it and retry */
            ssize_t n = pm_sys_default()->readlinkat(dirfd, path, buf, size);
            static int once;
            if (n > 0 && !once) {
                once = 1;
                return (ssize_t)size;
            }
            once = 0;
            return n;
        }
    }
    return pm_sys_default()->readlinkat(dirfd, path, buf, size);
}

static ssize_t faulty_getdents64(int fd, void *buf, size_t count) {
    if (targeted(fd)) {
        if (active.kind == READ_ERR) {
            errno = active.err;
            return -1;
        }
        if (active.kind == EINTR_READ && active.remaining > 0) {
            active.remaining--;
            errno = EINTR;
            return -1;
        }
        if (active.kind == SHORT_READ && count > 64) count = 64; /* one or two entries per call */
    }
    return pm_sys_default()->getdents64(fd, buf, count);
}

static ssize_t real_recvmsg(int fd, struct msghdr *msg, int flags) { return pm_sys_default()->recvmsg(fd, msg, flags); }
static int real_bind(int fd, const struct sockaddr *addr, socklen_t len) { return pm_sys_default()->bind(fd, addr, len); }
static ssize_t real_write(int fd, const void *buf, size_t n) { return pm_sys_default()->write(fd, buf, n); }
static int real_fdatasync(int fd) { return pm_sys_default()->fdatasync(fd); }

static const struct pm_sys_ops faulty_ops = {faulty_openat, faulty_read,  faulty_close, faulty_readlinkat,
                                             faulty_getdents64, real_recvmsg, real_bind, real_write,
                                             real_fdatasync};

/* ------------------------------------------------------------ enumeration */

/* What we compare between a faulted and a clean run. */
struct view {
    int found;
    uint64_t valid;
    char name[64];
    int32_t ppid;
    uint64_t start_ticks;
    uint32_t euid, egid;
    char exe[4096], cwd[4096], cgroup[4096];
    char argv[65536];
    size_t argv_len;
    uint32_t fd_count;
};

static int enumerate_self(struct view *v, procmon_ctx *given) {
    procmon_ctx *ctx = given;
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.threads = 1;
    int rc = PROCMON_OK;
    if (ctx == NULL && (rc = procmon_open(&ctx, &o)) != PROCMON_OK) return rc;
    procmon_query q = PROCMON_QUERY_INIT;
    int32_t self = getpid();
    q.fields = PROCMON_FIELDS_ALL;
    q.pids = &self;
    q.pid_count = 1;
    procmon_snapshot *s = NULL;
    memset(v, 0, sizeof *v);
    rc = procmon_enumerate(&s, ctx, &q);
    if (rc == PROCMON_OK) {
        const procmon_process *p = procmon_snapshot_find(s, self);
        if (p != NULL) {
            v->found = 1;
            v->valid = p->valid;
            snprintf(v->name, sizeof v->name, "%s", p->name);
            v->ppid = p->ppid;
            v->start_ticks = p->start_ticks;
            v->euid = p->euid;
            v->egid = p->egid;
            snprintf(v->exe, sizeof v->exe, "%s", p->exe);
            snprintf(v->cwd, sizeof v->cwd, "%s", p->cwd);
            snprintf(v->cgroup, sizeof v->cgroup, "%s", p->cgroup);
            v->argv_len = p->argv_len < sizeof v->argv ? p->argv_len : sizeof v->argv;
            memcpy(v->argv, p->argv, v->argv_len);
            v->fd_count = p->fd_count;
        }
    }
    procmon_snapshot_free(s);
    if (given == NULL) procmon_close(ctx);
    return rc;
}

static struct view baseline;

static uint64_t bits_of(const char *file) {
    if (!strcmp(file, "status")) return PROCMON_FIELD_IDS | PROCMON_FIELD_CTXSW;
    if (!strcmp(file, "cmdline")) return PROCMON_FIELD_ARGV;
    if (!strcmp(file, "exe")) return PROCMON_FIELD_EXE;
    if (!strcmp(file, "cwd")) return PROCMON_FIELD_CWD;
    if (!strcmp(file, "fd")) return PROCMON_FIELD_FDS;
    if (!strcmp(file, "io")) return PROCMON_FIELD_IO;
    if (!strcmp(file, "cgroup")) return PROCMON_FIELD_CGROUP;
    return PROCMON_FIELDS_ALL; /* stat: the whole record */
}

static void expect_same_as_baseline(const struct view *v) {
    assert_true(v->found);
    assert_int_equal(v->valid, baseline.valid);
    assert_string_equal(v->name, baseline.name);
    assert_int_equal(v->ppid, baseline.ppid);
    assert_int_equal(v->start_ticks, baseline.start_ticks);
    assert_int_equal(v->euid, baseline.euid);
    assert_string_equal(v->exe, baseline.exe);
    assert_string_equal(v->cwd, baseline.cwd);
    assert_string_equal(v->cgroup, baseline.cgroup);
    assert_int_equal(v->argv_len, baseline.argv_len);
    assert_memory_equal(v->argv, baseline.argv, v->argv_len);
    assert_int_equal(v->fd_count, baseline.fd_count);
}

/* ------------------------------------------------------------ the cases */

struct fault_case {
    char name[64];
    struct fault fault;
};

static void run_case(void **state) {
    struct fault_case *c = (struct fault_case *)*state;
    struct view v;
    active = c->fault;
    fault_on = 1;
    int rc = enumerate_self(&v, NULL);
    fault_on = 0;
    assert_int_equal(rc, PROCMON_OK);

    int harmless = c->fault.kind == EINTR_OPEN || c->fault.kind == EINTR_READ || c->fault.kind == SHORT_READ;
    if (harmless) {
        expect_same_as_baseline(&v);
        assert_int_equal(active.remaining, 0); /* the EINTRs did happen */
    } else if (strcmp(c->fault.file, "stat") == 0) {
        assert_false(v.found); /* no stat, no record */
    } else {
        assert_true(v.found);
        uint64_t lost = bits_of(c->fault.file);
        assert_int_equal(v.valid, baseline.valid & ~lost);
        assert_int_equal(v.start_ticks, baseline.start_ticks);
        assert_string_equal(v.name, baseline.name);
    }
}

static void listing_failure_fails_the_call(void **state) {
    (void)state;
    procmon_ctx *ctx = NULL;
    procmon_snapshot *s = NULL;
    assert_int_equal(procmon_open(&ctx, NULL), PROCMON_OK);
    memset(&active, 0, sizeof active);
    active.file = ".";
    active.kind = READ_ERR;
    active.err = EACCES;
    fault_on = 1;
    int rc = procmon_enumerate(&s, ctx, NULL);
    fault_on = 0;
    assert_int_equal(rc, PROCMON_EIO);
    assert_null(s);
    assert_non_null(strstr(procmon_error_last()->message, "list proc root"));
    assert_int_equal(procmon_error_last()->sys_errno, EACCES);
    /* and the context works again once the fault is gone */
    assert_int_equal(procmon_enumerate(&s, ctx, NULL), PROCMON_OK);
    assert_non_null(procmon_snapshot_find(s, getpid()));
    procmon_snapshot_free(s);
    procmon_close(ctx);
}

static void arena_exhaustion_is_enomem_and_leaks_nothing(void **state) {
    (void)state;
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.arena_cap_bytes = 1 << 20;
    o.threads = 1;
    procmon_ctx *ctx = NULL;
    assert_int_equal(procmon_open(&ctx, &o), PROCMON_OK);
    struct view v;
    procmon_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;

    /* a 600 KiB argv: the read buffer plus the cached copy exceed 1 MiB */
    memset(&active, 0, sizeof active);
    active.file = "cmdline";
    active.kind = FAKE_CONTENT;
    active.fake_size = 600 * 1024;
    uint64_t used_first = 0;
    int i;
    for (i = 0; i < 3; i++) {
        fault_on = 1;
        int rc = enumerate_self(&v, ctx);
        fault_on = 0;
        assert_int_equal(rc, PROCMON_ENOMEM);
        assert_int_equal(procmon_error_last()->code, PROCMON_ENOMEM);
        assert_non_null(strstr(procmon_error_last()->message, "memory cap"));
        assert_int_equal(procmon_stats_get(&st, ctx), PROCMON_OK);
        if (i == 0) used_first = st.arena_used_bytes;
        assert_int_equal(st.arena_used_bytes, used_first); /* repeated failures hold nothing more */
        assert_true(st.arena_peak_bytes <= st.arena_cap_bytes);
    }
    /* the context recovers at once, and its usage stays bounded */
    assert_int_equal(enumerate_self(&v, ctx), PROCMON_OK);
    assert_true(v.found);
    assert_int_equal(v.argv_len, baseline.argv_len);
    assert_int_equal(procmon_stats_get(&st, ctx), PROCMON_OK);
    assert_true(st.arena_used_bytes < 700 * 1024);
    procmon_close(ctx);
}

int main(void) {
    static const char *files[] = {"stat", "status", "cmdline", "exe", "cwd", "fd", "io", "cgroup"};
    static const struct {
        const char *label;
        enum fault_kind kind;
        int err;
        int remaining;
    } faults[] = {
        {"open-EACCES", OPEN_ERR, EACCES, 0}, {"open-ENOENT", OPEN_ERR, ENOENT, 0},
        {"open-ESRCH", OPEN_ERR, ESRCH, 0},   {"open-EINTR", EINTR_OPEN, 0, 3},
        {"read-EIO", READ_ERR, EIO, 0},       {"read-ESRCH", READ_ERR, ESRCH, 0},
        {"read-EINTR", EINTR_READ, 0, 3},     {"short-read", SHORT_READ, 0, 0},
    };
    enum { NF = sizeof files / sizeof *files, NK = sizeof faults / sizeof *faults };
    static struct fault_case cases[NF * NK];
    static struct CMUnitTest tests[NF * NK + 2];
    size_t n = 0, f, k;

    snprintf(target_prefix, sizeof target_prefix, "%d/", (int)getpid());
    pm_sys_set(&faulty_ops);
    if (enumerate_self(&baseline, NULL) != PROCMON_OK || !baseline.found ||
        baseline.valid != PROCMON_FIELDS_ALL) {
        fprintf(stderr, "baseline enumeration failed or incomplete (valid 0x%llx)\n",
                (unsigned long long)baseline.valid);
        return 1;
    }

    for (f = 0; f < NF; f++)
        for (k = 0; k < NK; k++) {
            struct fault_case *c = &cases[n];
            /* readlink has no fd: "read" faults on exe/cwd are its errors */
            snprintf(c->name, sizeof c->name, "%s/%s", files[f], faults[k].label);
            c->fault.file = files[f];
            c->fault.kind = faults[k].kind;
            c->fault.err = faults[k].err;
            c->fault.remaining = faults[k].remaining;
            tests[n].name = c->name;
            tests[n].test_func = run_case;
            tests[n].setup_func = NULL;
            tests[n].teardown_func = NULL;
            tests[n].initial_state = c;
            n++;
        }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(listing_failure_fails_the_call);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(arena_exhaustion_is_enomem_and_leaks_nothing);
    return _cmocka_run_group_tests("fault_injection", tests, n, NULL, NULL);
}
