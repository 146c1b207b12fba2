// procmond: the privileged collector serving procmon's clients over a Unix
// socket (docs/daemon.md).
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "config.hpp"
#include "log.hpp"
#include "procmon.h"
#include "server.hpp"

namespace {

const char kUsage[] =
    "usage: procmond [--config FILE] [--socket PATH] [--metrics ADDR:PORT]\n"
    "       procmond --check-config FILE\n"
    "\n"
    "Serves this machine's processes and process events to procmon clients\n"
    "over a Unix socket, in the foreground, logging to stderr.\n"
    "\n"
    "  --config FILE        the TOML config (docs/daemon.md); without it, the\n"
    "                       built-in defaults: socket /run/procmond.sock (0666),\n"
    "                       journal /var/lib/procmond/journal\n"
    "  --socket PATH        listen at PATH, whatever the config says\n"
    "  --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
    "                       (as 127.0.0.1:9464; port 0: any free one, logged),\n"
    "                       whatever the config's metrics.listen says\n"
    "  --check-config FILE  validate FILE, print \"FILE: ok\" or its errors, exit\n"
    "  --help, --version\n"
    "\n"
    "Signals: SIGHUP reloads the config (so does writing its file);\n"
    "SIGTERM and SIGINT stop it cleanly.\n";

int usage_error(const char *what) {
    std::fprintf(stderr, "procmond: %s\n%s", what, kUsage);
    return 2;
}

}  // namespace

int main(int argc, char **argv) {
    using namespace procmon::daemon;
    std::string config_path, socket_path, check_path;
    bool has_socket = false;
    Overrides overrides;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](std::string &out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (arg == "--version") {
            std::printf("procmond %s\n", procmon_version_string());
            return 0;
        }
        if (arg == "--config") {
            if (!value(config_path)) return usage_error("--config needs a file");
        } else if (arg == "--socket") {
            if (!value(socket_path)) return usage_error("--socket needs a path");
            has_socket = true;
        } else if (arg == "--metrics") {
            if (!value(overrides.metrics_listen)) return usage_error("--metrics needs ADDR:PORT");
            sockaddr_storage addr{};
            std::string why;
            if (!parse_listen_address(overrides.metrics_listen, addr, why))
                return usage_error(("--metrics: " + why).c_str());
        } else if (arg == "--check-config") {
            if (!value(check_path)) return usage_error("--check-config needs a file");
        } else {
            return usage_error(("unknown argument " + arg).c_str());
        }
    }

    if (!check_path.empty()) {
        std::vector<std::string> errors;
        if (load_config(check_path, errors)) {
            std::printf("%s: ok\n", check_path.c_str());
            return 0;
        }
        for (const std::string &e : errors) std::fprintf(stderr, "%s\n", e.c_str());
        return 1;
    }

    std::shared_ptr<const Config> config = std::make_shared<Config>();
    std::string text;
    if (!config_path.empty()) {
        std::vector<std::string> errors;
        std::string why;
        if (!read_file(config_path, text, why)) {
            log(Level::error, "%s", why.c_str());
            return 1;
        }
        config = parse_config(config_path, text, errors);
        if (!config) {
            for (const std::string &e : errors) log(Level::error, "%s", e.c_str());
            return 1;
        }
    }
    if (has_socket) {
        if (socket_path.empty() || socket_path.size() > 107) return usage_error("--socket needs a path of 1 to 107 bytes");
        overrides.socket_path = socket_path;
    }
    auto overridden = std::make_shared<Config>(*config);
    overrides.apply(*overridden);
    return run_server(std::move(overridden), std::move(text), std::move(overrides));
}
