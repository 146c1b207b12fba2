// procmond's log: one line per event on stderr,
// "procmond: <ISO 8601 UTC time> <level> <text>", written with one write(2)
// so lines from different threads never interleave. Control bytes are
// written \xNN and a line is cut at 1 KiB (ending "…"): a peer's text can
// neither forge a line nor flood the log.
#pragma once

namespace procmon::daemon {

enum class Level { info, warning, error };

void log(Level level, const char *format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace procmon::daemon
