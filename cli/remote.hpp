// The commands' side of procmond: --connect, `procmon status`, and replay
// from the daemon's journal (a subscription from a sequence number).
#pragma once

#include <string>

#include "args.hpp"

namespace procmon::cli {

// The --connect paragraph of snapshot's, watch's and replay's --help.
extern const char kConnectHelp[];

// `--connect PATH` at the cursor: true when `arg` is it (err then says what
// was wrong with its value, if anything).
bool parse_connect_option(ArgCursor &args, const std::string &arg, std::string &endpoint, std::string &err);

// What procmon_options.endpoint gets for --connect: NULL leaves the
// library's rule (PROCMON_ENDPOINT, else this machine).
inline const char *endpoint_option(const std::string &connect) { return connect.empty() ? nullptr : connect.c_str(); }

int run_status(int argc, char **argv);

// `procmon replay --connect PATH`: argv as run_replay got it.
int run_remote_replay(int argc, char **argv);

}  // namespace procmon::cli
