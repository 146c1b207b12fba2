// procmon record and procmon replay: lifecycle events to a journal
// directory, and back out in the watch formats.
#pragma once

namespace procmon::cli {

int run_record(int argc, char **argv);
int run_replay(int argc, char **argv);

}  // namespace procmon::cli
