// `procmon top --batch N`: refreshes as text, as top -b prints them.
#pragma once

#include "top_model.hpp"

namespace procmon::cli::top {

// Prints `refreshes` refreshes (0: until SIGINT or SIGTERM), one --interval
// apart, each followed by the events that came during it. Returns the exit
// status.
int run_batch(Model &m, const Options &o, long long refreshes);

}  // namespace procmon::cli::top
