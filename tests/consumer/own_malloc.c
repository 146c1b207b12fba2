/* A host with its own malloc, linking the static library: procmon must not
 * replace that malloc (mimalloc stays out of the global symbol scope), its
 * ordinary allocations must go to the host's, and its arena must still come
 * from mimalloc. Prints "ok <allocator>". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <procmon.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static size_t host_calls; /* single-threaded until procmon starts threads; a count, not exact */

void *malloc(size_t n) { __atomic_add_fetch(&host_calls, 1, __ATOMIC_RELAXED); return __libc_malloc(n); }
void *calloc(size_t n, size_t m) { __atomic_add_fetch(&host_calls, 1, __ATOMIC_RELAXED); return __libc_calloc(n, m); }
void *realloc(void *p, size_t n) { __atomic_add_fetch(&host_calls, 1, __ATOMIC_RELAXED); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }

int main(void) {
    procmon_ctx *ctx;
    procmon_snapshot *snap;
    procmon_stats st;
    size_t before = __atomic_load_n(&host_calls, __ATOMIC_RELAXED);
    if (procmon_open(&ctx, NULL) != PROCMON_OK || procmon_enumerate(&snap, ctx, NULL) != PROCMON_OK) {
        fprintf(stderr, "%s\n", procmon_error_last()->message);
        return 1;
    }
    if (procmon_snapshot_find(snap, (int32_t)getpid()) == NULL) { fprintf(stderr, "self missing\n"); return 2; }
    if (__atomic_load_n(&host_calls, __ATOMIC_RELAXED) == before) {
        fprintf(stderr, "procmon's own allocations bypassed the host's malloc\n");
        return 3;
    }
    if (dlsym(RTLD_DEFAULT, "mi_malloc") != NULL) {
        fprintf(stderr, "mimalloc is in the global symbol scope: it could serve the host's malloc\n");
        return 4;
    }
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    if (procmon_stats_get(&st, ctx) != PROCMON_OK) return 5;
    printf("ok %s\n", st.allocator);
    procmon_snapshot_free(snap);
    procmon_close(ctx);
    return 0;
}
