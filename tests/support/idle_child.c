/*
 * A process for tests to look at: it blocks until its stdin reaches EOF,
 * then exits with status 0. With IDLE_CHILD_COMM set it first renames
 * itself (prctl PR_SET_NAME), for names no file could have. Its argv is
 * whatever the test passes, hostile bytes included.
 */
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void) {
    const char *comm = getenv("IDLE_CHILD_COMM");
    char buf[64];
    if (comm != NULL) prctl(PR_SET_NAME, comm, 0, 0, 0);
    while (read(0, buf, sizeof buf) > 0) {
    }
    return 0;
}
