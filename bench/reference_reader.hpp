// The straightforward reader every ratio is measured against: what a
// careful programmer writes first. opendir/readdir over /proc, then for each
// pid open/read-until-EOF/close of stat, status and cmdline, full paths.
// It only reads (no parsing), which flatters it.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

inline std::size_t reference_read_file(const char *path, char *buf, std::size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    std::size_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, size)) > 0) total += static_cast<std::size_t>(n);
    close(fd);
    return total;
}

// Returns the number of processes read, and the bytes in *bytes.
inline std::size_t reference_enumerate(std::size_t *bytes) {
    static char buf[1 << 16];
    DIR *dir = opendir("/proc");
    if (dir == nullptr) return 0;
    std::size_t count = 0, total = 0;
    char path[320];  // d_name is up to 255 bytes
    while (dirent *e = readdir(dir)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        static const char *const files[] = {"stat", "status", "cmdline"};
        for (const char *f : files) {
            std::snprintf(path, sizeof path, "/proc/%s/%s", e->d_name, f);
            total += reference_read_file(path, buf, sizeof buf);
        }
        ++count;
    }
    closedir(dir);
    *bytes = total;
    return count;
}
