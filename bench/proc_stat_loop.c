/* A reference for any /proc-based top: what it costs to list /proc and read
 * every process's /proc/PID/stat once a second in a bare loop, with nothing
 * done with the bytes. Two ways: opening each file every time (what procps top,
 * htop and procmon do), and keeping each file open and reading it again
 * with pread (saves the path walk, costs one descriptor per process).
 * Prints the CPU (user + system) per refresh and as a share of a core.
 * Usage: proc_stat_loop [SECONDS] -- run beside N idle processes
 * (bench/top_cpu.sh does, and compares procmon top with it). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

/* One refresh: every pid in /proc, its stat read. held[] keeps the files
 * open across refreshes when non-null (indexed by pid); seen[] says which
 * refresh last listed each pid, so the files of pids gone are closed. */
static int refresh(int proc, int *held, unsigned *seen, unsigned pass, int max_pid) {
    char buf[1024], name[32];
    int n = 0;
    DIR *d = opendir("/proc");
    if (d == NULL) return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        int pid = atoi(e->d_name);
        snprintf(name, sizeof name, "%d/stat", pid);
        if (held != NULL && pid < max_pid) {
            seen[pid] = pass;
            if (held[pid] < 0) held[pid] = openat(proc, name, O_RDONLY | O_CLOEXEC);
            /* a pid reused while held reads ESRCH (the file is the old
             * process's): closed, and opened anew at the next refresh */
            if (held[pid] >= 0 && pread(held[pid], buf, sizeof buf, 0) < 0) {
                close(held[pid]);
                held[pid] = -1;
            }
        } else {
            int fd = openat(proc, name, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                if (read(fd, buf, sizeof buf) < 0) { /* gone meanwhile */ }
                close(fd);
            }
        }
        ++n;
    }
    closedir(d);
    if (held != NULL)
        for (int pid = 0; pid < max_pid; ++pid)
            if (held[pid] >= 0 && seen[pid] != pass) {
                close(held[pid]);
                held[pid] = -1;
            }
    return n;
}

static void measure(const char *what, int proc, int *held, unsigned *seen, int max_pid, int seconds) {
    unsigned pass = 1;
    int n = refresh(proc, held, seen, pass, max_pid); /* warm-up: opens the held files */
    double c0 = cpu_seconds();
    for (int i = 0; i < seconds; ++i) {
        sleep(1); /* cold caches, as a 1 s refresh has them */
        n = refresh(proc, held, seen, ++pass, max_pid);
    }
    double per = (cpu_seconds() - c0) / seconds;
    printf("%s: %d processes, %.2f ms CPU per refresh = %.3f%% of a core at 1 refresh/s\n", what, n, per * 1e3,
           per * 100);
}

int main(int argc, char **argv) {
    int seconds = argc > 1 ? atoi(argv[1]) : 10;
    int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0 || seconds <= 0) {
        fprintf(stderr, "usage: proc_stat_loop [SECONDS]\n");
        return 2;
    }
    measure("open, read, close each /proc/PID/stat", proc, NULL, NULL, 0, seconds);
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max; /* one descriptor per process */
    setrlimit(RLIMIT_NOFILE, &lim);
    int max_pid = 4 * 1024 * 1024; /* the kernel's largest pid_max */
    int *held = malloc(sizeof *held * (size_t)max_pid);
    unsigned *seen = calloc((size_t)max_pid, sizeof *seen);
    if (held == NULL || seen == NULL) return 1;
    for (int i = 0; i < max_pid; ++i) held[i] = -1;
    measure("pread each held /proc/PID/stat", proc, held, seen, max_pid, seconds);
    free(held);
    free(seen);
    return 0;
}
