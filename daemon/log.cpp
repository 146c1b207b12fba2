#include "log.hpp"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace procmon::daemon {
namespace {

const char *level_name(Level level) {
    switch (level) {
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
    }
    return "?";
}

}  // namespace

void log(Level level, const char *format, ...) {
    char line[4096];
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    int n = std::snprintf(line, sizeof line, "procmond: %04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", utc.tm_year + 1900,
                          utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, now.tv_nsec / 1000000,
                          level_name(level));
    va_list args;
    va_start(args, format);
    const int text = std::vsnprintf(line + n, sizeof line - static_cast<std::size_t>(n) - 1, format, args);
    va_end(args);
    if (text > 0) n += text;
    if (n > static_cast<int>(sizeof line) - 2) n = static_cast<int>(sizeof line) - 2;  // a cut line still ends
    line[n++] = '\n';
    // One write: stderr is unbuffered, and fprintf may split a line.
    for (const char *p = line; n > 0;) {
        const ssize_t w = ::write(STDERR_FILENO, p, static_cast<std::size_t>(n));
        if (w <= 0) break;
        p += w;
        n -= static_cast<int>(w);
    }
}

}  // namespace procmon::daemon
