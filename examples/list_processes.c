/* List every process with its memory and command line: the README example. */
#include <procmon.h>
#include <stdio.h>

int main(void) {
    procmon_ctx *ctx;
    procmon_snapshot *snap;
    size_t i;
    if (procmon_open(&ctx, NULL) != PROCMON_OK || procmon_enumerate(&snap, ctx, NULL) != PROCMON_OK) {
        fprintf(stderr, "procmon: %s\n", procmon_error_last()->message);
        return 1;
    }
    for (i = 0; i < procmon_snapshot_count(snap); i++) {
        const procmon_process *p = procmon_snapshot_at(snap, i);
        printf("%7d %10llu KiB  %s\n", p->pid, (unsigned long long)(p->rss_bytes / 1024),
               p->argc ? p->argv : p->name);
    }
    procmon_snapshot_free(snap);
    procmon_close(ctx);
    return 0;
}
