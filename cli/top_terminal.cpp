#include "top_terminal.hpp"

#include <curses.h>
#include <signal.h>
#include <term.h>
#include <unistd.h>

#include <clocale>
#include <cstdlib>

namespace procmon::cli::top {
namespace {

// Crashes, and the signals that end the program by default with no
// chance to leave the loop: Ctrl-\ (SIGQUIT) and a hang-up (SIGHUP).
const int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT, SIGHUP};

// A crash must not leave the user's terminal in raw mode on the alternate
// screen: give it back, then die of the same signal with its default action
// (a core dump where enabled). The signal is blocked while this runs, so the
// raise takes effect as the handler returns.
void on_crash(int sig) {
    endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

}  // namespace

std::string Terminal::start() {
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) return "standard input or output is not a terminal";
    std::setlocale(LC_ALL, "");  // UTF-8 command lines drawn as such
    const char *term = std::getenv("TERM");
    SCREEN *s = newterm(nullptr, stdout, stdin);  // unlike initscr, returns NULL instead of exiting
    if (s == nullptr) return std::string("terminal '") + (term ? term : "") + "' is unknown to ncurses";
    screen_ = s;
    if (cursor_address == nullptr) {
        endwin();
        delscreen(s);
        screen_ = nullptr;
        return std::string("terminal '") + (term ? term : "") + "' cannot move the cursor";
    }
    cbreak();  // not raw(): Ctrl-C stays SIGINT, Ctrl-Z SIGTSTP (which ncurses handles)
    noecho();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);  // keys are read after poll() says they wait
    set_escdelay(25);       // Esc cancels a prompt without a noticeable wait
    curs_set(0);
    const char *no_color = std::getenv("NO_COLOR");  // https://no-color.org: set and not empty
    colors_ = has_colors() && (no_color == nullptr || *no_color == '\0');
    if (colors_) {
        start_color();
        use_default_colors();
        init_pair(kPairTitle, COLOR_CYAN, -1);
        init_pair(kPairStart, COLOR_GREEN, -1);
        init_pair(kPairExitBad, COLOR_RED, -1);
        init_pair(kPairShort, COLOR_YELLOW, -1);
        init_pair(kPairSelected, COLOR_BLACK, COLOR_CYAN);
    }
    struct sigaction sa {};
    sa.sa_handler = on_crash;
    for (int sig : kCrashSignals) sigaction(sig, &sa, nullptr);
    return {};
}

Terminal::~Terminal() {
    if (screen_ == nullptr) return;
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    for (int sig : kCrashSignals) sigaction(sig, &sa, nullptr);
    curs_set(1);
    endwin();
    delscreen(static_cast<SCREEN *>(screen_));
}

}  // namespace procmon::cli::top
