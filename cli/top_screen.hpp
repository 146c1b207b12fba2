// The full-screen view: its loop and drawing (top_screen.cpp) and what its
// keys do (top_keys.cpp).
#pragma once

#include <string>

#include "top_model.hpp"
#include "top_terminal.hpp"

namespace procmon::cli::top {

class Screen {
public:
    Screen(Model &m, Options &o, const Terminal &t) : m_(m), o_(o), colors_(t.colors()) {}
    // Until q, SIGINT or SIGTERM; returns the exit status.
    int run();

private:
    // A question on the bottom line; keys go to it while it is open.
    struct Prompt {
        enum class Kind { none, filter, user, interval, signal, confirm } kind = Kind::none;
        std::string label, text;
        Identity target;      // signal, confirm: the process drawn when k was pressed
        std::string command;  // and its command, to name it
        int sig = 0;
    };

    void draw();
    void draw_table(int top_y, int height);
    void draw_events(int top_y, int height);
    void draw_bottom_line();
    void draw_help();
    void say(const std::string &message);
    // After a refresh or a rebuild: the selection stays on the same process.
    void keep_selection();

    // Returns false when the key quits.
    bool on_key(int ch);
    void on_prompt_key(int ch);
    void submit_prompt();
    void open_prompt(Prompt::Kind kind, const std::string &label, const std::string &text = {});
    void ask_signal();
    void send_signal();
    void sort_by(Column c);
    void move_selection(long delta);

    Model &m_;
    Options &o_;
    bool colors_;
    Prompt prompt_;
    std::string status_;
    double status_until_ = 0;
    bool help_ = false, show_events_ = true, refresh_now_ = false;
    long selected_ = 0, first_row_ = 0;  // index into m_.rows(); first row drawn
    Identity selected_id_;
    int table_height_ = 1;  // rows the table showed last: a page for PgUp/PgDn
};

}  // namespace procmon::cli::top
