#include "terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

#include "args.hpp"

namespace procmon::cli {

std::size_t output_columns(bool wide) {
    if (wide || !isatty(STDOUT_FILENO)) return 0;
    long long cols = 0;
    if (const char *env = std::getenv("COLUMNS"); env != nullptr && parse_int(env, 1, 1000000, cols)) return cols;
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

void cut_line(std::string &out, std::size_t from, std::size_t columns) {
    if (columns == 0) return;
    const bool newline = out.size() > from && out.back() == '\n';
    const std::size_t end = out.size() - (newline ? 1 : 0);
    std::size_t seen = 0;
    for (std::size_t i = from; i < end; ++i) {
        // a code point starts at every byte but a UTF-8 continuation byte
        if ((static_cast<unsigned char>(out[i]) & 0xC0) != 0x80 && seen++ == columns) {
            out.erase(i, end - i);
            return;
        }
    }
}

}  // namespace procmon::cli
