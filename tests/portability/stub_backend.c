/* The portable core on the stub backend (src/platform/stub/): what a
 * program gets from procmon on an OS it has no backend for. The calls that
 * need no OS work; every call that needs process facts fails with
 * PROCMON_EUNSUPPORTED and says that the backend is missing; nothing
 * crashes, nothing hangs. Linked against the procmon_stub archive.
 *
 * PROCMON_STUB_JOURNAL_NATIVE: the journal still makes its own system calls
 * (it is not behind src/platform/ yet), so on the stub it works, and this
 * checks that it does: the writer thread runs on the stub's Wakers. Without
 * it, the journal goes through the platform layer and must refuse cleanly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h> /* mkdtemp, rmdir: the test's own temporary directory */

#include "procmon.h"

static int failures;

int stub_platform_checks(void); /* stub_platform.cpp: the platform interface below the ABI */

#define CHECK(cond, ...)                                       \
    do {                                                       \
        if (!(cond)) {                                         \
            ++failures;                                        \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                      \
            fputc('\n', stderr);                               \
        }                                                      \
    } while (0)

static const char *last_message(void) {
    const procmon_error *e = procmon_error_last();
    return e->message != NULL ? e->message : "(null)";
}

static void no_os_needed(void) {
    CHECK(procmon_version() == PROCMON_VERSION_NUMBER, "procmon_version() = %u", procmon_version());
    CHECK(strcmp(procmon_version_string(), PROCMON_VERSION_STRING) == 0, "%s", procmon_version_string());
    CHECK(strcmp(procmon_strerror(PROCMON_EUNSUPPORTED), "") != 0 &&
              strstr(procmon_strerror(PROCMON_EUNSUPPORTED), "unknown") == NULL,
          "strerror(EUNSUPPORTED) = \"%s\"", procmon_strerror(PROCMON_EUNSUPPORTED));
    CHECK(strcmp(procmon_strerror(PROCMON_OK), procmon_strerror(PROCMON_EINVAL)) != 0, "OK and EINVAL read alike");
    procmon_options o;
    CHECK(procmon_options_init(&o, PROCMON_OPTIONS_VERSION) == PROCMON_OK, "%s", last_message());
    CHECK(procmon_options_init(NULL, PROCMON_OPTIONS_VERSION) == PROCMON_EINVAL, "NULL options accepted");
}

static void open_says_the_backend_is_missing(void) {
    procmon_ctx *ctx = (procmon_ctx *)&failures; /* must be reset to NULL on failure */
    int rc = procmon_open(&ctx, NULL);
    CHECK(rc == PROCMON_EUNSUPPORTED, "procmon_open: %d (%s)", rc, last_message());
    CHECK(ctx == NULL, "procmon_open left *out set");
    CHECK(procmon_error_last()->code == PROCMON_EUNSUPPORTED, "error_last code %d", procmon_error_last()->code);
    CHECK(strstr(last_message(), "no platform backend for this OS") != NULL, "message: \"%s\"", last_message());
    procmon_close(NULL);
}

static void journal(void) {
    char dir[] = "/tmp/procmon-stub-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        ++failures;
        return;
    }
    procmon_journal_reader *r = NULL;
    int rc;
#ifdef PROCMON_STUB_JOURNAL_NATIVE
    /* The writer: no context (ctx NULL), one appended event, made durable. */
    procmon_journal *j = NULL;
    rc = procmon_journal_open(&j, NULL, dir, NULL);
    CHECK(rc == PROCMON_OK, "journal_open: %d (%s)", rc, last_message());
    if (rc == PROCMON_OK) {
        procmon_event ev;
        memset(&ev, 0, sizeof ev);
        ev.size = sizeof ev;
        ev.type = PROCMON_EVENT_START;
        ev.pid = 4242;
        ev.name = "stubbed";
        ev.exe = "";
        ev.argv = "";
        ev.full_name = "stubbed";
        uint64_t durable = 0;
        CHECK(procmon_journal_append(j, &ev, sizeof ev, 1) == PROCMON_OK, "append: %s", last_message());
        rc = procmon_journal_sync(j, 10000, &durable);
        CHECK(rc == PROCMON_OK && durable == 1, "sync: %d, durable %llu (%s)", rc, (unsigned long long)durable,
              last_message());
        CHECK(procmon_journal_close(j) == PROCMON_OK, "journal_close: %s", last_message());
    }
    rc = procmon_journal_reader_open(&r, dir, NULL);
    CHECK(rc == PROCMON_OK, "reader_open: %d (%s)", rc, last_message());
    if (rc == PROCMON_OK) {
        procmon_event evs[2];
        size_t n = 0;
        rc = procmon_journal_reader_next(r, evs, sizeof evs[0], 2, &n, 0);
        CHECK(rc == PROCMON_OK && n == 1 && evs[0].pid == 4242 && strcmp(evs[0].name, "stubbed") == 0,
              "reader_next: %d, %zu events (%s)", rc, n, last_message());
        /* at the end, a wait the stub cannot make ends in time, empty */
        rc = procmon_journal_reader_next(r, evs, sizeof evs[0], 2, &n, 50);
        CHECK(rc == PROCMON_OK && n == 0, "reader_next at the end: %d, %zu events", rc, n);
        procmon_journal_reader_close(r);
    }
    /* leave the directory as found: the segment files, the lock, the directory */
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
#else
    rc = procmon_journal_reader_open(&r, dir, NULL);
    CHECK(rc == PROCMON_EUNSUPPORTED || rc == PROCMON_EIO, "reader_open: %d (%s)", rc, last_message());
    CHECK(r == NULL, "reader_open left *out set");
    CHECK(procmon_error_last()->code == rc && last_message()[0] != '\0', "no error detail: \"%s\"", last_message());
    procmon_journal *j = NULL;
    rc = procmon_journal_open(&j, NULL, dir, NULL);
    CHECK(rc == PROCMON_EUNSUPPORTED || rc == PROCMON_EIO, "journal_open: %d (%s)", rc, last_message());
    CHECK(j == NULL, "journal_open left *out set");
    procmon_journal_close(j);
    rmdir(dir);
#endif
}

int main(void) {
    no_os_needed();
    open_says_the_backend_is_missing();
    journal();
    failures += stub_platform_checks();
    if (failures != 0) {
        fprintf(stderr, "stub_backend: %d check(s) failed\n", failures);
        return 1;
    }
    printf("stub_backend: the core runs without an OS backend; every call needing one says so\n");
    return 0;
}
