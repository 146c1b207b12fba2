#include "top_batch.hpp"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "args.hpp"
#include "events_out.hpp"
#include "terminal.hpp"
#include "top_view.hpp"

namespace procmon::cli::top {
namespace {

// Takes events as they come until `deadline` (monotonic seconds), so none
// waits in the queue while a long interval runs.
void take_events_until(Model &m, double deadline) {
    for (double now = monotonic_seconds(); now < deadline && !interrupted(); now = monotonic_seconds()) {
        const int ms = static_cast<int>(std::ceil((deadline - now) * 1000));
        pollfd fd{m.event_fd(), POLLIN, 0};
        if (fd.fd < 0) {
            timespec t{ms / 1000, ms % 1000 * 1000000L};
            nanosleep(&t, nullptr);  // a signal cuts it short: the loop looks again
            continue;
        }
        if (poll(&fd, 1, ms) > 0) m.drain_events();
    }
}

void add_line(std::string &out, const std::string &line, std::size_t columns) {
    const std::size_t from = out.size();
    out += line;
    cut_line(out, from, columns);
    out += '\n';
}

}  // namespace

int run_batch(Model &m, const Options &o, long long refreshes) {
    const std::size_t columns = output_columns(o.wide);
    uint64_t printed = m.events_total();
    double deadline = monotonic_seconds() + o.interval;
    for (long long i = 0; refreshes == 0 || i < refreshes; ++i) {
        take_events_until(m, deadline);
        if (interrupted()) break;
        deadline += o.interval;
        if (std::string err = m.refresh(); !err.empty()) {
            std::fprintf(stderr, "procmon: %s\n", err.c_str());
            return kExitFailure;
        }
        std::string out;
        if (i > 0) out += '\n';
        for (const std::string &l : header_lines(m, o)) add_line(out, l, columns);
        out += '\n';
        add_line(out, column_header(nullptr), columns);
        for (const Row &r : m.rows()) add_line(out, row_text(r, m.env()), columns);
        // the events of this interval: those the pane got since the last print
        const uint64_t fresh = m.events_total() - printed;
        printed = m.events_total();
        if (fresh > 0) {
            const auto &ev = m.events();
            const std::size_t shown = std::min<uint64_t>(fresh, ev.size());
            out += "\nEvents since the last refresh: " + std::to_string(fresh);
            out += shown < fresh ? " (the last " + std::to_string(shown) + " shown)\n" : "\n";
            for (std::size_t k = ev.size() - shown; k < ev.size(); ++k) add_line(out, event_text(ev[k], m.env()), columns);
        }
        if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
            if (errno == EPIPE) return kExitOk;  // the reader went away: done, as snapshot | head
            std::fprintf(stderr, "procmon: write output: %s\n", std::strerror(errno));
            return kExitFailure;
        }
    }
    return kExitOk;
}

}  // namespace procmon::cli::top
