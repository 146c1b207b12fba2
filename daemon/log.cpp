#include "log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
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
    // Texts from peers (a hello's client name, globs) end up here: each
    // control byte is written \xNN, so no peer can start a line of its own
    // ("\nprocmond: ... error ..."), and a line is cut at kMaxLine bytes, so
    // none can flood the log with one request.
    constexpr std::size_t kMaxLine = 1024;
    static constexpr char kCut[] = "\u2026";  // …
    char text[4096];
    va_list args;
    va_start(args, format);
    const int written = std::vsnprintf(text, sizeof text, format, args);
    va_end(args);
    const std::size_t text_len = written < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(written), sizeof text - 1);
    bool cut = written >= static_cast<int>(sizeof text);

    char line[kMaxLine + 1];
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    std::size_t n = static_cast<std::size_t>(std::snprintf(
        line, sizeof line, "procmond: %04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", utc.tm_year + 1900, utc.tm_mon + 1,
        utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, now.tv_nsec / 1000000, level_name(level)));
    const std::size_t room = kMaxLine - (sizeof kCut - 1);  // a cut line still has room for its mark
    for (std::size_t i = 0; i < text_len; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const bool control = c < 0x20 || c == 0x7f;
        if (n + (control ? 4 : 1) > room) {
            cut = true;
            break;
        }
        if (control) n += static_cast<std::size_t>(std::snprintf(line + n, 5, "\\x%02x", c));
        else line[n++] = static_cast<char>(c);
    }
    if (cut) {
        std::memcpy(line + n, kCut, sizeof kCut - 1);
        n += sizeof kCut - 1;
    }
    line[n++] = '\n';
    // One write: stderr is unbuffered, and fprintf may split a line.
    for (const char *p = line; n > 0;) {
        const ssize_t w = ::write(STDERR_FILENO, p, n);
        if (w <= 0) break;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

}  // namespace procmon::daemon
