// Table lines on a terminal, as ps shows them: cut to the terminal's width,
// so one process is one screen line. Never cut when piped.
#pragma once

#include <cstddef>
#include <string>

namespace procmon::cli {

// The columns to cut table lines at, 0 for none: when stdout is a terminal,
// $COLUMNS if set (ps's rule), else the terminal's width (TIOCGWINSZ), else 80.
// `wide` (-w, --wide) turns the cut off.
std::size_t output_columns(bool wide);

// Cuts the line that starts at `from` in `out` (up to the end, a '\n'
// excluded) to `columns` display columns (one per code point); 0 = no cut.
void cut_line(std::string &out, std::size_t from, std::size_t columns);

}  // namespace procmon::cli
