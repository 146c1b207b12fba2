// procmond's life: opens the context, its journal and the socket, then
// accepts connections (a thread each, at most limits.max_clients), reloads
// the config on SIGHUP or when its file changes, and on SIGTERM/SIGINT
// closes every client, syncs and closes the journal, and returns.
#pragma once

#include <memory>
#include <string>

#include "config.hpp"

namespace procmon::daemon {

// `config` has `overrides` applied; `config_text` is the file's bytes it
// was parsed from ("" for defaults). Returns the process's exit status.
int run_server(std::shared_ptr<const Config> config, std::string config_text, Overrides overrides);

}  // namespace procmon::daemon
