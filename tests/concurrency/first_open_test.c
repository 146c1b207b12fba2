/*
 * The first contexts of a process, opened at once on fresh threads. mimalloc
 * is loaded at the first procmon_open; a thread that had not run mimalloc's
 * thread set-up crashed in mi_reserve_os_memory_ex about one run in twenty.
 * Only a fresh process shows it, so each round is a forked child: 8 threads
 * released together by a barrier, each opening, enumerating and closing.
 * Usage: first_open_test [ROUNDS]   (default 200)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procmon.h"

#define THREADS 8

static pthread_barrier_t start;

static void *open_at_once(void *arg) {
    procmon_ctx *ctx;
    procmon_snapshot *snap;
    pthread_barrier_wait(&start);
    if (procmon_open(&ctx, NULL) != PROCMON_OK) return (void *)1;
    if (procmon_enumerate(&snap, ctx, NULL) != PROCMON_OK) return (void *)2;
    if (procmon_snapshot_find(snap, (int32_t)getpid()) == NULL) return (void *)3;
    procmon_snapshot_free(snap);
    procmon_close(ctx);
    return arg;
}

static int one_round(void) {
    pthread_t t[THREADS];
    int i, bad = 0;
    pthread_barrier_init(&start, NULL, THREADS);
    for (i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, open_at_once, NULL);
    for (i = 0; i < THREADS; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        if (rc != NULL) bad = 1;
    }
    return bad;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200, i, crashed = 0, failed = 0;
    for (i = 0; i < rounds; i++) {
        int status;
        pid_t pid = fork();
        if (pid == 0) _exit(one_round());
        if (pid < 0 || waitpid(pid, &status, 0) != pid) return 2;
        if (WIFSIGNALED(status)) crashed++;
        else if (WEXITSTATUS(status) != 0) failed++;
    }
    printf("first_open: %d rounds of %d threads; %d crashed, %d failed\n", rounds, THREADS, crashed, failed);
    return crashed || failed ? 1 : 0;
}
