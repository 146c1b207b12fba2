// A subscription served from the journal: every event carries its journal
// sequence number, so a client resumes exactly where it left off.
#pragma once

#include "channel.hpp"
#include "protocol/messages.hpp"
#include "state.hpp"

namespace procmon::daemon {

// Streams events to the client of `channel` per `request` until the client
// goes, the daemon stops, authorization is withdrawn, or (HISTORY) all was
// sent. Answers a request it cannot serve with an error frame. `client`'s
// counters say how it goes.
void serve_subscription(State &state, Channel &channel, ClientInfo &client, const protocol::Subscribe &request);

}  // namespace procmon::daemon
