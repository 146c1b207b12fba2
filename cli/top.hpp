// procmon top: a live view of the processes and of those that come and go.
#pragma once

namespace procmon::cli {

int run_top(int argc, char **argv);

}  // namespace procmon::cli
