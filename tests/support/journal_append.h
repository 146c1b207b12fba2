/* Test helper (C): one START event for a journal, named `name`, with an
 * argv of argv_bytes 'a's (0: none). Returns procmon_journal_append's status. */
#ifndef PROCMON_TEST_JOURNAL_APPEND_H
#define PROCMON_TEST_JOURNAL_APPEND_H

#include <stdlib.h>
#include <string.h>

#include "procmon.h"

static int append_start(procmon_journal *j, int32_t pid, const char *name, size_t argv_bytes) {
    procmon_event e;
    char *argv = argv_bytes ? calloc(1, argv_bytes + 1) : NULL;
    int rc;
    if (argv) memset(argv, 'a', argv_bytes);
    memset(&e, 0, sizeof e);
    e.size = sizeof e;
    e.type = PROCMON_EVENT_START;
    e.pid = pid;
    e.name = name;
    e.exe = "/bin/test";
    e.argv = argv;
    e.argv_len = argv ? argv_bytes + 1 : 0;
    rc = procmon_journal_append(j, &e, sizeof e, 1);
    free(argv);
    return rc;
}

#endif
