// NCURSES_NOMACROS: curses.h otherwise defines refresh(), erase(), move()...
// as macros, which would rewrite Model::refresh() and its kin.
#define NCURSES_NOMACROS
#include "top_screen.hpp"

#include <curses.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <iterator>

#include "events_out.hpp"
#include "terminal.hpp"
#include "top_view.hpp"

namespace procmon::cli::top {
namespace {

// The first screen comes after this long (or the interval, if shorter), so
// the view appears at once yet its %CPU is already a measured one.
constexpr double kFirstRefresh = 0.25;
// Events alone redraw at most this often: a fork storm must not cost a
// redraw per event.
constexpr double kEventRedraw = 0.1;
constexpr double kStatusSeconds = 5;

// `text` cut to the screen's width at y, in `attr`, the rest of the line
// cleared (filled in `attr` when `fill`).
void put_line(int y, std::string text, attr_t attr = A_NORMAL, bool fill = false) {
    cut_line(text, 0, static_cast<std::size_t>(COLS));
    attrset(attr);
    mvaddstr(y, 0, text.c_str());
    if (fill) {
        int x = getcurx(stdscr);
        if (y >= 0 && x < COLS && x > 0) hline(' ', COLS - x);
    }
    attrset(A_NORMAL);
}

}  // namespace

void Screen::say(const std::string &message) {
    status_ = message;
    status_until_ = monotonic_seconds() + kStatusSeconds;
}

void Screen::keep_selection() {
    const auto &rows = m_.rows();
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (rows[i].p->pid == selected_id_.pid && rows[i].p->start_ticks == selected_id_.start_ticks) {
            selected_ = static_cast<long>(i);
            return;
        }
    // gone: the row now at its place is selected
    selected_ = std::clamp<long>(selected_, 0, std::max<long>(0, static_cast<long>(rows.size()) - 1));
    if (!rows.empty()) selected_id_ = {rows[selected_].p->pid, rows[selected_].p->start_ticks};
}

int Screen::run() {
    double next_refresh = monotonic_seconds() + std::min(o_.interval, kFirstRefresh);
    double redraw_at = 0;  // events waiting to be drawn by then; 0: none
    bool dirty = true;
    while (!interrupted()) {
        double now = monotonic_seconds();
        if (now >= next_refresh || refresh_now_) {
            if (std::string err = m_.refresh(); !err.empty()) say("refresh failed: " + err);
            keep_selection();
            // a late refresh (a suspended terminal, a loaded machine) does not
            // make the next ones come in a burst
            next_refresh = std::max(next_refresh + o_.interval, now + o_.interval / 2);
            refresh_now_ = false;
            dirty = true;
        }
        if (redraw_at > 0 && now >= redraw_at) dirty = true;
        if (status_until_ > 0 && now >= status_until_) {
            status_.clear();
            status_until_ = 0;
            dirty = true;
        }
        if (dirty) {
            draw();
            dirty = false;
            redraw_at = 0;
        }
        double wake = next_refresh;
        if (redraw_at > 0) wake = std::min(wake, redraw_at);
        if (status_until_ > 0) wake = std::min(wake, status_until_);
        const int ms = std::max(0, static_cast<int>(std::ceil((wake - monotonic_seconds()) * 1000)));
        pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {m_.event_fd(), POLLIN, 0}};
        // EINTR: SIGWINCH (getch then returns KEY_RESIZE), or SIGINT/SIGTERM
        const int ready = poll(fds, fds[1].fd >= 0 ? 2 : 1, ms);
        // the terminal went away (a closed window, a dropped ssh): nothing
        // to draw on, and a hung-up stdin would keep poll from ever sleeping
        if (ready > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))) return kExitOk;
        for (int ch; (ch = getch()) != ERR;) {
            if (!on_key(ch)) return kExitOk;
            dirty = true;
        }
        if (ready > 0 && (fds[1].revents & POLLIN)) {
            m_.drain_events();
            if (redraw_at == 0) redraw_at = monotonic_seconds() + kEventRedraw;
        }
    }
    return kExitOk;
}

