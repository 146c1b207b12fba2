// The words and lines of `procmon top`, the same for the full screen and
// for --batch: the header, the table's rows and the events pane's lines as
// plain text (the screen adds only attributes and colours).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "top_model.hpp"

namespace procmon::cli::top {

// The lines above the table.
std::vector<std::string> header_lines(const Model &m, const Options &o);

// The table's column header; `spans` (may be NULL) gets each column's
// [start, end) on the line, in Column order.
std::string column_header(std::vector<std::pair<int, int>> *spans);

// One process.
std::string row_text(const Row &r, Env &env);

// One event: time, type, pid, user, what happened (exit code or signal and
// lifetime for an exit), command.
std::string event_text(const EventLine &e, Env &env);

// "52 ms", "3.2 s", "12m05s", "3h12m", "2d03h".
std::string short_duration(uint64_t ns);

// "SIGTERM" for 15, "signal 40" where the name is unknown.
std::string signal_name(int sig);
// "TERM", "sigterm", "15" into a signal number; false if none.
bool parse_signal(const std::string &s, int &out);

}  // namespace procmon::cli::top
