/* The portable core on the stub backend (src/platform/stub/): what a
 * program gets from procmon on an OS it has no backend for. The calls that
 * need no OS work; every call that needs process facts fails with
 * PROCMON_EUNSUPPORTED and says that the backend is missing; nothing
 * crashes, nothing hangs. Linked against the procmon_stub archive.
 * The journal goes through the platform layer's files, which the stub has
 * not: opening one must refuse cleanly, with a message. */
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
