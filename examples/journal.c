/* Record this machine's process starts, execs and exits to a journal
 * directory for a few seconds, then read back what this run recorded and
 * print it: sequence number, time, event.
 * Usage: journal DIR [SECONDS]   (default 5, fractions allowed)
 *   DIR is created if missing (one level). Records of earlier runs stay in
 *   it (`procmon replay DIR` shows them all); this prints this run's only.
 * The format and its guarantees (CRC-checked records, recovery after a
 * crash, retention): docs/journal.md.
 * C89 plus <stdint.h>; clock_gettime and nanosleep are POSIX, hence
 * _POSIX_C_SOURCE.
 * Build: cc journal.c $(pkg-config --cflags --libs procmon) */
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

static int fail(const char *what) {
    fprintf(stderr, "journal: %s: %s\n", what, procmon_error_last()->message);
    return 1;
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

/* One line per record, e.g.
 *   seq 17 10:42:07.114 EXIT  pid 4242 ppid 4240 true: /bin/true; exit code 0 */
static void print_record(const procmon_event *e) {
    char num[21], clock[16];
    time_t secs = (time_t)(e->time_ns / 1000000000u);
    struct tm *tm = localtime(&secs);
    const char *type = e->type == PROCMON_EVENT_START ? "START"
                     : e->type == PROCMON_EVENT_EXEC  ? "EXEC"
                     : e->type == PROCMON_EVENT_EXIT  ? "EXIT"
                     : e->type == PROCMON_EVENT_LOST  ? "LOST" : "OTHER";
    if (tm == NULL || strftime(clock, sizeof clock, "%H:%M:%S", tm) == 0) clock[0] = '\0';
    printf("seq %s %s.%03d %-5s ", u64(num, e->seq), clock, (int)(e->time_ns / 1000000u % 1000u), type);
    if (e->type == PROCMON_EVENT_LOST) {
        /* the writer fell behind or could not write, or (SYNTHESIZED) records
           failed their CRC: lost says how many */
        printf("%s events%s\n", e->lost ? u64(num, e->lost) : "some",
               e->flags & PROCMON_EVENT_FLAG_SYNTHESIZED ? " (missing from the journal)" : "");
        return;
    }
    printf("pid %d ppid %d ", (int)e->pid, (int)e->ppid);
    if (e->argc > 0) {
        printf("%s: ", e->name);
        print_args(e->argv, e->argv_len);
    } else {
        printf("%s", e->name[0] != '\0' ? e->name : "?");
    }
    if (e->type == PROCMON_EVENT_EXIT) {
        if (e->flags & PROCMON_EVENT_FLAG_NO_STATUS)
            printf("; exit status unknown");
        else if (e->exit_signal != 0)
            printf("; killed by signal %d", (int)e->exit_signal);
        else
            printf("; exit code %d", (int)e->exit_code);
    }
    if (e->flags & PROCMON_EVENT_FLAG_PARTIAL) printf(" (partial)");
    putchar('\n');
}

int main(int argc, char **argv) {
    const char *dir;
    double seconds = 5;
    char *end, num[21];
    procmon_ctx *ctx;
    procmon_journal *j;
    procmon_journal_options jo = PROCMON_JOURNAL_OPTIONS_INIT;
    procmon_journal_reader *r;
    procmon_journal_read_options ro = PROCMON_JOURNAL_READ_OPTIONS_INIT;
    procmon_journal_reader_stats rs;
    procmon_event ev[64];
    struct timespec start, pause;
    uint64_t records = 0, lost = 0;
    size_t n, i;
    int rc;

    if (argc < 2 || argc > 3 || (argc == 3 && ((seconds = strtod(argv[2], &end)) <= 0 || *end != '\0'))) {
        fprintf(stderr, "usage: journal DIR [SECONDS]\n");
        return 2;
    }
    dir = argv[1];

    /* Record: the journal subscribes to the context (default filter: start,
       exec, exit) and a writer thread appends to DIR. fsync INTERVAL groups
       the fdatasyncs (default: one per second); close syncs what is left. */
    if (procmon_open(&ctx, NULL) != PROCMON_OK) return fail("open");
    jo.fsync = PROCMON_FSYNC_INTERVAL;
    clock_gettime(CLOCK_REALTIME, &start); /* this run's records are the events from here on */
    if (procmon_journal_open(&j, ctx, dir, &jo) != PROCMON_OK) {
        procmon_close(ctx);
        return fail(dir);
    }
    fprintf(stderr, "journal: recording to %s for %g s\n", dir, seconds);
    pause.tv_sec = (time_t)seconds;
    pause.tv_nsec = (long)((seconds - (double)pause.tv_sec) * 1e9);
    while (nanosleep(&pause, &pause) != 0) {
        /* interrupted by a signal: sleep what is left */
    }
    rc = procmon_journal_close(j); /* writes and fdatasyncs what is queued */
    procmon_close(ctx);
    if (rc != PROCMON_OK) return fail("close");

    /* Read back this run's records: those of events since it started
       (from_seq would start at a sequence number instead). Timeout 0: stop
       at the end (-1 would wait for more, following a live writer). */
    ro.from_time_ns = (uint64_t)start.tv_sec * 1000000000u + (uint64_t)start.tv_nsec;
    if (procmon_journal_reader_open(&r, dir, &ro) != PROCMON_OK) return fail(dir);
    while ((rc = procmon_journal_reader_next(r, ev, sizeof ev[0], 64, &n, 0)) == PROCMON_OK && n > 0) {
        for (i = 0; i < n; i++) {
            print_record(&ev[i]);
            if (ev[i].type == PROCMON_EVENT_LOST) lost += ev[i].lost;
        }
        records += n;
    }
    if (rc != PROCMON_OK) {
        fail("read");
        procmon_journal_reader_close(r);
        return 1;
    }
    rs.size = (uint32_t)sizeof rs;
    procmon_journal_reader_stats_get(&rs, r);
    procmon_journal_reader_close(r);
    printf("read %s records", u64(num, records));
    if (lost != 0) printf(", %s events lost", u64(num, lost));
    if (rs.corrupt_records != 0) printf(", skipped %s corrupt runs", u64(num, rs.corrupt_records));
    putchar('\n');
    return 0;
}
