/* Print process starts, execs and exits on this machine as they happen:
 * pid, parent, name, whole command line, and how each process ended.
 * Usage: watch_events [SECONDS [COUNT]]
 *   stops after SECONDS (default 10, fractions allowed), or after COUNT
 *   events when that comes first (0 = no limit).
 * Events come from the kernel's netlink proc connector, which needs root
 * (or CAP_NET_ADMIN) before Linux 6.6; otherwise procmon polls /proc, says
 * so on stderr, and exits then have no status. A subscriber that falls
 * behind is told how many events it missed (LOST), never silently.
 * C89 plus <stdint.h>; clock_gettime is POSIX, hence _POSIX_C_SOURCE.
 * Build: cc watch_events.c $(pkg-config --cflags --libs procmon) */
#define _POSIX_C_SOURCE 200809L
#include <procmon.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* v in decimal: digits written into buf (at least 21 bytes), returned. */
static const char *u64(char *buf, uint64_t v) {
    char *p = buf + 20;
    *p = '\0';
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    return p;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* argv: argc NUL-terminated arguments back to back, printed joined by
 * spaces (control bytes as '?'). */
static void print_args(const char *argv, size_t argv_len) {
    size_t i;
    for (i = 0; i + 1 < argv_len; i++) {
        unsigned char c = (unsigned char)argv[i];
        putchar(c == '\0' ? ' ' : c < 0x20 || c == 0x7f ? '?' : c);
    }
}

/* One line per event, e.g.
 *   EXEC  pid 4242 ppid 4240 true: /bin/true
 *   EXIT  pid 4242 ppid 4240 true: /bin/true; exit code 0
 *   LOST  12 events */
static void print_event(const procmon_event *e) {
    char num[21];
    const char *type = e->type == PROCMON_EVENT_START ? "START"
                     : e->type == PROCMON_EVENT_EXEC  ? "EXEC"
                     : e->type == PROCMON_EVENT_EXIT  ? "EXIT" : "OTHER";
    if (e->type == PROCMON_EVENT_LOST) {
        /* the queue was full, or the kernel dropped events: lost says how many */
        printf("LOST  %s events\n", e->lost ? u64(num, e->lost) : "some");
        return;
    }
    printf("%-5s pid %d ppid %d ", type, (int)e->pid, (int)e->ppid);
    if (e->argc > 0) {
        printf("%s: ", e->name);
        print_args(e->argv, e->argv_len);
    } else if (e->name[0] != '\0') {
        printf("[%s]", e->name); /* no arguments: a kernel thread, or argv unreadable */
    } else {
        printf("?"); /* gone before /proc could be read (PARTIAL) */
    }
    if (e->type == PROCMON_EVENT_EXIT) {
        if (e->flags & PROCMON_EVENT_FLAG_NO_STATUS)
            printf("; exit status unknown");
        else if (e->exit_signal != 0)
            printf("; killed by signal %d", (int)e->exit_signal);
        else
            printf("; exit code %d", (int)e->exit_code);
    }
    /* the process was gone before all of it could be read from /proc: the
       event has what the kernel said (pid, parent, exit status) */
    if (e->flags & PROCMON_EVENT_FLAG_PARTIAL) printf(" (partial)");
    putchar('\n');
}

int main(int argc, char **argv) {
    double seconds = 10, deadline, left;
    unsigned long count = 0, seen = 0;
    uint64_t lost = 0;
    char *end, num[21];
    procmon_ctx *ctx;
    procmon_subscription *sub;
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    procmon_stats stats;
    procmon_event ev[64];
    size_t n, i;
    int rc = PROCMON_OK;

    if (argc > 1 && ((seconds = strtod(argv[1], &end)) <= 0 || *end != '\0')) argc = 0;
    if (argc > 2 && (strtol(argv[2], &end, 10) < 0 || *end != '\0')) argc = 0;
    if (argc == 0 || argc > 3) {
        fprintf(stderr, "usage: watch_events [SECONDS [COUNT]]\n");
        return 2;
    }
    if (argc > 2) count = strtoul(argv[2], NULL, 10);

    if (procmon_open(&ctx, NULL) != PROCMON_OK) {
        fprintf(stderr, "watch_events: %s\n", procmon_error_last()->message);
        return 1;
    }
    o.events = PROCMON_EVENT_START | PROCMON_EVENT_EXEC | PROCMON_EVENT_EXIT; /* LOST always comes */
    if (procmon_subscribe(&sub, ctx, &o) != PROCMON_OK) {
        fprintf(stderr, "watch_events: %s\n", procmon_error_last()->message);
        procmon_close(ctx);
        return 1;
    }
    stats.size = (uint32_t)sizeof stats;
    procmon_stats_get(&stats, ctx);
    if (stats.event_source == PROCMON_STATS_SOURCE_POLLING)
        fprintf(stderr, "watch_events: polling /proc every %u ms (%s): exits have no status\n",
                (unsigned)stats.poll_interval_ms, stats.source_reason);
    fprintf(stderr, "watch_events: watching for %g s\n", seconds);

    deadline = now() + seconds;
    while ((count == 0 || seen < count) && (left = deadline - now()) > 0) {
        rc = procmon_subscription_next(sub, ev, sizeof ev[0], 64, &n, (int)(left * 1000) + 1);
        if (rc != PROCMON_OK) break;
        for (i = 0; i < n && (count == 0 || seen < count); i++) {
            print_event(&ev[i]);
            if (ev[i].type == PROCMON_EVENT_LOST)
                lost += ev[i].lost;
            else
                seen++;
        }
        fflush(stdout);
    }
    if (rc != PROCMON_OK) fprintf(stderr, "watch_events: %s\n", procmon_error_last()->message);
    fprintf(stderr, "watch_events: %lu events, %s lost\n", seen, u64(num, lost));
    procmon_unsubscribe(sub);
    procmon_close(ctx);
    return rc == PROCMON_OK ? 0 : 1;
}
