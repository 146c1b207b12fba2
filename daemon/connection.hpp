// One client's connection, on its own thread: the hello and the peer's
// permissions, then its requests one at a time until it closes, breaks
// the protocol, or subscribes (the connection then streams events until
// either side ends it).
#pragma once

#include "platform/socket.hpp"
#include "state.hpp"

namespace procmon::daemon {

void serve_connection(State &state, platform::Socket socket, const platform::PeerCredentials &peer);

}  // namespace procmon::daemon
