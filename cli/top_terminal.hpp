// The full screen of `procmon top`: ncurses set up, and the terminal given
// back as it was on every way out (q, Ctrl-C, SIGTERM, a crash signal).
#pragma once

#include <string>

namespace procmon::cli::top {

class Terminal {
public:
    Terminal() = default;
    ~Terminal();  // restores the terminal
    Terminal(const Terminal &) = delete;
    Terminal &operator=(const Terminal &) = delete;

    // Takes the screen; empty string when it could, else why not (no
    // terminal, one ncurses does not know, or one that cannot move the
    // cursor, as TERM=dumb).
    std::string start();
    // Colour pairs may be used: the terminal has them and NO_COLOR is not set.
    bool colors() const { return colors_; }

private:
    void *screen_ = nullptr;  // ncurses' SCREEN
    bool colors_ = false;
};

// Colour pairs, set up by Terminal::start when colors() is true.
enum Pair { kPairTitle = 1, kPairStart, kPairExitBad, kPairShort, kPairSelected };

}  // namespace procmon::cli::top
