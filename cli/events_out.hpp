// Lifecycle events on the command line: the options that filter them
// (watch, record) and the formats that print them (watch, replay).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "args.hpp"
#include "fields.hpp"
#include "output.hpp"
#include "procmon.h"

namespace procmon::cli {

// --events, --name, --cmdline, --user, --descendants-of, --keep-undecidable
// and --queue, as procmon_subscribe takes them.
struct EventFilterArgs {
    uint32_t events = 0;
    std::string name, cmdline;  // cmdline: as the library's glob takes it
    bool has_name = false, has_cmdline = false, keep_undecidable = false;
    long long uid = -1, descendants_of = 0, queue = 0;

    procmon_subscribe_options options() const;
};

// --cmdline PATTERN as the library's anchored glob: a plain PATTERN matches
// anywhere in the line (as pgrep -f), one with * ? [ or \ as it is.
std::string cmdline_glob(const std::string &pattern);

// Takes `arg` (its value from `args`) when it is one of the filter options:
// true if it was, with `err` set when its value is wrong.
bool parse_filter_option(ArgCursor &args, const std::string &arg, EventFilterArgs &out, std::string &err);

// After a failed procmon_subscribe or procmon_journal_open: says why (in the
// command's words), closes ctx, and returns the exit status (2 for EINVAL:
// only what the user gave, a malformed --name, can cause it).
int start_failed(const char *command, int rc, procmon_ctx *ctx);

// Says on stderr that the context polls, and how often; with `verbose`, also
// which source it uses otherwise.
void say_event_source(procmon_ctx *ctx, bool verbose);

// SIGINT and SIGTERM end a streaming command cleanly: after this,
// interrupted() turns true on either (and a wait they cut short returns).
void catch_interrupts();
bool interrupted();

// The filter options' lines for a command's --help.
extern const char kFilterOptionsHelp[];

// Prints events in one of the watch formats (not summary) to stdout.
class EventPrinter {
public:
    // `columns`: cut table lines there (0: never; see output_columns)
    EventPrinter(Format format, std::size_t columns) : format_(format), columns_(columns) {}
    void begin();                       // the table's header, or "["
    void add(const procmon_event &e);   // buffered
    bool flush();                       // false on a write error (errno set)
    void end();                         // "]" for the arrays
    uint64_t written() const { return written_; }

private:
    Format format_;
    std::size_t columns_;
    Env env_;
    std::string out_;
    uint64_t written_ = 0;
};

}  // namespace procmon::cli
