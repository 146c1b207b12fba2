// What the keys of `procmon top` do; docs/cli.md lists them for users.
#define NCURSES_NOMACROS  // see top_screen.cpp
#include <curses.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>

#include "messages.hpp"
#include "top_screen.hpp"
#include "top_view.hpp"

namespace procmon::cli::top {
namespace {

constexpr int kCtrlL = 12, kEscape = 27;

bool is_enter(int ch) { return ch == '\n' || ch == '\r' || ch == KEY_ENTER; }
bool is_backspace(int ch) { return ch == KEY_BACKSPACE || ch == 127 || ch == 8; }

}  // namespace

bool Screen::on_key(int ch) {
    if (ch == KEY_RESIZE) return true;  // the next draw lays the new size out
    if (prompt_.kind != Prompt::Kind::none) {
        on_prompt_key(ch);
        return true;
    }
    if (help_) {  // any key closes the help
        help_ = false;
        return true;
    }
    status_.clear();
    switch (ch) {
    case 'q': case 'Q': case KEY_F(10): return false;
    case KEY_UP: move_selection(-1); break;
    case KEY_DOWN: move_selection(1); break;
    case KEY_PPAGE: move_selection(-table_height_); break;
    case KEY_NPAGE: move_selection(table_height_); break;
    case KEY_HOME: move_selection(-static_cast<long>(m_.rows().size())); break;
    case KEY_END: move_selection(static_cast<long>(m_.rows().size())); break;
    case 'P': sort_by(Column::cpu); break;
    case 'M': sort_by(Column::mem); break;
    case 'N': sort_by(Column::pid); break;
    case 'T': sort_by(Column::time); break;
    case '<': sort_by(static_cast<Column>(std::max(0, static_cast<int>(o_.sort) - 1))); break;
    case '>': sort_by(static_cast<Column>(std::min(kColumns - 1, static_cast<int>(o_.sort) + 1))); break;
    case 'R':
        o_.descending = !o_.descending;
        m_.rebuild();
        keep_selection();
        break;
    case 't':
        o_.tree = !o_.tree;
        m_.rebuild();
        keep_selection();
        break;
    case 'e': show_events_ = !show_events_; break;
    case '/': open_prompt(Prompt::Kind::filter, "Filter ([name:|cmd:|user:|cgroup:|pid:]TEXT; empty clears all): "); break;
    case 'u': open_prompt(Prompt::Kind::user, "Show the processes of user (name or uid; empty: all): "); break;
    case '=':
        o_.filters.clear();
        m_.rebuild();
        keep_selection();
        say("Filters cleared");
        break;
    case 'd': case 's': {
        char now[32];
        std::snprintf(now, sizeof now, "%g", o_.interval);
        open_prompt(Prompt::Kind::interval, "Refresh every (seconds, 0.1 or more): ", now);
        break;
    }
    case 'k': ask_signal(); break;
    case ' ': refresh_now_ = true; break;
    case kCtrlL: clearok(curscr, TRUE); break;
    case 'h': case '?': help_ = true; break;
    default: break;
    }
    return true;
}

void Screen::move_selection(long delta) {
    const auto &rows = m_.rows();
    if (rows.empty()) return;
    selected_ = std::clamp<long>(selected_ + delta, 0, static_cast<long>(rows.size()) - 1);
    selected_id_ = {rows[selected_].p->pid, rows[selected_].p->start_ticks};
}

void Screen::sort_by(Column c) {
    if (o_.sort != c) {
        o_.sort = c;
        o_.descending = column_info(c).numeric && c != Column::pid;  // top's: the largest first
    }
    m_.rebuild();
    keep_selection();
}

void Screen::open_prompt(Prompt::Kind kind, const std::string &label, const std::string &text) {
    prompt_.kind = kind;
    prompt_.label = label;
    prompt_.text = text;
}

void Screen::on_prompt_key(int ch) {
    if (prompt_.kind == Prompt::Kind::confirm) {
        // only y sends: any other key is a no, as the question says
        if (ch == 'y' || ch == 'Y') send_signal();
        else say("Nothing sent");
        prompt_.kind = Prompt::Kind::none;
        return;
    }
    if (ch == kEscape) {
        prompt_.kind = Prompt::Kind::none;
        return;
    }
    if (is_enter(ch)) {
        submit_prompt();
        return;
    }
    if (is_backspace(ch)) {
        if (!prompt_.text.empty()) {
            // a whole UTF-8 character: its continuation bytes, then its first
            while (!prompt_.text.empty() && (static_cast<unsigned char>(prompt_.text.back()) & 0xC0) == 0x80) prompt_.text.pop_back();
            prompt_.text.pop_back();
        }
        return;
    }
    if (ch >= 0x20 && ch < 0x100 && ch != 0x7F) prompt_.text.push_back(static_cast<char>(ch));
}

void Screen::submit_prompt() {
    Prompt p = prompt_;
    prompt_.kind = Prompt::Kind::none;
    std::string err;
    switch (p.kind) {
    case Prompt::Kind::filter:
        if (p.text.empty()) o_.filters.clear();
        else err = o_.filters.add(p.text);
        break;
    case Prompt::Kind::user:
        if (p.text.empty()) o_.filters.remove(FilterTerm::Field::user);
        else err = o_.filters.add("user:" + p.text);
        break;
    case Prompt::Kind::interval:
        if (!parse_interval(p.text, o_.interval)) return say("'" + p.text + "' is not an interval in seconds (0.1..86400)");
        refresh_now_ = true;
        return say("Refreshing every " + p.text + " s");
    case Prompt::Kind::signal: {
        int sig = SIGTERM;
        if (!p.text.empty() && !parse_signal(p.text, sig)) return say("'" + p.text + "' is not a signal (a name as TERM, or 1..64)");
        prompt_ = p;
        prompt_.sig = sig;
        prompt_.kind = Prompt::Kind::confirm;
        prompt_.label = "Send " + signal_name(sig) + " to " + std::to_string(p.target.pid) + " (" + p.command + ")? (y/n) ";
        prompt_.text.clear();
        return;
    }
    default: return;
    }
    if (!err.empty()) return say(err);
    // a cgroup term needs the cgroup group, which only a new enumeration reads
    if (o_.filters.has(FilterTerm::Field::cgroup)) refresh_now_ = true;
    m_.rebuild();
    keep_selection();
}

void Screen::ask_signal() {
    const auto &rows = m_.rows();
    if (rows.empty()) return say("No process selected");
    const procmon_process &p = *rows[selected_].p;
    std::string command;
    append_command(command, p);
    if (command.size() > 40) command = command.substr(0, 39) + "~";
    open_prompt(Prompt::Kind::signal, "Signal for " + std::to_string(p.pid) + " (" + command + ") [TERM]: ");
    prompt_.target = {p.pid, p.start_ticks};  // the process drawn, not whoever has its pid later
    prompt_.command = command;
}

void Screen::send_signal() {
    const Prompt &p = prompt_;
    const std::string who = std::to_string(p.target.pid) + " (" + p.command + ")";
    switch (m_.signal(p.target, p.sig)) {
    case PROCMON_OK: return say("Sent " + signal_name(p.sig) + " to " + who);
    case PROCMON_ENOENT: return say("No such process (ESRCH): " + who + " exited, or its pid is another process's now; nothing sent");
    case PROCMON_EPERM: return say("Not allowed (EPERM) to signal " + who);
    default: return say("Could not signal " + who + ": " + library_error());
    }
}

}  // namespace procmon::cli::top