void Screen::draw() {
    erase();
    if (help_) {
        draw_help();
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    int y = 0;
    const std::vector<std::string> header = header_lines(m_, o_);
    for (std::size_t i = 0; i < header.size() && y < LINES - 1; ++i)
        put_line(y++, header[i], i == 0 ? A_BOLD : A_NORMAL);
    // table header, rows, the events pane (a title and its lines), the bottom line
    const int rest = LINES - y - 1;
    int events_height = show_events_ ? std::clamp(rest / 3, 2, 12) : 0;
    if (rest - events_height < 2) events_height = std::max(0, rest - 2);
    const int table_height = rest - events_height;
    if (table_height > 0) draw_table(y, table_height);
    if (events_height > 0) draw_events(y + table_height, events_height);
    draw_bottom_line();
    wnoutrefresh(stdscr);
    doupdate();
}

void Screen::draw_table(int top_y, int height) {
    std::vector<std::pair<int, int>> spans;
    put_line(top_y, column_header(&spans), A_REVERSE, true);
    // the sort column's header, marked
    const auto [from, to] = spans[static_cast<int>(o_.sort)];
    if (from < COLS) mvchgat(top_y, from, std::min(to, COLS) - from, A_REVERSE | A_BOLD | A_UNDERLINE, 0, nullptr);
    const auto &rows = m_.rows();
    table_height_ = std::max(1, height - 1);
    if (!rows.empty()) selected_ = std::clamp<long>(selected_, 0, static_cast<long>(rows.size()) - 1);
    // scroll so the selection is in view
    if (selected_ < first_row_) first_row_ = selected_;
    if (selected_ >= first_row_ + table_height_) first_row_ = selected_ - table_height_ + 1;
    first_row_ = std::clamp<long>(first_row_, 0, std::max<long>(0, static_cast<long>(rows.size()) - table_height_));
    for (int i = 0; i < table_height_; ++i) {
        const long r = first_row_ + i;
        if (r >= static_cast<long>(rows.size())) break;
        const bool selected = r == selected_;
        const attr_t attr = selected ? (colors_ ? COLOR_PAIR(kPairSelected) : A_REVERSE) : A_NORMAL;
        put_line(top_y + 1 + i, row_text(rows[r], m_.env()), attr, selected);
    }
    if (rows.empty() && height > 1)
        put_line(top_y + 1, m_.has_refreshed() ? "  (no process matches the filter: = clears it)" : "  (reading processes...)");
}

void Screen::draw_events(int top_y, int height) {
    std::string title = "Events: starts, execs and exits as they happen";
    if (!o_.filters.empty()) title += " (filtered)";
    put_line(top_y, title, colors_ ? COLOR_PAIR(kPairTitle) | A_BOLD : A_BOLD);
    const auto &ev = m_.events();
    const std::size_t lines = static_cast<std::size_t>(height - 1);
    const std::size_t shown = std::min(lines, ev.size());
    for (std::size_t i = 0; i < shown; ++i) {
        const EventLine &e = ev[ev.size() - shown + i];
        attr_t attr = A_NORMAL;
        if (e.type == PROCMON_EVENT_EXIT && !(e.flags & PROCMON_EVENT_FLAG_NO_STATUS) && (e.exit_code != 0 || e.exit_signal != 0))
            attr = colors_ ? COLOR_PAIR(kPairExitBad) : A_BOLD;
        else if (e.short_lived && colors_)
            attr = COLOR_PAIR(kPairShort);
        else if (e.type == PROCMON_EVENT_START && colors_)
            attr = COLOR_PAIR(kPairStart);
        put_line(top_y + 1 + static_cast<int>(i), event_text(e, m_.env()), attr);
    }
}

void Screen::draw_bottom_line() {
    const int y = LINES - 1;
    if (prompt_.kind != Prompt::Kind::none) {
        put_line(y, prompt_.label + prompt_.text, A_BOLD);
        return;
    }
    if (!status_.empty()) {
        put_line(y, status_, A_BOLD);
        return;
    }
    put_line(y, "h help  q quit  k signal  / filter  u user  t tree  P M N T < > sort  R reverse  e events  d interval",
             A_DIM);
}

void Screen::draw_help() {
    static const char *const kHelp[] = {
        "procmon top: keys",
        "",
        "  q, F10          quit (Ctrl-C too)",
        "  Up Down PgUp PgDn Home End   select a process",
        "  k               send the selected process a signal (asks which, then y/n)",
        "  P M N T         sort by %CPU, %MEM, PID, TIME",
        "  < >             sort by the column left or right of the current one",
        "  R               reverse the sort",
        "  t               tree view on/off: processes under their parents",
        "  /               filter: TEXT (name or command line), or name:, cmd:,",
        "                  user:, cgroup: (path or container id), pid: and a value",
        "  u               show one user's processes (empty: all users)",
        "  =               clear every filter",
        "  e               events pane on/off",
        "  d, s            change the refresh interval (seconds)",
        "  Space           refresh now",
        "  Ctrl-L          redraw the screen",
        "  h, ?            this help; any key closes it",
        "",
        "In a prompt: Enter accepts, Esc cancels, Backspace deletes.",
    };
    for (int y = 0; y < LINES && y < static_cast<int>(std::size(kHelp)); ++y) put_line(y, kHelp[y], y == 0 ? A_BOLD : A_NORMAL);
}

}  // namespace procmon::cli::top
