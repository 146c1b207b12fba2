/*
 * Fault injection into the journal's calls that the syscall table could not
 * reach before 0.3 (src/platform/linux/sys_ops.h): the fsync that makes a
 * new segment's name durable, and the ftruncate that cuts a torn tail at
 * recovery. Each failure reaches the caller as documented in procmon.h, and
 * the journal carries on once the device does.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "platform/linux/sys_ops.h"
#include "procmon.h"
#include "journal_append.h"

static int fail_dir_fsync, fail_ftruncate;
static int dir_fsyncs_failed, ftruncates_failed;

static int faulty_fsync(int fd) {
    struct stat st;
    if (fail_dir_fsync && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        dir_fsyncs_failed++;
        errno = EIO;
        return -1;
    }
    return pm_sys_default()->fsync(fd);
}

static int faulty_ftruncate(int fd, off_t length) {
    if (fail_ftruncate) {
        ftruncates_failed++;
        errno = EIO;
        return -1;
    }
    return pm_sys_default()->ftruncate(fd, length);
}

static int setup(void **state) {
    static struct pm_sys_ops ops;
    char *dir = malloc(64);
    snprintf(dir, 64, "/tmp/procmon-jfault-XXXXXX");
    assert_non_null(mkdtemp(dir));
    ops = *pm_sys_default();
    ops.fsync = faulty_fsync;
    ops.ftruncate = faulty_ftruncate;
    pm_sys_set(&ops);
    fail_dir_fsync = fail_ftruncate = dir_fsyncs_failed = ftruncates_failed = 0;
    *state = dir;
    return 0;
}

static int teardown(void **state) {
    char cmd[128];
    pm_sys_set(NULL);
    snprintf(cmd, sizeof cmd, "rm -rf %s", (char *)*state);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", (char *)*state);
    free(*state);
    return 0;
}

/* The names in dir other than LOCK. */
static int segment_files(const char *dir, char *newest, size_t cap) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "LOCK") == 0) continue;
        if (newest && strcmp(e->d_name, newest) > 0) snprintf(newest, cap, "%s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static void append(procmon_journal *j, int32_t pid, size_t argv_bytes) {
    assert_int_equal(append_start(j, pid, "faulted", argv_bytes), PROCMON_OK);
}

static void a_failing_directory_sync_fails_open(void **state) {
    const char *dir = *state;
    procmon_journal *j = NULL;
    fail_dir_fsync = 1;
    assert_int_equal(procmon_journal_open(&j, NULL, dir, NULL), PROCMON_EIO);
    assert_null(j);
    assert_true(dir_fsyncs_failed > 0);
    assert_non_null(strstr(procmon_error_last()->message, "write the header of segment"));
    assert_non_null(strstr(procmon_error_last()->message, strerror(EIO)));
    assert_int_equal(segment_files(dir, NULL, 0), 0); /* the segment whose name is not durable is gone */
    fail_dir_fsync = 0;
    assert_int_equal(procmon_journal_open(&j, NULL, dir, NULL), PROCMON_OK);
    assert_int_equal(procmon_journal_close(j), PROCMON_OK);
}

static void a_failing_directory_sync_is_what_sync_reports(void **state) {
    const char *dir = *state;
    procmon_journal *j = NULL;
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    procmon_journal_stats st;
    procmon_journal_reader *r = NULL;
    procmon_event ev[4];
    size_t n = 0;
    uint64_t durable = 0;
    o.segment_bytes = PROCMON_JOURNAL_SEGMENT_MIN;
    assert_int_equal(procmon_journal_open(&j, NULL, dir, &o), PROCMON_OK);
    append(j, 1, PROCMON_JOURNAL_SEGMENT_MIN); /* fills the segment: the next commit starts another */
    assert_int_equal(procmon_journal_sync(j, -1, &durable), PROCMON_OK);
    assert_int_equal(durable, 1);

    fail_dir_fsync = 1;
    append(j, 2, 10);
    assert_int_equal(procmon_journal_sync(j, -1, &durable), PROCMON_EIO);
    assert_true(dir_fsyncs_failed > 0);
    assert_int_equal(durable, 1);
    assert_non_null(strstr(procmon_error_last()->message, "procmon_journal_sync"));
    assert_non_null(strstr(procmon_error_last()->message, "write the header of segment"));
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    assert_int_equal(procmon_journal_stats_get(&st, j), PROCMON_OK);
    assert_int_equal(st.last_error, PROCMON_EIO);
    assert_true(st.write_errors > 0);

    /* The device recovers: the event that could not be stored is journaled as lost. */
    fail_dir_fsync = 0;
    assert_int_equal(procmon_journal_sync(j, -1, &durable), PROCMON_OK);
    assert_int_equal(durable, 2);
    assert_int_equal(procmon_journal_close(j), PROCMON_OK);
    assert_int_equal(procmon_journal_reader_open(&r, dir, NULL), PROCMON_OK);
    assert_int_equal(procmon_journal_reader_next(r, ev, sizeof ev[0], 4, &n, 0), PROCMON_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].pid, 1);
    assert_int_equal(ev[1].type, PROCMON_EVENT_LOST);
    assert_int_equal(ev[1].lost, 1);
    procmon_journal_reader_close(r);
}

static void a_torn_tail_that_cannot_be_cut_fails_open(void **state) {
    const char *dir = *state;
    procmon_journal *j = NULL;
    procmon_journal_stats st;
    char newest[256] = "", path[512];
    int fd;
    assert_int_equal(procmon_journal_open(&j, NULL, dir, NULL), PROCMON_OK);
    append(j, 1, 10);
    append(j, 2, 10);
    assert_int_equal(procmon_journal_close(j), PROCMON_OK);
    assert_int_equal(segment_files(dir, newest, sizeof newest), 1);
    snprintf(path, sizeof path, "%s/%s", dir, newest);
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "torn tail", 9), 9); /* half a record header */
    close(fd);

    fail_ftruncate = 1;
    assert_int_equal(procmon_journal_open(&j, NULL, dir, NULL), PROCMON_EIO);
    assert_true(ftruncates_failed > 0);
    assert_non_null(strstr(procmon_error_last()->message, "truncate the torn tail of"));
    assert_non_null(strstr(procmon_error_last()->message, newest));

    fail_ftruncate = 0;
    assert_int_equal(procmon_journal_open(&j, NULL, dir, NULL), PROCMON_OK);
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    assert_int_equal(procmon_journal_stats_get(&st, j), PROCMON_OK);
    assert_int_equal(st.recovered_truncated_bytes, 9);
    assert_int_equal(st.next_seq, 3);
    assert_int_equal(procmon_journal_close(j), PROCMON_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_failing_directory_sync_fails_open, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failing_directory_sync_is_what_sync_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(a_torn_tail_that_cannot_be_cut_fails_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
