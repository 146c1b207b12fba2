// procmon watch: stream lifecycle events until a duration ends or a signal.
#pragma once

namespace procmon::cli {

int run_watch(int argc, char **argv);

}  // namespace procmon::cli
