#include <procmon.h>
#include <stdio.h>
#include <unistd.h>

/* Prints "ok <count>" when it finds itself. */
int main(void) {
    procmon_ctx *ctx;
    procmon_snapshot *snap;
    const procmon_process *self;
    if (procmon_version() != PROCMON_VERSION_NUMBER) return 3;
    if (procmon_open(&ctx, NULL) != PROCMON_OK || procmon_enumerate(&snap, ctx, NULL) != PROCMON_OK) {
        fprintf(stderr, "%s\n", procmon_error_last()->message);
        return 1;
    }
    self = procmon_snapshot_find(snap, (int32_t)getpid());
    printf("%s %lu\n", self ? "ok" : "missing", (unsigned long)procmon_snapshot_count(snap));
    procmon_snapshot_free(snap);
    procmon_close(ctx);
    return self ? 0 : 2;
}
