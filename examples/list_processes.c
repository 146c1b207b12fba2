/* List every process with its memory and whole command line: the README
 * example, complete. C89 plus <stdint.h>: 64-bit values are printed without
 * long long (C89 has none), by u64() below.
 * Build: cc list_processes.c $(pkg-config --cflags --libs procmon) */
#include <procmon.h>
#include <stdio.h>

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

/* The command line: argv holds argc NUL-terminated arguments back to back,
 * printed joined by spaces (control bytes as '?'). A process without
 * arguments (a kernel thread, a zombie, or one whose argv could not be
 * read) shows as [name], as ps does. */
static void print_cmdline(const procmon_process *p) {
    size_t i;
    if (!(p->valid & PROCMON_FIELD_ARGV) || p->argc == 0) {
        printf("[%s]", p->name);
        return;
    }
    for (i = 0; i + 1 < p->argv_len; i++) {
        unsigned char c = (unsigned char)p->argv[i];
        putchar(c == '\0' ? ' ' : c < 0x20 || c == 0x7f ? '?' : c);
    }
}

int main(void) {
    procmon_ctx *ctx;
    procmon_snapshot *snap;
    size_t i;
    char num[21];
    if (procmon_open(&ctx, NULL) != PROCMON_OK) {
        fprintf(stderr, "list_processes: %s\n", procmon_error_last()->message);
        return 1;
    }
    if (procmon_enumerate(&snap, ctx, NULL) != PROCMON_OK) {
        fprintf(stderr, "list_processes: %s\n", procmon_error_last()->message);
        procmon_close(ctx);
        return 1;
    }
    printf("%7s %10s  %s\n", "PID", "RSS KiB", "COMMAND");
    for (i = 0; i < procmon_snapshot_count(snap); i++) {
        const procmon_process *p = procmon_snapshot_at(snap, i);
        /* `valid` says which field groups could be read (the process may have
           exited meanwhile, or belong to someone else) */
        printf("%7d %10s  ", (int)p->pid,
               p->valid & PROCMON_FIELD_MEMORY ? u64(num, p->rss_bytes / 1024) : "-");
        print_cmdline(p);
        putchar('\n');
    }
    procmon_snapshot_free(snap);
    procmon_close(ctx);
    return 0;
}
