// procmon snapshot: list the processes of this machine once.
#pragma once

namespace procmon::cli {

int run_snapshot(int argc, char **argv);

}  // namespace procmon::cli
