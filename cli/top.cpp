#include "top.hpp"

#include <cstdio>

#include "args.hpp"
#include "events_out.hpp"
#include "remote.hpp"
#include "top_batch.hpp"
#include "top_model.hpp"
#include "top_options.hpp"
#include "top_screen.hpp"
#include "top_terminal.hpp"

namespace procmon::cli {

int run_top(int argc, char **argv) {
    top::Options o;
    bool help = false;
    if (std::string err = top::parse_options(argc, argv, o, help); !err.empty()) return usage_error("top", err);
    if (help) {
        std::printf(top::kUsage, kConnectHelp, kExitHelp);
        return kExitOk;
    }
    top::Model model(o);
    if (std::string err = model.open(); !err.empty()) {
        std::fprintf(stderr, "procmon: %s\n", err.c_str());
        return kExitFailure;
    }
    catch_interrupts();  // SIGINT, SIGTERM: leave the loop, the terminal restored
    if (o.batch > 0) return top::run_batch(model, o, o.batch);
    top::Terminal terminal;
    if (std::string why = terminal.start(); !why.empty()) {
        // Text a dumb terminal or a pipe can take beats an error: the
        // refreshes as --batch prints them, until interrupted.
        std::fprintf(stderr, "procmon: top: %s; printing refreshes as text (as --batch does) until interrupted\n", why.c_str());
        return top::run_batch(model, o, 0);
    }
    return top::Screen(model, o, terminal).run();
}

}  // namespace procmon::cli
