// A config reload (SIGHUP, or the file changed): the new file parsed and
// validated whole, then applied live without dropping a client or an
// event, or rejected with its errors logged while the old config stays.
#pragma once

#include <string>

#include "platform/socket.hpp"
#include "state.hpp"

namespace procmon::daemon {

class Reloader {
public:
    // `text` is the file as the running config was read from it;
    // `overrides`: what the command line sets over the file.
    Reloader(State &state, std::string text, Overrides overrides)
        : state_(state), last_text_(std::move(text)), overrides_(std::move(overrides)) {}

    // Reads the file again. `only_if_changed`: a directory event, which may
    // be another file's, or the same bytes written again.
    void reload(const char *reason, bool only_if_changed);
    // The listening socket, whose file's mode and group a reload changes.
    void set_listener(const platform::Socket *listener) { listener_ = listener; }

private:
    // What a reload can change at once; a socket mode or group that could
    // not be applied keeps its running value in `loaded`.
    void apply_live(const Config &running, Config &loaded);

    State &state_;
    std::string last_text_;  // the bytes last tried, valid or not
    const Overrides overrides_;
    const platform::Socket *listener_ = nullptr;
};

}  // namespace procmon::daemon
