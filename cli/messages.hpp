// The library's words in the command's: its messages name C functions and
// struct fields (procmon_journal_open, name_glob, the event_source option);
// a user of the command knows flags (--max-size, --name, --poll).
#pragma once

#include <string>

namespace procmon::cli {

// `text` without a leading "procmon_function: ", its field names as the
// command's flags.
std::string in_cli_words(const std::string &text);

// The last library error of this thread, in the command's words.
std::string library_error();

}  // namespace procmon::cli
