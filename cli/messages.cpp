#include "messages.hpp"

#include <string_view>

#include "procmon.h"

namespace procmon::cli {
namespace {

// Longest first where one contains another.
const std::pair<std::string_view, std::string_view> kWords[] = {
    {"forced by the event_source option", "as --poll asks"},
    {"cmdline_glob", "--cmdline"},
    {"name_glob", "--name"},
    {"descendants_of", "--descendants-of"},
    {"queue_capacity", "--queue"},
    {"max_bytes", "--max-size"},
    {"segment_bytes", "--segment-size"},
    {"max_age_ms", "--max-age"},
    {"poll_interval_ms", "--interval"},
};

}  // namespace

std::string in_cli_words(const std::string &text) {
    std::string s = text;
    // "procmon_journal_open: ..." -> "..."
    if (s.rfind("procmon_", 0) == 0) {
        const std::size_t colon = s.find(": ");
        if (colon != std::string::npos && s.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == colon) s.erase(0, colon + 2);
    }
    for (const auto &[lib, cli] : kWords)
        for (std::size_t at = s.find(lib); at != std::string::npos; at = s.find(lib, at + cli.size()))
            s.replace(at, lib.size(), cli);
    return s;
}

std::string library_error() { return in_cli_words(procmon_error_last()->message); }

}  // namespace procmon::cli
